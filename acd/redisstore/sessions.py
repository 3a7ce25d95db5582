"""The API's sessions and failed log-in counts in the deployment's Redis: what every node shares.

A session is kept as its token's SHA-256 (never the token) with its user, the fingerprint of the user's
password hash and the expiry as JSON (acd/sessions.py says why not the principal), and a
Redis TTL as long as its lifetime: Redis drops it when it expires, and `resolve` checks the expiry too
(a clock that reads ahead of Redis's, a key restored from an old file). Every failure to reach Redis is
StoreUnavailable (503), never InvalidToken: an outage must not log anybody out.
"""

from __future__ import annotations

import logging
import math

import redis.asyncio as aioredis

from acd.auth import (
    Directory,
    InvalidToken,
    Principal,
    new_token,
    read_session_record,
    session_record,
    token_key,
)
from acd.logins import Window
from acd.redisstore.client import SharedState

log = logging.getLogger("acd")

#: Sets the refusal mark of a counter's window, expiring with it; 1 if it was not set yet.
_FIRST_REFUSAL = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ttl) then return 1 end
return 0
"""


class RedisSessions:
    """`SessionStore` in the shared store: one key per session under the deployment's prefix."""

    def __init__(self, shared: SharedState, directory: Directory, lifetime: float) -> None:
        if not lifetime > 0:
            raise ValueError(f"token lifetime must be positive, not {lifetime}")
        self.shared = shared
        self.directory = directory
        self.lifetime = lifetime

    async def issue(self, principal: Principal, now: float) -> tuple[str, float]:
        token = new_token()
        expires = now + self.lifetime
        key = self.shared.keys.session(token_key(token))
        record = session_record(self.directory.session(principal), expires)
        ttl_ms = max(1, math.ceil(self.lifetime * 1000))
        await self.shared.call("session", lambda r: r.set(key, record, px=ttl_ms))
        return token, expires

    async def resolve(self, token: str, now: float) -> Principal:
        key = self.shared.keys.session(token_key(token))
        text = await self.shared.call("session", lambda r: r.get(key))
        if text is None:
            raise InvalidToken("unknown or expired token")
        try:
            session, expires = read_session_record(str(text))
        except ValueError as error:  # not written by a node: refused, and said for the operator
            log.warning("session %s in the shared store is unreadable: %s", key, error)
            raise InvalidToken("unknown or expired token") from None
        if expires <= now:
            raise InvalidToken("unknown or expired token")
        return self.directory.principal(session)

    async def revoke(self, token: str) -> None:
        key = self.shared.keys.session(token_key(token))
        await self.shared.call("session", lambda r: r.delete(key))


class RedisAttempts:
    """`AttemptStore` in the shared store: one counter per key, expiring when its window ends, so that the
    limits hold across the nodes (each node counting alone would multiply them) and Redis keeps no
    counter past its window."""

    def __init__(self, shared: SharedState) -> None:
        self.shared = shared

    async def read(self, keys: tuple[str, str], now: float) -> tuple[Window | None, Window | None]:
        names = [self.shared.keys.login(key) for key in keys]

        async def run(client: aioredis.Redis) -> list[object]:
            async with client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.get(name)
                    pipe.pttl(name)
                return list(await pipe.execute())

        raw = await self.shared.call("log-in counts", run)
        first, second = (_window(count, ttl, now) for count, ttl in zip(raw[::2], raw[1::2]))
        return first, second

    async def fail(self, keys: tuple[str, str], now: float, window: float) -> None:
        names = [self.shared.keys.login(key) for key in keys]
        window_ms = max(1, math.ceil(window * 1000))

        async def run(client: aioredis.Redis) -> None:
            async with client.pipeline(transaction=True) as pipe:  # MULTI: a window always has its expiry
                for name in names:
                    pipe.set(name, 0, nx=True, px=window_ms)
                    pipe.incr(name)
                await pipe.execute()

        await self.shared.call("log-in counts", run)

    async def clear(self, key: str) -> None:
        name = self.shared.keys.login(key)
        await self.shared.call("log-in counts", lambda r: r.delete(name, name + ":refused"))

    async def first_refusal(self, key: str, now: float) -> bool:
        name = self.shared.keys.login(key)
        found = await self.shared.call("log-in counts", lambda r: r.eval(_FIRST_REFUSAL, 2, name, name + ":refused"))
        return bool(found)


def _window(count: object, ttl: object, now: float) -> Window | None:
    if count is None or not isinstance(ttl, int) or ttl <= 0:
        return None  # no failure counted, or its window just ended
    try:
        return Window(int(str(count)), now + ttl / 1000)
    except ValueError:
        return None  # not a counter a node wrote

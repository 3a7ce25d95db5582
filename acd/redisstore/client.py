"""The Redis side of a node: the scripts, the change stream and the node leases. I/O only, no routing.

Redis errors become `StoreUnavailable` here, at the boundary, so that the API answers 503 with a clear
message and nothing above has to know redis-py.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ReadOnlyError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from acd.errors import AcdError
from acd.redisstore import scripts
from acd.redisstore.connect import connect
from acd.redisstore.schema import Keys

T = TypeVar("T")
#: What means "Redis cannot serve now" (down, loading its file, a replica after a failover), not "refused".
OUTAGES = (RedisConnectionError, RedisTimeoutError, ReadOnlyError)
#: How long a node that lost a commit keeps the next turn (others wait), should it never come back.
TURN_MS = 100
#: How long one call to Redis may take (connecting included) before the store is said unreachable.
COMMAND_TIMEOUT = 5.0


class StoreUnavailable(AcdError):
    """The shared store cannot be reached: nothing was changed; the request may be sent again."""

    status_code = 503
    error_id = "store-unavailable"


class StoreBusy(AcdError):
    """Other nodes kept committing first, past every retry: nothing was changed, try again."""

    status_code = 503
    error_id = "store-busy"


class StoreFault(AcdError):
    """The shared store answered with an error (a script refused its arguments): a fault, not an outage."""

    status_code = 500
    error_id = "store-fault"


@dataclass(frozen=True, slots=True)
class Entry:
    """Change n of the deployment, as the stream keeps it."""

    n: int
    text: str  # the change's decisions and who made it (JSON, read only if the entry is applied)
    writes: str  # the change itself, as the commit script carried it out

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.text)
        return value


@dataclass(frozen=True, slots=True)
class Reply:
    status: str  # "ok", "behind", "yield" (another node's turn) or "epoch"
    n: int = 0
    missing: tuple[Entry, ...] = ()
    epoch: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    counters: dict[str, str]
    tasks: dict[str, str]
    agents: dict[str, str]
    waiting: list[str]
    idle: list[str]
    idle_entries: dict[str, str]
    timers: list[str]
    queue_values: dict[str, str]


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2]))


def _entries(raw: list[Any]) -> tuple[Entry, ...]:
    out = []
    for entry_id, fields in raw:
        values = _pairs(fields) if isinstance(fields, list) else fields
        out.append(Entry(int(str(entry_id).split("-")[0]), values["c"], values.get("w", "")))
    return tuple(out)


class SharedState:
    """One node's connections to the deployment's Redis."""

    def __init__(
        self,
        url: str,
        deployment: str,
        node: str,
        *,
        stream_length: int = 100_000,
        command_timeout: float = COMMAND_TIMEOUT,
    ) -> None:
        self.url = url
        self.keys = Keys(deployment)
        self.node = node
        self.stream_length = stream_length
        self.command_timeout = command_timeout
        # No retries inside redis-py: a failed command is this node's to handle (503, then the follower
        # tries again), and redis-py's retry would also swallow the cancellation of a blocked read.
        # No socket timeout either (redis-py's default is 5 s): with one, redis-py sends each command
        # through asyncio.wait_for, which on Python 3.11 drops a cancellation that arrives as the send
        # completes (CPython gh-86296, fixed in 3.12): the command then runs to its end as if nothing
        # happened, and a loop told to stop goes on. Each call is bounded in `_call` instead.
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_connect_timeout": 2.0,
            "socket_timeout": None,
            "retry": Retry(NoBackoff(), 0),
        }
        self._client = connect(url, **options)
        # Blocking reads of the stream wait longer than any command should: their own connection.
        self._follower = connect(url, **options)
        #: Whether the last command reached Redis: what a new call is told (503) without waiting for a timeout.
        self.reachable = True
        self._commit = self._client.register_script(scripts.COMMIT)
        self._init = self._client.register_script(scripts.INIT)
        self._snapshot = self._client.register_script(scripts.SNAPSHOT)
        # What every commit sends the same, encoded once: redis-py packs bytes as they are, and encoding
        # a commit's twenty arguments costs as much as a third of the round trip's own Python.
        self._data_keys = tuple(key.encode() for key in self.keys.data())
        self._node_args = (str(stream_length).encode(), node.encode(), str(TURN_MS).encode())

    async def close(self) -> None:
        await self._client.aclose()
        await self._follower.aclose()

    async def _call(self, what: str, action: Callable[[], Awaitable[T]], waits: float = 0.0) -> T:
        """`action`'s result, given up `command_timeout` seconds (plus the `waits` it asks Redis for) after
        it began; Redis errors converted (see the module)."""
        within = self.command_timeout + waits
        try:
            # asyncio.timeout, not wait_for: on 3.11 it never drops a cancellation from outside.
            async with asyncio.timeout(within):
                result = await action()
        except TimeoutError as exc:
            self.reachable = False
            raise StoreUnavailable(
                f"the shared store at {self.url} did not answer {what} within {within:g} s; try again",
                store=self.url,
            ) from exc
        except (RedisError, OSError) as exc:
            if isinstance(exc, RedisError) and not isinstance(exc, OUTAGES):
                # Redis answered, and refused: not an outage to wait out, a fault to be seen.
                raise StoreFault(f"the shared store at {self.url} refused {what}: {exc}", store=self.url) from exc
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # redis-py reports a command cancelled mid-way as a lost connection: the cancel comes first,
                # or a loop that retries while the store is unreachable would never end.
                raise asyncio.CancelledError from exc
            self.reachable = False
            raise StoreUnavailable(
                f"the shared store at {self.url} cannot be reached ({what}: {exc}); nothing was changed, try again",
                store=self.url,
            ) from exc
        self.reachable = True
        return result

    async def call(self, what: str, command: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """Run `command` on this node's client with the same errors as the node's own commands (503 while the
        store cannot be reached): for the API's sessions and log-in counts, which live beside the state."""
        return await self._call(what, lambda: command(self._client))

    async def open(self) -> str:
        """The deployment's epoch, creating an empty deployment if there is none."""
        epoch = secrets.token_hex(8)
        return str(await self._call("open", lambda: self.evalsha(self._init, self._data_keys, epoch)))

    async def snapshot(self) -> Snapshot:
        raw = await self._call("snapshot", lambda: self.evalsha(self._snapshot, self._data_keys))
        counters, tasks, agents, waiting, idle, idle_entries, timers, values = raw
        return Snapshot(
            _pairs(counters),
            _pairs(tasks),
            _pairs(agents),
            waiting[::2],
            idle[::2],
            _pairs(idle_entries),
            list(timers),
            _pairs(values),
        )

    async def evalsha(self, script: AsyncScript, keys: tuple[bytes, ...], *args: str | bytes) -> Any:
        """Run `script`: redis-py's `Script.__call__` without its per-call conversions; no error handling."""
        try:
            return await self._client.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:  # Redis restarted or flushed its scripts since this node loaded them
            script.sha = await self._client.script_load(script.script)
            return await self._client.evalsha(script.sha, len(keys), *keys, *args)

    async def commit(self, position: int, epoch: str, payload: str, writes: str, window: int = 1000) -> Reply:
        stream_length, node, turn = self._node_args
        args = (str(position), epoch, payload, stream_length, str(window), node, turn, writes)
        raw = await self._call("commit", lambda: self.evalsha(self._commit, self._data_keys, *args))
        if isinstance(raw, int):
            return Reply("ok", raw)
        if raw[0] == "behind":
            return Reply("behind", int(raw[1]), _entries(raw[2]))
        if raw[0] == "yield":
            return Reply("yield", int(raw[1]))
        return Reply("epoch", epoch=str(raw[1]))

    async def read(self, after: int, count: int = 1000) -> tuple[Entry, ...]:
        raw: Any = await self._call(
            "read", lambda: self._client.xrange(self.keys.changes, f"{after + 1}-1", "+", count=count)
        )
        return _entries(raw)

    async def wait(self, after: int, seconds: float) -> tuple[Entry, ...]:
        """Changes after `after`, waiting up to `seconds` for one to come."""
        raw: Any = await self._call(
            "follow",
            lambda: self._follower.xread({self.keys.changes: f"{after}-1"}, count=1000, block=int(seconds * 1000)),
            waits=seconds,
        )
        return _entries(raw[0][1]) if raw else ()

    async def current(self) -> tuple[str | None, int]:
        """The epoch and the last change Redis holds now: another epoch than a node's means the state was
        lost or replaced; an earlier change, that Redis lost changes the node saw (a failover to a replica
        that lagged, a restart from a file that missed the last writes)."""
        epoch, n = await self._call("epoch", lambda: self._client.hmget(self.keys.counters, ["epoch", "n"]))
        return (None if epoch is None else str(epoch)), int(n or 0)

    async def ping(self) -> None:
        await self._call("ping", self._client.ping)

    # ---------------------------------------------------------------------------- node leases

    async def renew_lease(self, seconds: float, now: float) -> None:
        """Say this node is alive for `seconds` more, and that it belongs to the deployment."""

        async def renew() -> None:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.set(self.keys.lease(self.node), repr(now), px=int(seconds * 1000))
                pipe.hset(self.keys.nodes, self.node, repr(now))
                await pipe.execute()

        await self._call("lease", renew)

    async def lost_nodes(self) -> list[str]:
        """The deployment's other nodes whose lease expired."""

        async def find() -> list[str]:
            nodes = [str(n) for n in await self._client.hkeys(self.keys.nodes) if n != self.node]
            if not nodes:
                return []
            async with self._client.pipeline(transaction=False) as pipe:
                for node in nodes:
                    pipe.exists(self.keys.lease(node))
                alive = await pipe.execute()
            return [node for node, exists in zip(nodes, alive) if not exists]

        return await self._call("leases", find)

    async def forget_node(self, node: str) -> None:
        await self._call("forget", lambda: self._client.hdel(self.keys.nodes, node))

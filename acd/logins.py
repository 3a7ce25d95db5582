"""How many failed log-ins the API lets through, per user and per source address. Pure: the time comes in.

Contract: a user who failed `per_user` times, or an address that failed `per_address` times, within the
current window is refused until that window ends — before any password is checked, so that guessing
costs the ACD nothing past the limit. A window opens at a key's first failure and lasts `window`
seconds (a fixed window: failures do not extend it). A success clears the user's count, not the
address's: one user of an address getting in says nothing of the guesses made from it.

Counting and the decision are split: `Window` is one key's count; `LoginLimits.refusal` decides from the
counts; `AttemptCounter` keeps counts in memory for one node, bounded in size. A shared store keeps them
for every node (acd/redisstore/sessions.py) behind the same `AttemptStore` protocol.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

#: Keys one node's memory keeps at most: a flood of distinct users or addresses evicts the oldest windows
#: rather than grow the process. About 150 bytes a key.
MEMORY_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Window:
    """The failures counted for one key (a user, an address) in its current window, and when it ends."""

    failures: int
    ends: float


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an attempt is refused: which limit (`user` or `address`), its key, and when to try again."""

    limit: str
    key: str
    retry_after: int  # whole seconds, at least 1 (what an HTTP Retry-After says)


def user_key(user: str) -> str:
    return f"user:{user}"


def address_group(address: str) -> str:
    """What an address is counted as: an IPv4 address itself, an IPv6 one by its /64 (a subscriber gets a
    whole /64, and every address of it for nothing: counted one by one, the limit would never be reached),
    an IPv4-mapped IPv6 address as the IPv4 address it is. Anything else (`unknown`) as given."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(parsed), 64), strict=False))  # int(): any %zone dropped
    return str(parsed)


def address_key(address: str) -> str:
    return f"address:{address_group(address)}"


def keys(user: str, address: str) -> tuple[str, str]:
    """The two keys an attempt counts on, in the order `LoginLimits.refusal` reads their windows."""
    return address_key(address), user_key(user)


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """The limits of settings.yaml: failures per user and per address within `window` seconds."""

    per_user: int
    per_address: int
    window: float

    def __post_init__(self) -> None:
        if self.per_user < 1 or self.per_address < 1:
            raise ValueError("login limits must allow at least one failure")
        if not self.window > 0:
            raise ValueError(f"the login window must be positive, not {self.window}")

    def refusal(
        self, user: str, address: str, counts: tuple[Window | None, Window | None], now: float
    ) -> Refusal | None:
        """None if an attempt of `user` from `address` may be checked, given the windows of `keys(user, address)`."""
        limits = zip(("address", "user"), keys(user, address), (self.per_address, self.per_user), counts)
        reached = [
            (limit, key, window)
            for limit, key, allowed, window in limits
            if window is not None and window.ends > now and window.failures >= allowed
        ]
        if not reached:
            return None
        # The address first: its window covers every user tried from it. Retry once every reached one ends.
        limit, key, _ = reached[0]
        ends = max(window.ends for _, _, window in reached)
        return Refusal(limit, key, max(1, math.ceil(ends - now)))


class AttemptStore(Protocol):
    """Where failed attempts are counted: this node's memory, or the shared store of every node."""

    async def read(self, keys: tuple[str, str], now: float) -> tuple[Window | None, Window | None]:
        """The current windows of two keys (None: no failure counted in a window still open)."""
        ...

    async def fail(self, keys: tuple[str, str], now: float, window: float) -> None:
        """Count a failure on both keys, opening a window of `window` seconds where none is open."""
        ...

    async def clear(self, key: str) -> None:
        """Forget a key's failures (a successful log-in clears its user's)."""
        ...

    async def first_refusal(self, key: str, now: float) -> bool:
        """True the first time this is asked in the key's current window: one audit entry per window."""
        ...


class AttemptCounter:
    """Failure windows in memory, at most `capacity` keys: the expired go first, then the oldest."""

    def __init__(self, capacity: int = MEMORY_KEYS) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        # key -> [failures, end of window, refusal noted]; in the order the windows opened, which, all
        # windows being as long, is the order they end: expired ones are at the front.
        self._windows: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    def _current(self, key: str, now: float) -> list[float] | None:
        found = self._windows.get(key)
        if found is not None and found[1] <= now:
            del self._windows[key]
            return None
        return found

    def read(self, key: str, now: float) -> Window | None:
        found = self._current(key, now)
        return None if found is None else Window(int(found[0]), found[1])

    def fail(self, key: str, now: float, window: float) -> Window:
        found = self._current(key, now)
        if found is None:
            self._purge(now)
            found = self._windows[key] = [0, now + window, 0]
        found[0] += 1
        return Window(int(found[0]), found[1])

    def clear(self, key: str) -> None:
        self._windows.pop(key, None)

    def first_refusal(self, key: str, now: float) -> bool:
        found = self._current(key, now)
        if found is None or found[2]:
            return False
        found[2] = 1
        return True

    def _purge(self, now: float) -> None:
        """Make room for one more key."""
        while self._windows:
            key, (_, ends, _) = next(iter(self._windows.items()))
            if ends > now and len(self._windows) < self.capacity:
                return
            del self._windows[key]  # expired, or the oldest window of a full counter


class MemoryAttempts:
    """`AttemptStore` for one node: an `AttemptCounter` behind the async protocol."""

    def __init__(self, counter: AttemptCounter | None = None) -> None:
        self.counter = counter or AttemptCounter()

    async def read(self, keys: tuple[str, str], now: float) -> tuple[Window | None, Window | None]:
        return self.counter.read(keys[0], now), self.counter.read(keys[1], now)

    async def fail(self, keys: tuple[str, str], now: float, window: float) -> None:
        for key in keys:
            self.counter.fail(key, now, window)

    async def clear(self, key: str) -> None:
        self.counter.clear(key)

    async def first_refusal(self, key: str, now: float) -> bool:
        return self.counter.first_refusal(key, now)

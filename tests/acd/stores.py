"""The queue core on either store, behind the router's own synchronous `process(event, now)`.

`SharedRouter` runs the real node engine (replica, recorder, commit script) against a real redis-server,
so that the router's tests prove the same behaviour on both stores; `reloaded()` gives the state as a
node starting now would load it from Redis, to check that Redis holds what the replica holds.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from acd.decisions import Decision
from acd.deployment.models import Deployment
from acd.events import Event
from acd.redisstore.client import SharedState
from acd.redisstore.engine import SharedEngine, replica_from
from acd.redisstore.schema import apply_writes
from acd.router import Applied, Router
from acd.store import MemoryStore
from acd.topology import Topology, build_agents

_names = itertools.count()


class SharedRouter:
    def __init__(self, config: Deployment, url: str) -> None:
        topology = Topology.compile(config)
        self._runner = asyncio.Runner()
        self.shared = SharedState(url, f"test-{next(_names)}", "node-test")
        router = Router(topology, MemoryStore(), skills=frozenset(s.id for s in config.skills))
        self.engine = SharedEngine(self.shared, router, build_agents(config, topology), lambda d, f: None)
        self._runner.run(self.engine.load())
        self._runner.run(self.engine.add_missing_agents(0.0))

    @property
    def store(self) -> MemoryStore:
        return self.engine.store

    def process(self, event: Event, now: float) -> list[Decision]:
        return self._runner.run(self.engine.process(event, lambda: now))

    def apply(self, event: Event, now: float) -> Applied:
        return self._runner.run(self.engine.apply_event(event, lambda: now))

    def reloaded(self) -> MemoryStore:
        return replica_from(self._runner.run(self.shared.snapshot()), self.engine.definitions)[0]

    def replayed(self) -> MemoryStore:
        """The state as a node that followed the change stream from the start holds it."""
        store = MemoryStore()
        after = 0
        while entries := self._runner.run(self.shared.read(after)):
            for entry in entries:
                apply_writes(store, entry.writes, self.engine.definitions)
                after = entry.n
        return store

    def close(self) -> None:
        self._runner.run(self.shared.close())
        self._runner.close()


RouterFactory = Callable[..., "Router | SharedRouter"]


def canonical(value: object) -> object:
    """A comparable form of a store's content: sets sorted, dicts as sorted pairs, records as field tuples."""
    if isinstance(value, (set, frozenset)):
        return sorted(canonical(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, dict):
        return sorted((repr(k), canonical(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return [(name, canonical(getattr(value, name))) for name in value.__dataclass_fields__]
    return repr(value)


def state(store: MemoryStore) -> object:
    """The store's content; the timer heap's layout depends on its history, its content does not."""
    content = dict(store.__dict__)
    content["_timers"] = sorted(content["_timers"])
    return canonical(content)

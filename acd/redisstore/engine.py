"""Running the queue core on a node that shares its state with others through Redis.

Each node keeps the whole state in memory (its replica) and runs the same router as a single node. An
event is processed on the replica through a `ChangeRecorder`; the recorded change is committed by one
script that succeeds only if no other node committed since the replica's last change. If another did,
the node undoes its work, applies the changes it missed (the script returns them) and processes the
event again. A follower task applies the other nodes' changes as they come, so that offers, statistics
and WebSocket feeds on this node show what every node decided.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from acd.changes import Change, ChangeRecorder, copy_agent
from acd.decisions import Decision
from acd.events import ClockTicked, Event
from acd.model import Agent
from acd.redisstore.client import Entry, SharedState, Snapshot, StoreBusy
from acd.redisstore.schema import RS, apply_writes, redis_writes, set_field
from acd.router import Applied, Router
from acd.store import MemoryStore

log = logging.getLogger("acd.shared")

#: Commits refused in a row before the event is given up with 503 (each refusal means progress elsewhere).
MAX_ATTEMPTS = 200
#: The pause before trying again when another node has the turn.
YIELD_PAUSE = 0.001

_payload_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
Publish = Callable[[list[Decision], int | None], None]


def replica_from(snapshot: Snapshot, definitions: Mapping[str, Agent]) -> tuple[MemoryStore, float, int]:
    """A replica holding the snapshot's state, with the core's latest time and the next event number."""
    store = MemoryStore()
    counters: dict[str, str] = {}
    for agent_id in [a for a in snapshot.agents if a not in definitions]:
        log.warning("agent %s is in the shared state but not in this configuration: left out", agent_id)
    # Each item as the write that put it there would set it: one reading of the stored text, in schema.py.
    items: list[tuple[str, Iterable[tuple[str, str]]]] = [
        ("tasks", snapshot.tasks.items()),
        ("agents", ((a, text) for a, text in snapshot.agents.items() if a in definitions)),
        ("waiting", ((field, "1") for field in snapshot.waiting)),
        ("idle", ((field, "1") for field in snapshot.idle)),
        ("idle_entries", snapshot.idle_entries.items()),
        ("timers", ((timer, timer) for timer in snapshot.timers)),
        ("queue_values", snapshot.queue_values.items()),
        ("counters", snapshot.counters.items()),
    ]
    for name, pairs in items:
        for field, value in pairs:
            set_field(store, name, field, value, definitions, counters)
    return store, float(counters.get("latest", 0)), int(counters.get("events", 1))


class SharedEngine:
    """The router on this node's replica, committing to and following the shared store."""

    def __init__(self, shared: SharedState, router: Router, agents: list[Agent], publish: Publish) -> None:
        self.shared = shared
        self.router = router
        self.agents = agents  # as the deployment defines them, for agents the shared state lacks
        self.definitions = {agent.id: agent for agent in agents}
        self.publish = publish
        self.store = MemoryStore()
        self.recorder = ChangeRecorder(self.store)
        self.position = 0  # the last change applied to the replica
        self.epoch = ""
        self.latest = 0.0
        self.next_event = 1  # the number the next decision committed by any node takes
        self._published = 1  # the first number not yet given to this node's log (a reload replays)
        self._node_text = _payload_text(shared.node)

    # ------------------------------------------------------------------------------ loading

    async def load(self) -> None:
        """Take the shared state as it is now (at start, or when it was reset under us)."""
        self.epoch = await self.shared.open()
        snapshot = await self.shared.snapshot()
        self.store, self.latest, next_event = replica_from(snapshot, self.definitions)
        # The event numbering never goes back, even when Redis lost changes (its counter with them): this
        # node's log already holds the numbers it published, and its next commit moves Redis's counter on.
        self.next_event = max(next_event, self._published)
        self.recorder = ChangeRecorder(self.store)
        self.router.store = self.recorder
        self.position = int(snapshot.counters["n"])
        self.epoch = snapshot.counters["epoch"]
        log.info("loaded the shared state at change %d (%d tasks)", self.position, len(snapshot.tasks))

    async def history(self) -> None:
        """Replay the decisions the stream still holds into this node's log and statistics."""
        after = 0
        while after < self.position:
            entries = await self.shared.read(after)
            if not entries:
                break
            for entry in entries:
                if entry.n > self.position:
                    return
                self._publish(entry.payload)
                after = entry.n

    async def add_missing_agents(self, now: float) -> None:
        """Agents of the configuration that the shared state does not hold yet (a new agent, a first start)."""
        for _ in range(MAX_ATTEMPTS):
            missing = [agent for agent in self.agents if self.store.agent(agent.id) is None]
            if not missing:
                return
            for agent in missing:
                self.recorder.put_agent(copy_agent(agent))
            if await self._try(self.recorder.change(max(now, self.latest)), []):
                return
        raise StoreBusy("the shared store is too busy to take this node's agents; try again")

    # --------------------------------------------------------------------------- processing

    async def process(self, event: Event, now: Callable[[], float]) -> list[Decision]:
        """Process `event` and commit its change; an `AcdError` is raised only once the state was fresh."""
        applied = await self.apply_event(event, now)
        if applied.refusal is not None:
            raise applied.refusal
        return applied.decisions

    async def apply_event(self, event: Event, now: Callable[[], float]) -> Applied:
        """Process `event` and commit its change: its decisions and its refusal, as `Router.apply` says them."""
        (applied,) = await self.process_batch([event], now)
        return applied

    async def process_batch(self, events: list[Event], now: Callable[[], float]) -> list[Applied]:
        """Process `events` in order and commit them as one change (group commit): one round trip for all.

        Each event gets its decisions and refusal, if any, once the commit shows the replica was fresh. If
        the commit is refused, the whole batch is processed again on the caught-up state.
        """
        for _ in range(MAX_ATTEMPTS):
            at = max(now(), self.latest)
            outcomes: list[Applied] = []
            decisions: list[Decision] = []
            for event in events:
                try:
                    applied = self.router.apply(event, at)
                except Exception:
                    self.recorder.rollback()  # a fault of the router's: the replica stays as Redis has it
                    raise
                outcomes.append(applied)
                decisions += applied.decisions  # a refused event's timers fired all the same
            change = self.recorder.change(at)
            if not change and not decisions and all(isinstance(e, ClockTicked) for e in events):
                self.recorder.forget()
                return outcomes  # nothing was due on this replica: no need to ask the store
            if await self._try(change, decisions):
                return outcomes
        raise StoreBusy("too many concurrent changes in the shared store; nothing was changed, try again")

    async def _try(self, change: Change, decisions: list[Decision]) -> bool:
        """Commit `change`; on refusal undo it and catch up, and say False."""
        payload = writes = ""
        if change or decisions:
            rows = _payload_text([d.as_row() for d in decisions])
            payload = f'{{"first_event":{self.next_event},"node":{self._node_text},"decisions":{rows}}}'  # no dict
            counters = {"latest": repr(change.latest), "events": str(self.next_event + len(decisions))}
            writes = RS.join(redis_writes(change, counters))
        try:
            reply = await self.shared.commit(self.position, self.epoch, payload, writes)
        except BaseException:  # unreachable, refused, or cancelled (a node stopping) before the reply was read
            self.recorder.rollback()  # as Redis is known to be: the follower brings the change if it was made
            raise
        if reply.status == "ok":
            self.recorder.forget()
            if payload:
                self.position = reply.n
                self.latest = max(self.latest, change.latest)
                self._publish_from(decisions, self.next_event)
                self.next_event += len(decisions)
            return True
        self.recorder.rollback()
        if reply.status == "yield":
            await asyncio.sleep(YIELD_PAUSE)  # the node whose turn it is commits meanwhile
        elif reply.status == "behind" and reply.n < self.position:
            # Not another node's progress: Redis lost changes this node saw (a failover, a restart).
            log.error(
                "the shared store is at change %d, before this node's %d: loading it again", reply.n, self.position
            )
            await self.load()
            await self.add_missing_agents(self.latest)
        elif reply.status == "behind":
            await self._catch_up_with(reply.missing, reply.n)
        else:
            log.error("the shared state was reset (epoch %s, was %s): loading it again", reply.epoch, self.epoch)
            await self.load()
            await self.add_missing_agents(self.latest)
        return False

    # ---------------------------------------------------------------------------- following

    async def check_state(self, now: float) -> None:
        """After an outage: if Redis came back without the state, or without the last changes this node
        saw, start again from what it holds (otherwise this node would follow a stream it is ahead of)."""
        epoch, n = await self.shared.current()
        if epoch != self.epoch:
            log.error("the shared state was lost while the store was unreachable: loading what it holds now")
        elif n < self.position:
            log.error(
                "the shared store is back at change %d, before this node's %d: loading it again", n, self.position
            )
        else:
            return
        await self.load()
        await self.add_missing_agents(now)

    async def catch_up(self) -> None:
        """Apply every change committed so far by any node."""
        await self._catch_up_with((), None)

    async def catch_up_with(self, entries: tuple[Entry, ...]) -> None:
        """Apply `entries` (read from the stream), then whatever came after them."""
        await self._catch_up_with(entries, None)

    async def _catch_up_with(self, entries: tuple[Entry, ...], target: int | None) -> None:
        while True:
            for entry in entries:
                if entry.n <= self.position:
                    continue
                if entry.n != self.position + 1:  # the stream was trimmed past what this node has
                    log.warning("change %d missed (at %d): loading the whole state", entry.n, self.position)
                    await self.load()
                    return
                self.apply(entry)
            if target is not None and self.position >= target:
                return
            entries = await self.shared.read(self.position)
            if not entries:
                if target is not None and self.position < target:
                    await self.load()
                return

    def apply(self, entry: Entry) -> None:
        counters = apply_writes(self.store, entry.writes, self.definitions)
        self.position = entry.n
        self.latest = max(self.latest, float(counters.get("latest", self.latest)))
        self._publish(entry.payload)

    def _publish(self, payload: dict[str, Any]) -> None:
        decisions = [Decision.from_row(d) for d in payload["decisions"]]
        first = int(payload["first_event"])
        self._publish_from(decisions, first)
        self.next_event = max(self.next_event, first + len(decisions))

    def _publish_from(self, decisions: list[Decision], first: int) -> None:
        """Give the log, statistics and feeds the decisions numbered from `first` they have not had yet."""
        seen = max(0, self._published - first)
        if seen < len(decisions):
            self.publish(decisions[seen:], first + seen)
        self._published = max(self._published, first + len(decisions))

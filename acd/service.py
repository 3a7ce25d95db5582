"""The queue core's async driver: feeds the router, fires its timers on time, publishes what it decides.

Thin by design: read an event, give it to the pure router with the time, then journal, count and
publish the decisions. The only task it owns is the ticker, which wakes when the next timer is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.clock import SYSTEM_CLOCK, Clock
from acd.decisions import Decision
from acd.deployment.models import Deployment
from acd.errors import AcdError
from acd.estimate import WaitEstimate, effective_agents, estimate_wait
from acd.events import ClockTicked, Event, NodeLost
from acd.journal import Entry, Journal
from acd.matching import task_key
from acd.model import Place, Presence, Task
from acd.redisstore.client import SharedState, StoreUnavailable
from acd.router import Applied, Router
from acd.stats import Lookups, Statistics
from acd.store import MemoryStore
from acd.topology import Topology, build_agents

if TYPE_CHECKING:
    from acd.redisstore.engine import SharedEngine

log = logging.getLogger("acd")

#: The ticker looks at the clock at least this often, so that opening hours and a changed clock are seen.
TICK_CEILING = 1.0
#: How long one blocking read of the shared stream waits; and the pauses while the store is unreachable.
FOLLOW_WAIT = 5.0
FOLLOW_RETRY_MIN, FOLLOW_RETRY_MAX = 0.1, 2.0
#: Timers one tick fires at most; more due are fired by the next tick, at once.
TIMERS_PER_TICK = 200
#: Events committed together at most: bounds a change's size (and the time Redis spends on one script).
MAX_BATCH = 64
#: A node's lease lasts LEASE_SECONDS and is renewed every LEASE_RENEWAL: a node that stops is known lost
#: within about LEASE_SECONDS, and one slow renewal is not taken for a death.
LEASE_SECONDS, LEASE_RENEWAL = 5.0, 1.0
#: Decisions a slow WebSocket subscriber may fall behind before it is cut off.
SUBSCRIBER_BACKLOG = 10_000


@dataclass(eq=False)
class Subscription:
    """One live feed: the decisions its filter lets through, in order."""

    accepts: Callable[[Entry], bool]
    queue: asyncio.Queue[Entry | None] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_BACKLOG))
    overflowed: bool = False


class AcdService:
    def __init__(
        self,
        deployment: Deployment,
        *,
        clock: Clock = SYSTEM_CLOCK,
        shared: SharedState | None = None,
    ) -> None:
        """With `shared`, the state lives in Redis and this node keeps a replica of it; else in memory only."""
        self.deployment = deployment
        self.topology = Topology.compile(deployment)
        agents = build_agents(deployment, self.topology)
        self._store = MemoryStore()
        for agent in agents:
            self._store.put_agent(agent)
        self.router = Router(self.topology, self._store, skills=frozenset(s.id for s in deployment.skills))
        self.engine: SharedEngine | None = None
        if shared is not None:
            from acd.redisstore.engine import SharedEngine

            self.engine = SharedEngine(shared, self.router, agents, self._record)
        self.clock = clock
        self.journal = Journal()
        self.stats = Statistics(self._lookups(), deployment.settings.timezone)
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._turn = asyncio.Lock()
        self._inbox: asyncio.Queue[tuple[Event, asyncio.Future[list[Decision]]]] = asyncio.Queue()
        self._ticker: asyncio.Task[None] | None = None

    @property
    def node(self) -> str | None:
        """This node's id where several share the state; None when it runs alone."""
        return self.engine.shared.node if self.engine is not None else None

    @property
    def store(self) -> MemoryStore:
        """The state as this node sees it: the only copy, or this node's replica of the shared state."""
        return self.engine.store if self.engine is not None else self._store

    def _lookups(self) -> Lookups:
        def department(task_id: str) -> str | None:
            task = self.store.task(task_id)
            return task.attributes.get("department") if task else None

        def agent_team_site(agent_id: str) -> tuple[str, str] | None:
            agent = self.store.agent(agent_id)
            return (agent.team, agent.site) if agent else None

        queues = self.topology.queues
        return Lookups(
            department=department,
            agent_team_site=agent_team_site,
            queue_site=lambda q: queues[q].site if q in queues else None,
            service_level=lambda q: queues[q].service_level,
        )

    # ------------------------------------------------------------------------------ lifecycle

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[AcdService]:
        """Run the ticker (and the follower of the shared store) for the duration of the block."""
        if self.engine is not None:
            await self._join(self.engine)
        try:
            async with asyncio.TaskGroup() as group:
                owned = [group.create_task(self._tick_forever())]
                if self.engine is not None:
                    owned.append(group.create_task(self._commit_forever(self.engine)))
                    owned.append(group.create_task(self._follow_forever(self.engine)))
                    owned.append(group.create_task(self._watch_nodes_forever(self.engine.shared)))
                try:
                    yield self
                finally:
                    for task in owned:
                        task.cancel()
                    for subscription in list(self._subscriptions):
                        subscription.queue.put_nowait(None)
        finally:
            if self.engine is not None:
                await self.engine.shared.close()

    async def _commit_forever(self, engine: SharedEngine) -> None:
        """Take every event waiting, process them in order on the replica, commit them in one round trip.

        Under load this is what lets one node make thousands of decisions a second: the round trip to Redis
        is paid once per batch, not once per event. Its own task, so that a caller who goes away (a client
        that disconnects) never leaves the others of its batch without an answer.
        """
        while True:
            _stop_if_cancelled()  # else a lost cancellation leaves it waiting for events that never come
            batch = [await self._inbox.get()]
            while len(batch) < MAX_BATCH and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            try:
                async with self._turn:
                    outcomes = await engine.process_batch([event for event, _ in batch], self.clock.time)
            except AcdError as error:  # the store unreachable or busy: every event of the batch is refused
                outcomes = [Applied([], error)] * len(batch)
            except Exception as fault:  # a fault, not a refusal: said loudly, the node goes on
                log.exception("events %s failed", [event for event, _ in batch])
                for _, done in batch:
                    if not done.done():
                        done.set_exception(fault)
                continue
            self._wake.set()  # a new timer may be due sooner than the ticker thinks
            for (_, done), outcome in zip(batch, outcomes):
                if done.done():
                    continue  # its caller went away
                if outcome.refusal is not None:
                    done.set_exception(outcome.refusal)
                else:
                    done.set_result(outcome.decisions)

    async def _join(self, engine: SharedEngine) -> None:
        """Load the shared state, waiting for the store if it cannot be reached yet (started before Redis)."""
        pause = FOLLOW_RETRY_MIN
        while True:
            try:
                await engine.load()
                await engine.add_missing_agents(self.clock.time())
                await engine.history()
                return
            except StoreUnavailable as error:
                log.warning("waiting for the shared store: %s", error.message)
                await asyncio.sleep(pause)
                pause = min(pause * 2, FOLLOW_RETRY_MAX)

    async def _follow_forever(self, engine: SharedEngine) -> None:
        """Apply the other nodes' changes as they come; wait and retry while the store is unreachable."""
        pause = FOLLOW_RETRY_MIN
        while True:
            _stop_if_cancelled()
            try:
                if pause > FOLLOW_RETRY_MIN:  # the store is back after an outage: is it the same state?
                    async with self._turn:
                        await engine.check_state(self.clock.time())
                    pause = FOLLOW_RETRY_MIN
                entries = await engine.shared.wait(engine.position, FOLLOW_WAIT)
                async with self._turn:
                    await engine.catch_up_with(entries)
                self._wake.set()  # their changes may have set timers
            except StoreUnavailable as error:
                log.warning("%s", error.message)
                await asyncio.sleep(pause)
                pause = min(pause * 2, FOLLOW_RETRY_MAX)  # above the minimum: an outage to check after

    async def _watch_nodes_forever(self, shared: SharedState) -> None:
        """Keep this node's lease; take back what went through a node whose lease expired."""
        while True:
            _stop_if_cancelled()
            try:
                await shared.renew_lease(LEASE_SECONDS, self.clock.time())
                for node in await shared.lost_nodes():
                    log.warning("node %s lost its lease: its agents' offers go back to their queues", node)
                    await self.submit(NodeLost(node))
                    await shared.forget_node(node)
            except AcdError as error:
                log.warning("node leases not checked: %s", error.message)
            await asyncio.sleep(LEASE_RENEWAL)

    async def _tick_forever(self) -> None:
        while True:
            _stop_if_cancelled()
            try:
                await self.submit(ClockTicked(TIMERS_PER_TICK))
            except AcdError as error:  # the store unreachable or busy: said, and tried again at the next tick
                log.warning("timers not fired: %s", error.message)
            due = self.store.next_due()
            delay = TICK_CEILING if due is None else min(TICK_CEILING, max(0.0, due - self.clock.time()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # not wait_for, which can drop a cancellation on 3.11
                    await self._wake.wait()

    # ---------------------------------------------------------------------------------- events

    async def submit(self, event: Event) -> list[Decision]:
        """Apply one event now; an `AcdError` means refused, with no change beyond fired timers."""
        if self.engine is not None:
            # To the committer, which commits the events waiting together as one change.
            done: asyncio.Future[list[Decision]] = asyncio.get_running_loop().create_future()
            self._inbox.put_nowait((event, done))
            return await done
        async with self._turn:  # one event at a time, in the order they came
            return self._process(event)

    async def catch_up(self) -> None:
        """Before a read: apply what other nodes committed, so that the answer is as fresh as a write's."""
        if self.engine is not None:
            async with self._turn:
                await self.engine.catch_up()

    def _process(self, event: Event) -> list[Decision]:
        applied = self.router.apply(event, self.clock.time())  # the router's time never steps back
        self._record(applied.decisions)  # a refused event's timers fired all the same
        if applied.refusal is not None:
            raise applied.refusal
        self._wake.set()  # a new timer may be due sooner than the ticker thinks
        return applied.decisions

    def _record(self, decisions: list[Decision], first_id: int | None = None) -> None:
        if not decisions:
            return
        self.stats.apply(decisions)
        for entry in self.journal.append(decisions, first_id):
            for subscription in list(self._subscriptions):
                if subscription.overflowed or not subscription.accepts(entry):
                    continue
                try:
                    subscription.queue.put_nowait(entry)
                except asyncio.QueueFull:
                    subscription.overflowed = True  # the feed ends; the client reconnects and reads the log
                    self._subscriptions.discard(subscription)

    def subscribe(self, accepts: Callable[[Entry], bool]) -> Subscription:
        subscription = Subscription(accepts)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    # ----------------------------------------------------------------------------------- reads

    def estimate(self, task: Task) -> WaitEstimate | None:
        if task.place is not Place.QUEUED:
            return None
        return self._estimate(task.queue, self.store.position(task.queue, task_key(task)) + 1)

    def estimate_arrival(self, queue: str) -> WaitEstimate:
        """The wait of a task that would enter `queue` now, behind every task waiting there."""
        return self._estimate(queue, len(self.store.waiting(queue)) + 1)

    def _estimate(self, queue: str, position: int) -> WaitEstimate:
        busy = {name for name in self.topology.queues if self.store.waiting(name)}
        agents = effective_agents(queue, list(self.store.agents()), busy)
        handle_time = self.store.queue_value(queue, "handle_time", self.topology.queues[queue].handle_time)
        return estimate_wait(position, handle_time, agents)

    def agents_serving(self, queue: str) -> int:
        """Agents logged in (ready or not) who serve `queue` at some overflow step."""
        agents = self.store.agents()
        return sum(1 for agent in agents if agent.presence is not Presence.OFFLINE and queue in agent.queue_steps)


def _stop_if_cancelled() -> None:
    """Raise the pending cancellation of this task, if any.

    A cancellation can be lost below the service: Python 3.11's asyncio.wait_for returns the result of
    what it waited for when the cancellation comes as that finishes (redis-py sends every command through
    it when given a socket timeout, which SharedState therefore does not give). Should a dependency lose
    one again, a loop that checks here at each turn still ends when its owner cancels it.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError

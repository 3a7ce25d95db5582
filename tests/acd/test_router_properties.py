"""Random sequences of arrivals, agent changes, answers, refusals, timeouts, abandons, transfers to queues
and outside numbers, and clock jumps.

After every step the invariants of the queue core are checked against a reference written here from the
configuration alone (not from the router's own eligibility code): every task is in exactly one place,
nothing is lost, no agent is over capacity or offered a task it may not take, the best eligible task
goes first, and no agent who could take a waiting task is left idle.
"""

from __future__ import annotations

import copy
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from acd.decisions import Kind
from acd.deployment.models import Deployment, QueueConfig
from acd.errors import AcdError
from acd.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    CallbackRequested,
    ClockTicked,
    HeadsetChanged,
    NodeLost,
    OfferAccepted,
    OfferRefused,
    OutsideAnswered,
    OutsideFailed,
    PhoneChanged,
    TaskArrived,
    TaskCancelled,
    TaskCompleted,
    TaskTransferred,
    WrapUpEnded,
)
from acd.model import CAPACITY_UNITS, Agent, Channel, Place, Presence, Task
from tests.acd import builders
from tests.acd.stores import SharedRouter, canonical, state
from tests.servers import RedisServer

AGENT_IDS = [a[0] for a in builders.AGENTS]
#: Where a transfer may go: queues, a number leading to a queue, an outside number, and nowhere.
TARGETS = ["lons-tva", "pau-tva", "lons-chat", "cfe-email", "0559000000", "+33559000000", "nowhere"]


def deployment(strategy: str) -> Deployment:
    """The builders' deployment with a trunk and a number leading to the Pau TVA queue."""
    return builders.deployment(strategy, numbers={"0559000000": "pau-tva"}, sip_trunk="127.0.0.1:5070")


SKILLS = ["tva", "cfe", "lang_fr", "lang_en"]


# ------------------------------------------------------------------ the reference, from config alone


def selector_at(queue: QueueConfig, step: int) -> tuple[dict[str, int], set[str], set[str], int | None]:
    skills = dict(queue.skills)
    teams, sites = set(queue.teams), set(queue.sites)
    if not teams and not sites:
        sites = {queue.site}
    cap = None
    for s in queue.steps[:step]:
        if s.min_level is not None:
            cap = s.min_level if cap is None else min(cap, s.min_level)
        teams |= set(s.add_teams)
        sites |= set(s.add_sites)
    if cap is not None:
        skills = {k: min(v, cap) for k, v in skills.items()}
    return skills, teams, sites, cap


def may_serve(config: Deployment, agent: Agent, task: Task) -> bool:
    """Skills, team or site at the task's step, and the task's own skills capped by that step."""
    queue = config.queue(task.queue)
    skills, teams, sites, cap = selector_at(queue, task.step)
    if agent.team not in teams and agent.site not in sites:
        return False
    needs = dict(skills)
    for skill, level in task.required_skills.items():
        needs[skill] = max(needs.get(skill, 0), min(level, cap) if cap is not None else level)
    return all(agent.skills.get(k, 0) >= v for k, v in needs.items())


def room_for(config: Deployment, agent: Agent, channel: Channel, used: int) -> bool:
    if channel in (Channel.VOICE, Channel.CALLBACK) and (agent.phone is False or agent.headset is False):
        return False  # its phone cannot be rung, or its headset is unplugged
    limit = config.settings.capacity.get(channel, 0)
    return limit > 0 and used + CAPACITY_UNITS // limit <= CAPACITY_UNITS


def order(task: Task) -> tuple[int, float, int, str]:
    return (-(task.priority + task.aging), task.entered_at, task.seq, task.id)


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = builders.MONDAY_9AM
        self.created: list[str] = []
        self.count = 0
        self.decisions: list = []
        self.before: dict[str, tuple[int, int]] = {}
        self.ended_at: dict[str, float] = {}
        self.refused = False

    @initialize(strategy=st.sampled_from(["longest_idle", "best_skill", "least_occupied", "round_robin"]))
    def setup(self, strategy: str) -> None:
        self.config = deployment(strategy)
        self.router = builders.router(self.config)
        self.store = self.router.store

    # ------------------------------------------------------------------------------ helpers

    def tasks_in(self, *places: Place) -> list[Task]:
        return sorted((t for t in self.store.tasks() if t.place in places), key=lambda t: t.id)

    def send(self, event: object) -> None:
        self.before = {t.id: (t.step, t.aging) for t in self.store.tasks()}
        self.refused = False
        applied = self.router.apply(event, self.now)  # type: ignore[arg-type]
        self.decisions, self.refused = applied.decisions, applied.refusal is not None

    def refused_without_change(self, event: object) -> None:
        """A wrong event is refused with an error and changes nothing (timers were fired first)."""
        self.send(ClockTicked())
        snapshot = copy.deepcopy(self.store)
        try:
            self.router.process(event, self.now)  # type: ignore[arg-type]
        except AcdError:
            pass
        else:
            raise AssertionError(f"{event} was accepted")
        assert canonical(snapshot.__dict__) == canonical(self.store.__dict__)
        self.decisions = []

    def sent_or_refused_without_change(self, event: object) -> bool:
        """The event is applied, or refused with an error that changed nothing (timers were fired first)."""
        self.send(ClockTicked())
        snapshot = canonical(self.store.__dict__)  # a comparable copy, built once
        self.send(event)
        if self.refused:
            assert snapshot == canonical(self.store.__dict__), f"{event} was refused but changed the state"
        return not self.refused

    # -------------------------------------------------------------------------------- rules

    @rule(
        queue=st.sampled_from(["lons-tva", "pau-tva", "lons-chat", "cfe-email"]),
        priority=st.integers(-2, 3) | st.none(),
        extra=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=1),
        later=st.none() | st.integers(1, 400),
        voice=st.booleans(),
    )
    def arrive(self, queue: str, priority: int | None, extra: dict[str, int], later: int | None, voice: bool) -> None:
        channels = sorted(self.config.queue(queue).channels)
        channel = Channel.VOICE if voice and Channel.VOICE in channels else channels[0]
        self.count += 1
        task_id = f"t{self.count}"
        self.created.append(task_id)
        not_before = self.now + later if later else None
        self.send(TaskArrived(task_id, channel, queue, priority, {"department": "69"}, extra, not_before))

    @rule(agent=st.sampled_from(AGENT_IDS), ready=st.booleans(), node=st.sampled_from([None, "n1", "n2"]))
    def login(self, agent: str, ready: bool, node: str | None) -> None:
        self.send(AgentLoggedIn(agent, ready, node))

    @rule(node=st.sampled_from(["n1", "n2"]))
    def lose_node(self, node: str) -> None:
        self.send(NodeLost(node))

    @rule(agent=st.sampled_from(AGENT_IDS), registered=st.booleans())
    def phone(self, agent: str, registered: bool) -> None:
        self.send(PhoneChanged(agent, registered))

    @rule(agent=st.sampled_from(AGENT_IDS), connected=st.booleans())
    def headset(self, agent: str, connected: bool) -> None:
        self.send(HeadsetChanged(agent, connected))

    @rule(agent=st.sampled_from(AGENT_IDS))
    def logout(self, agent: str) -> None:
        self.send(AgentLoggedOut(agent))

    @rule(agent=st.sampled_from(AGENT_IDS))
    def ready(self, agent: str) -> None:
        self.send(AgentReady(agent))

    @rule(agent=st.sampled_from(AGENT_IDS), reason=st.sampled_from(["break", "lunch", "training"]))
    def not_ready(self, agent: str, reason: str) -> None:
        self.send(AgentNotReady(agent, reason))

    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        offered = self.tasks_in(Place.RESERVED)
        if offered:
            task = data.draw(st.sampled_from(offered))
            self.send(OfferAccepted(task.id, task.agent or ""))

    @rule(data=st.data())
    def refuse(self, data: st.DataObject) -> None:
        offered = self.tasks_in(Place.RESERVED)
        if offered:
            task = data.draw(st.sampled_from(offered))
            self.send(OfferRefused(task.id, task.agent or ""))

    @rule(data=st.data(), intruder=st.sampled_from(AGENT_IDS))
    def someone_elses_offer(self, data: st.DataObject, intruder: str) -> None:
        offered = [t for t in self.tasks_in(Place.RESERVED) if t.agent != intruder]
        if offered:
            task = data.draw(st.sampled_from(offered))
            self.refused_without_change(OfferAccepted(task.id, intruder))

    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        working = self.tasks_in(Place.ASSIGNED)
        if working:
            task = data.draw(st.sampled_from(working))
            self.send(TaskCompleted(task.id, task.agent or ""))

    @rule(data=st.data())
    def end_wrap_up(self, data: st.DataObject) -> None:
        wrapping = self.tasks_in(Place.WRAP_UP)
        if wrapping:
            task = data.draw(st.sampled_from(wrapping))
            self.send(WrapUpEnded(task.id, task.agent or ""))

    @rule(data=st.data())
    def abandon(self, data: st.DataObject) -> None:
        waiting = self.tasks_in(Place.QUEUED, Place.RESERVED, Place.SCHEDULED, Place.OUTSIDE)
        if waiting:
            task = data.draw(st.sampled_from(waiting))
            self.send(TaskCancelled(task.id))

    @rule(data=st.data(), to=st.sampled_from(TARGETS), reason=st.sampled_from(["transferred", "max_wait"]))
    def transfer(self, data: st.DataObject, to: str, reason: str) -> None:
        """Handed elsewhere in one step, or refused (closed, full, channel, no route) with nothing changed."""
        movable = self.tasks_in(Place.QUEUED, Place.RESERVED, Place.ASSIGNED)
        if movable:
            task = data.draw(st.sampled_from(movable))
            new_id = f"t{self.count + 1}"
            if self.sent_or_refused_without_change(TaskTransferred(task.id, to, new_id, reason)):
                self.count += 1
                self.created.append(new_id)

    @rule(data=st.data(), answered=st.booleans(), status=st.sampled_from([404, 480, 486, 603]))
    def outside_reports(self, data: st.DataObject, answered: bool, status: int) -> None:
        ringing = self.tasks_in(Place.OUTSIDE)
        if ringing:
            task = data.draw(st.sampled_from(ringing))
            self.send(OutsideAnswered(task.id) if answered else OutsideFailed(task.id, status))

    @rule(data=st.data(), later=st.none() | st.integers(0, 600))
    def call_back(self, data: st.DataObject, later: int | None) -> None:
        waiting = [t for t in self.tasks_in(Place.QUEUED, Place.RESERVED) if "tva" in t.queue]
        if waiting:
            task = data.draw(st.sampled_from(waiting))
            self.count += 1
            self.created.append(f"t{self.count}")
            at = self.now + later if later is not None else None
            self.send(CallbackRequested(task.id, f"t{self.count}", "0612345678", at))

    @rule(data=st.data())
    def wrong_transition(self, data: st.DataObject) -> None:
        done = self.tasks_in(Place.ENDED, Place.WRAP_UP)
        if done:
            task = data.draw(st.sampled_from(done))
            self.refused_without_change(OfferAccepted(task.id, task.agent or "ana"))

    @precondition(lambda self: hasattr(self, "router"))
    @rule(seconds=st.sampled_from([60, 90, 120, 700]), share=st.integers(1, 3))
    def advance_partly(self, seconds: int, share: int) -> None:
        """Time passes but a tick fires only some of the due timers (the rest wait for the next tick)."""
        self.now += seconds
        self.send(ClockTicked(max_timers=share))

    @precondition(lambda self: hasattr(self, "router"))
    @rule(seconds=st.sampled_from([1, 5, 14, 15, 16, 30, 59, 60, 61, 90, 120, 180, 300, 700, 3600]))
    def advance(self, seconds: int) -> None:
        self.now += seconds
        self.send(ClockTicked())

    # --------------------------------------------------------------------------- invariants

    @invariant()
    def each_task_in_exactly_one_place(self) -> None:
        if not hasattr(self, "router"):
            return
        holders: dict[str, list[str]] = {}
        for queue in self.config.queues:
            for key in self.store.waiting(queue.id):
                holders.setdefault(key[3], []).append(f"queue {queue.id}")
        for agent in self.store.agents():
            if agent.reservation:
                holders.setdefault(agent.reservation, []).append(f"offer to {agent.id}")
            for task_id in agent.tasks:
                where = "wrap-up" if task_id in agent.wrap_ups else "work"
                holders.setdefault(task_id, []).append(f"{where} of {agent.id}")
            assert agent.wrap_ups <= agent.tasks
        retention = self.config.settings.ended_task_retention
        for task_id in self.created:
            task = self.store.task(task_id)
            if task is None:  # only an ended task leaves the live state, and only once its retention is over
                assert self.now >= self.ended_at.get(task_id, float("inf")) + retention, f"{task_id} lost"
                continue
            if task.ended_at is not None:
                self.ended_at[task_id] = task.ended_at
            else:
                assert task_id not in self.ended_at
            places = holders.get(task_id, [])
            expected = {
                Place.QUEUED: [f"queue {task.queue}"],
                Place.RESERVED: [f"offer to {task.agent}"],
                Place.ASSIGNED: [f"work of {task.agent}"],
                Place.WRAP_UP: [f"wrap-up of {task.agent}"],
                Place.SCHEDULED: [],
                Place.OUTSIDE: [],
                Place.ENDED: [],
            }[task.place]
            assert places == expected, (task_id, task.place, places)
            assert (task.outcome is not None) == (task.place is Place.ENDED)
        assert {t.id for t in self.store.tasks()} <= set(self.created)

    @invariant()
    def no_agent_over_capacity_nor_offered_what_it_cannot_take(self) -> None:
        if not hasattr(self, "router"):
            return
        for agent in self.store.agents():
            used = sum(CAPACITY_UNITS // self.config.settings.capacity[self.store.task(t).channel] for t in agent.tasks)
            assert agent.used_units == used <= CAPACITY_UNITS
            if agent.presence is Presence.OFFLINE:
                assert not agent.tasks and agent.reservation is None
            if agent.reservation:
                task = self.store.task(agent.reservation)
                assert task.agent == agent.id
                assert room_for(self.config, agent, task.channel, used)
                assert may_serve(self.config, agent, task), (agent.id, task)
                assert agent.id not in task.refused_by
        for decision in self.decisions:
            if decision.kind is Kind.OFFERED:
                task = self.store.task(decision.task)
                agent = self.store.agent(decision.agent)
                assert agent.presence is not Presence.OFFLINE

    @invariant()
    def best_task_first(self) -> None:
        if not hasattr(self, "router"):
            return
        waiting = self.tasks_in(Place.QUEUED)
        for decision in self.decisions:
            if decision.kind is not Kind.OFFERED:
                continue
            offered = self.store.task(decision.task)
            if offered.place is not Place.RESERVED or offered.agent != decision.agent:
                continue  # answered, refused or revoked since, within the same step
            agent = self.store.agent(decision.agent)
            used = agent.used_units
            for other in waiting:
                if self.before.get(other.id) != (other.step, other.aging):
                    continue  # changed in this very step, perhaps after the offer
                if (
                    order(other) < order(offered)
                    and may_serve(self.config, agent, other)
                    and room_for(self.config, agent, other.channel, used)
                    and agent.id not in other.refused_by
                ):
                    raise AssertionError(f"{agent.id} offered {offered.id} while {other.id} comes first")

    @invariant()
    def no_idle_agent_while_a_task_it_can_take_waits(self) -> None:
        if not hasattr(self, "router"):
            return
        waiting = self.tasks_in(Place.QUEUED)
        for agent in self.store.agents():
            if agent.presence is not Presence.READY or agent.reservation is not None:
                continue
            for task in waiting:
                assert not (
                    may_serve(self.config, agent, task)
                    and room_for(self.config, agent, task.channel, agent.used_units)
                    and agent.id not in task.refused_by
                ), f"{agent.id} idle while {task.id} waits"


#: The suite's share of the sequences: 0.5 keeps the in-memory run near a minute and a half on two cores, well
#: within the per-test timeout; ACD_PROPERTY_SCALE=1 (or more, with --timeout=0) for a long run.
SCALE = float(os.environ.get("ACD_PROPERTY_SCALE", "0.5"))


def sequences(count: int) -> settings:
    """`count` × SCALE random sequences of 40 steps; no deadline (a step may wait on a real Redis)."""
    return settings(
        max_examples=max(1, round(count * SCALE)),
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


RouterMachine.TestCase.settings = sequences(10_000)
test_router_invariants = RouterMachine.TestCase


class SharedRouterMachine(RouterMachine):
    """The same sequences through a node of the shared store: the replica checked, then what Redis holds."""

    redis_url = ""

    @initialize(strategy=st.sampled_from(["longest_idle", "best_skill", "least_occupied", "round_robin"]))
    def setup(self, strategy: str) -> None:
        self.config = deployment(strategy)
        self.shared = SharedRouter(self.config, self.redis_url)
        self.router = self.shared  # type: ignore[assignment]
        self.store = self.shared.store

    def teardown(self) -> None:
        if hasattr(self, "shared"):
            try:
                assert state(self.shared.reloaded()) == state(self.store)
                assert state(self.shared.replayed()) == state(self.store)
            finally:
                self.shared.close()


def test_router_invariants_on_the_shared_store(shared_redis: RedisServer) -> None:
    # Fewer sequences than in memory: each step is a round trip to a real Redis.
    SharedRouterMachine.redis_url = shared_redis.url
    run_state_machine_as_test(SharedRouterMachine, settings=sequences(1000))

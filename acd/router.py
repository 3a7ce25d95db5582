"""The routing core: events in, decisions out, no I/O and no clock of its own.

`Router.process(event, now)` first fires the timers due by `now` (at most `TIMERS_PER_EVENT` of them, in
order: a mass expiry is worked off by the ticks that follow, each its own bounded change, instead of
delaying one event by all of it), then applies the event. Every handler
checks everything before it changes anything, so a refused event (an `AcdError`) leaves the state as it
was; the decisions of the timers fired before it ride on the error as `error.decisions`.

Invariant kept after every call: an agent that is ready, has no offer pending and has room for a
waiting task it is eligible for is never left idle; and the task it is offered is the best (priority,
then entry time) of all the tasks it is eligible for, whatever queue they wait in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from acd import matching
from acd.calendar import OpenNow
from acd.decisions import Decision, Kind
from acd.errors import (
    AcdError,
    ChannelNotServed,
    DuplicateTask,
    InvalidEvent,
    NotYourOffer,
    TransitionError,
    UnknownAgent,
    UnknownQueue,
    UnknownTask,
)
from acd.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    CallbackRequested,
    ClockTicked,
    Event,
    HeadsetChanged,
    LoginFailed,
    NodeLost,
    OfferAccepted,
    OfferRefused,
    PhoneChanged,
    TaskArrived,
    TaskCancelled,
    TaskCompleted,
    TaskNoted,
    WrapUpEnded,
)
from acd.model import PHONE_CHANNELS, Agent, AgentState, Channel, Outcome, Place, Presence, Strategy, Task
from acd.store import Store
from acd.timers import Timer, TimerKind
from acd.topology import QueueRoute, Topology

MISSED_OFFERS = "missed_offers"
NODE_LOST = "node_lost"
#: Why an agent is not ready when its headset was unplugged: the reason its plugging in again undoes.
HEADSET = "headset"
#: Redirections a task may follow in one go (closed or full queues pointing at each other).
MAX_REDIRECTS = 4
#: Due timers an event fires before it is applied, unless it is a tick that says how many.
TIMERS_PER_EVENT = 200


class Router:
    """The queue core of one centre: applies events to the store and says what follows."""

    def __init__(self, topology: Topology, store: Store, *, skills: frozenset[str] | None = None) -> None:
        self.topology = topology
        self.queues = topology.queues
        self.store = store
        self.skills = skills
        self.clock = float("-inf")
        self._out: list[Decision] = []
        self._deferred: tuple[list[Agent], list[Task]] | None = None
        self._open = {queue_id: OpenNow(queue.hours) for queue_id, queue in self.queues.items()}
        self._timer_budget = float("inf")  # timers this event may still fire
        self._handlers: dict[type, Callable[[Any, float], None]] = {
            TaskArrived: self._task_arrived,
            TaskCancelled: self._task_cancelled,
            CallbackRequested: self._callback_requested,
            AgentLoggedIn: self._agent_logged_in,
            AgentLoggedOut: self._agent_logged_out,
            AgentReady: self._agent_ready,
            AgentNotReady: self._agent_not_ready,
            OfferAccepted: self._offer_accepted,
            OfferRefused: self._offer_refused,
            TaskCompleted: self._task_completed,
            WrapUpEnded: self._wrap_up_ended,
            PhoneChanged: self._phone_changed,
            HeadsetChanged: self._headset_changed,
            TaskNoted: self._task_noted,
            NodeLost: self._node_lost,
            LoginFailed: self._login_failed,
            ClockTicked: lambda event, now: None,
        }

    # ----------------------------------------------------------------------------------------- entry

    def process(self, event: Event, now: float) -> list[Decision]:
        handler = self._handlers.get(type(event))
        if handler is None:
            raise InvalidEvent(f"unknown event {type(event).__name__}")
        self._out = []
        now = max(now, self.clock)
        budget = event.max_timers if isinstance(event, ClockTicked) else TIMERS_PER_EVENT
        self._timer_budget = float("inf") if budget is None else budget
        self._fire_due(now)
        self.clock = now
        try:
            handler(event, now)
        except AcdError as error:
            error.decisions = self._out  # type: ignore[attr-defined]
            raise
        self._fire_due(now)  # timers set by the event that are already due (a re-queued task's step)
        return self._out

    # ----------------------------------------------------------------------------------- lookups

    def queue(self, queue_id: str) -> QueueRoute:
        queue = self.queues.get(queue_id)
        if queue is None:
            raise UnknownQueue(f"unknown queue {queue_id!r}", queue=queue_id)
        return queue

    def task(self, task_id: str) -> Task:
        task = self.store.task(task_id)
        if task is None:
            raise UnknownTask(f"unknown task {task_id!r}", task=task_id)
        return task

    def agent(self, agent_id: str) -> Agent:
        agent = self.store.agent(agent_id)
        if agent is None:
            raise UnknownAgent(f"unknown agent {agent_id!r}", agent=agent_id)
        return agent

    def is_open(self, queue: QueueRoute, now: float) -> bool:
        return self._open[queue.id].is_open(now)

    def _emit(self, kind: Kind, at: float, task: Task | None = None, **fields: Any) -> None:
        if task is not None:
            fields.setdefault("task", task.id)
            fields.setdefault("queue", task.queue)
            fields.setdefault("channel", task.channel.value)
        self._out.append(Decision(kind, at, **fields))

    # ------------------------------------------------------------------------------------- tasks

    def _task_arrived(self, event: TaskArrived, now: float) -> None:
        if self.store.peek_task(event.task_id) is not None:
            raise DuplicateTask(f"task {event.task_id!r} exists already", task=event.task_id)
        queue = self.queue(event.queue)
        self._check_channel(queue, event.channel)
        if self.skills is not None:
            unknown = sorted(set(event.required_skills) - self.skills)
            if unknown:
                raise InvalidEvent(f"unknown skill {unknown[0]!r}", field="required_skills")
        entered_at = event.entered_at if event.entered_at is not None else now
        task = Task(
            id=event.task_id,
            channel=event.channel,
            queue=queue.id,
            priority=event.priority if event.priority is not None else queue.priority,
            attributes=dict(event.attributes),
            required_skills=dict(event.required_skills),
            created_at=now,
            entered_at=entered_at,
            queued_at=now,
            seq=self.store.next_seq(),
            not_before=event.not_before,
        )
        self.store.put_task(task)
        self._place(task, queue, now)

    def _check_channel(self, queue: QueueRoute, channel: Channel) -> None:
        if channel not in queue.channels:
            raise ChannelNotServed(f"queue {queue.id!r} does not take {channel.value} tasks", queue=queue.id)

    def _place(self, task: Task, queue: QueueRoute, now: float) -> None:
        """A new task, or a call-back: scheduled for later, or admitted to its queue now."""
        if task.not_before is not None and task.not_before > now:
            task.place = Place.SCHEDULED
            self._add_timer(task.not_before, TimerKind.SCHEDULED_ENTRY, task)
            self._emit(Kind.TASK_SCHEDULED, now, task, data={"not_before": task.not_before})
            return
        self._admit(task, queue, now)

    def _admit(self, task: Task, queue: QueueRoute, now: float, redirects: int = 0) -> None:
        """Into the queue, unless it is closed or full: then redirect or refuse as configured."""
        target: str | None = None
        if not self.is_open(queue, now):
            action = queue.closed_action(task.channel)
            if action == "reject":
                reason = queue.hours.closed_reason(now) or "closed"
                return self._end(task, Outcome.REJECTED_CLOSED, now, Kind.TASK_REJECTED, reason=reason)
            if action == "redirect":
                target = queue.when_closed_target
        if target is None and queue.max_size is not None and len(self.store.waiting(queue.id)) >= queue.max_size:
            if queue.max_size_target is None:
                return self._end(task, Outcome.REJECTED_FULL, now, Kind.TASK_REJECTED, reason="queue_full")
            target = queue.max_size_target
        if target is not None:
            destination = self.queues[target]
            if redirects >= MAX_REDIRECTS or task.channel not in destination.channels:
                return self._end(task, Outcome.REJECTED_FULL, now, Kind.TASK_REJECTED, reason="no_queue_to_take_it")
            self._emit(Kind.TASK_MOVED, now, task, data={"to": target})
            self._move(task, destination, now)
            return self._admit(task, destination, now, redirects + 1)
        self._enqueue(task, queue, now)
        self._emit(Kind.TASK_QUEUED, now, task, data={"priority": task.priority})
        self._route(task, now, confirm=False)

    def _move(self, task: Task, queue: QueueRoute, now: float) -> None:
        task.queue = queue.id
        task.queued_at = now
        task.step = 0
        task.aging = 0
        task.refused_by.clear()

    def _enqueue(self, task: Task, queue: QueueRoute, now: float) -> None:
        task.place = Place.QUEUED
        task.agent = None
        task.version += 1
        self.store.enqueue(queue.id, matching.task_key(task))
        self._set_queue_timers(task, queue, now)

    def _set_queue_timers(self, task: Task, queue: QueueRoute, now: float) -> None:
        """Timers count from the entry in this queue, so a task put back keeps its schedule."""
        self._set_step_timer(task, queue)
        self._set_aging_timer(task, queue)
        if queue.max_wait is not None:
            self._add_timer(task.queued_at + queue.max_wait, TimerKind.MAX_WAIT, task)

    def _add_timer(self, due: float, kind: TimerKind, task: Task) -> None:
        self.store.add_timer(Timer(due, self.store.next_seq(), kind, task.id, task.version))

    def _leave_queue(self, task: Task) -> None:
        if task.place is Place.QUEUED:
            self.store.dequeue(task.queue, matching.task_key(task))
            task.place = Place.NEW

    def _end(self, task: Task, outcome: Outcome, now: float, kind: Kind = Kind.TASK_ENDED, **fields: Any) -> None:
        self._leave_queue(task)
        task.place = Place.ENDED
        task.outcome = outcome
        task.ended_at = now
        task.version += 1
        fields.setdefault("reason", outcome.value)
        if task.answered_at is None:
            fields.setdefault("wait", now - task.entered_at)
        self._emit(kind, now, task, **fields)
        self._add_timer(now + self.topology.ended_task_retention, TimerKind.FORGET, task)

    def _task_cancelled(self, event: TaskCancelled, now: float) -> None:
        task = self.task(event.task_id)
        if task.place not in (Place.QUEUED, Place.RESERVED, Place.SCHEDULED):
            raise TransitionError(
                f"cannot cancel task {task.id!r}: it is {task.place.value}", task=task.id, state=task.place.value
            )
        if task.place is Place.RESERVED:
            self._revoke(task, now, reason=event.outcome.value, requeue=False)
        self._end(task, event.outcome, now)

    def _callback_requested(self, event: CallbackRequested, now: float) -> None:
        task = self.task(event.task_id)
        if task.place not in (Place.QUEUED, Place.RESERVED):
            raise TransitionError(
                f"cannot call back task {task.id!r}: it is {task.place.value}", task=task.id, state=task.place.value
            )
        if self.store.peek_task(event.callback_task_id) is not None:
            raise DuplicateTask(f"task {event.callback_task_id!r} exists already", task=event.callback_task_id)
        queue = self.queue(event.queue or task.queue)
        self._check_channel(queue, Channel.CALLBACK)
        if task.place is Place.RESERVED:
            self._revoke(task, now, reason="callback", requeue=False)
        self._end(task, Outcome.CALLBACK, now)
        callback = Task(
            id=event.callback_task_id,
            channel=Channel.CALLBACK,
            queue=queue.id,
            priority=task.priority,
            attributes={**task.attributes, "callback_number": event.number, "origin_task": task.id},
            required_skills=dict(task.required_skills),
            created_at=now,
            entered_at=task.entered_at,  # the caller keeps the place earned while waiting
            queued_at=now,
            seq=task.seq,
            not_before=event.at,
        )
        self.store.put_task(callback)
        self._emit(Kind.CALLBACK_CREATED, now, callback, data={"origin_task": task.id, "at": event.at})
        self._place(callback, queue, now)

    # ------------------------------------------------------------------------------------ offers

    def _reserve(self, task: Task, agent: Agent, now: float) -> None:
        # Matching only peeks at records; read them here, before they change, as every change must be.
        self.store.task(task.id)
        self.store.agent(agent.id)
        queue = self.queues[task.queue]
        self._leave_queue(task)
        task.place = Place.RESERVED
        task.agent = agent.id
        task.offered_at = now
        task.offer_expires_at = now + queue.offer_timeout
        task.version += 1
        agent.reservation = task.id
        matching.unindex(agent, self.store)
        if queue.strategy is Strategy.ROUND_ROBIN:
            self.store.set_queue_value(queue.id, "round_robin_last", agent.ordinal)
        self._add_timer(task.offer_expires_at, TimerKind.OFFER_TIMEOUT, task)
        self._emit(Kind.OFFERED, now, task, agent=agent.id, data={"expires_at": task.offer_expires_at})
        self._sync_state(agent, now)

    def _offered_to(self, task_id: str, agent_id: str, what: str) -> tuple[Task, Agent]:
        task, agent = self.task(task_id), self.agent(agent_id)
        if task.place is not Place.RESERVED:
            raise TransitionError(
                f"cannot {what} task {task.id!r}: it is {task.place.value}, not offered",
                task=task.id,
                state=task.place.value,
            )
        if task.agent != agent.id:
            raise NotYourOffer(f"task {task.id!r} is not offered to agent {agent.id!r}", task=task.id)
        return task, agent

    def _offer_accepted(self, event: OfferAccepted, now: float) -> None:
        task, agent = self._offered_to(event.task_id, event.agent_id, "accept")
        task.place = Place.ASSIGNED
        task.answered_at = now
        task.version += 1
        agent.reservation = None
        agent.tasks.add(task.id)
        agent.used_units += agent.unit_cost[task.channel]
        agent.missed_offers = 0
        self._emit(Kind.OFFER_ACCEPTED, now, task, agent=agent.id, wait=now - task.entered_at)
        self._agent_changed(agent, now)

    def _offer_refused(self, event: OfferRefused, now: float) -> None:
        task, agent = self._offered_to(event.task_id, event.agent_id, "refuse")
        self._missed(task, agent, now, Kind.OFFER_REFUSED)

    def _missed(self, task: Task, agent: Agent, now: float, kind: Kind) -> None:
        """Refused or timed out: the task goes back with its place, the agent counts a miss."""
        agent.reservation = None
        agent.missed_offers += 1
        task.refused_by.add(agent.id)
        self._emit(kind, now, task, agent=agent.id)
        if agent.missed_offers >= self.topology.missed_offers_limit:
            agent.presence = Presence.NOT_READY
            agent.reason = MISSED_OFFERS
        self._requeue(task, now)
        self._agent_changed(agent, now)
        self._route(task, now, confirm=True)

    def _revoke(self, task: Task, now: float, reason: str, *, requeue: bool) -> None:
        """Withdraw an offer without blaming the agent: the caller left, or the agent went not ready."""
        agent = self.agent(task.agent or "")
        agent.reservation = None
        self._emit(Kind.OFFER_REVOKED, now, task, agent=agent.id, reason=reason)
        if requeue:
            self._requeue(task, now)
        else:
            task.place = Place.NEW  # leaving: the caller ends it next
            task.agent = None
        self._agent_changed(agent, now)
        if requeue:
            self._route(task, now, confirm=True)

    def _requeue(self, task: Task, now: float) -> None:
        task.agent = None
        task.offered_at = task.offer_expires_at = None
        self._enqueue(task, self.queues[task.queue], now)

    # ------------------------------------------------------------------------------ handling work

    def _assigned_to(self, task_id: str, agent_id: str, place: Place, what: str) -> tuple[Task, Agent]:
        task, agent = self.task(task_id), self.agent(agent_id)
        if task.agent != agent.id or task.place is not place:
            raise TransitionError(
                f"cannot {what} task {task.id!r}: it is {task.place.value}"
                + ("" if task.agent == agent.id else f" and not with agent {agent.id!r}"),
                task=task.id,
                state=task.place.value,
            )
        return task, agent

    def _task_completed(self, event: TaskCompleted, now: float) -> None:
        task, agent = self._assigned_to(event.task_id, event.agent_id, Place.ASSIGNED, "complete")
        queue = self.queues[task.queue]
        talk = now - (task.answered_at or now)
        self._emit(Kind.TASK_COMPLETED, now, task, agent=agent.id, talk=talk)
        if queue.wrap_up <= 0:
            return self._finish(task, agent, now)
        task.place = Place.WRAP_UP
        task.wrap_up_at = now
        task.version += 1
        agent.wrap_ups.add(task.id)
        self._add_timer(now + queue.wrap_up, TimerKind.WRAP_UP_END, task)
        self._sync_state(agent, now)

    def _wrap_up_ended(self, event: WrapUpEnded, now: float) -> None:
        task, agent = self._assigned_to(event.task_id, event.agent_id, Place.WRAP_UP, "end the wrap-up of")
        self._finish(task, agent, now)

    def _finish(self, task: Task, agent: Agent, now: float) -> None:
        handle = now - (task.answered_at or now)
        agent.tasks.discard(task.id)
        agent.wrap_ups.discard(task.id)
        agent.used_units -= agent.unit_cost[task.channel]
        agent.handled += 1
        agent.busy_seconds += handle
        if not agent.tasks:
            agent.idle_since = now
        weight = self.topology.handle_time_weight
        queue = self.queues[task.queue]
        average = self.store.queue_value(queue.id, "handle_time", queue.handle_time)
        self.store.set_queue_value(queue.id, "handle_time", (1 - weight) * average + weight * handle)
        self._end(task, Outcome.COMPLETED, now, agent=agent.id, talk=handle)
        self._agent_changed(agent, now)

    # ------------------------------------------------------------------------------------ agents

    def _agent_logged_in(self, event: AgentLoggedIn, now: float) -> None:
        agent = self.agent(event.agent_id)
        if agent.presence is not Presence.OFFLINE:
            raise TransitionError(f"agent {agent.id!r} is logged in already", agent=agent.id, state=agent.state.value)
        agent.presence = Presence.READY if event.ready else Presence.NOT_READY
        agent.reason = None if event.ready else "logged_in"
        if event.ready and agent.headset is False:  # its softphone says the headset is unplugged
            agent.presence, agent.reason = Presence.NOT_READY, HEADSET
        agent.logged_in_at = agent.idle_since = now
        agent.missed_offers = 0
        agent.node = event.node
        self._agent_changed(agent, now)

    def _logged_in(self, agent_id: str, what: str) -> Agent:
        agent = self.agent(agent_id)
        if agent.presence is Presence.OFFLINE:
            raise TransitionError(f"cannot {what} agent {agent.id!r}: it is offline", agent=agent.id, state="offline")
        return agent

    def _agent_logged_out(self, event: AgentLoggedOut, now: float) -> None:
        agent = self._logged_in(event.agent_id, "log out")
        if agent.reservation is not None or agent.tasks:
            raise TransitionError(
                f"cannot log out agent {agent.id!r}: it has work in hand", agent=agent.id, state=agent.state.value
            )
        agent.presence = Presence.OFFLINE
        agent.reason = None
        agent.logged_in_at = None
        self._agent_changed(agent, now)

    def _agent_ready(self, event: AgentReady, now: float) -> None:
        agent = self._logged_in(event.agent_id, "make ready")
        if event.node is not None:
            agent.node = event.node  # the agent came back through another node
        if agent.presence is Presence.READY:
            return
        agent.presence = Presence.READY
        agent.reason = None
        agent.missed_offers = 0
        if not agent.tasks:
            agent.idle_since = now  # time spent not ready is not idle time
        self._agent_changed(agent, now)

    def _agent_not_ready(self, event: AgentNotReady, now: float) -> None:
        agent = self._logged_in(event.agent_id, "make not ready")
        agent.presence = Presence.NOT_READY
        agent.reason = event.reason
        if agent.reservation is not None:
            self._revoke(self.task(agent.reservation), now, reason="agent_not_ready", requeue=True)
        self._agent_changed(agent, now)

    def _task_noted(self, event: TaskNoted, now: float) -> None:
        task = self.task(event.task_id)
        self._emit(Kind.TASK_NOTED, now, task, agent=task.agent, reason=event.note, data=dict(event.data))

    def _login_failed(self, event: LoginFailed, now: float) -> None:
        kind = Kind.LOGIN_FAILED if event.limit is None else Kind.LOGIN_REFUSED
        self._emit(kind, now, reason=event.limit, data={"user": event.user, "address": event.address})

    def _phone_changed(self, event: PhoneChanged, now: float) -> None:
        """A phone that cannot be rung takes no call; one that was being rung gives the offer back."""
        agent = self.agent(event.agent_id)
        agent.phone = event.registered
        offered = self.task(agent.reservation) if agent.reservation is not None else None
        if not event.registered and offered is not None and offered.channel in PHONE_CHANNELS:
            self._revoke(offered, now, reason="phone_unregistered", requeue=True)
        self._agent_changed(agent, now)

    def _headset_changed(self, event: HeadsetChanged, now: float) -> None:
        """Unplugged: a ready agent goes not ready (reason `headset`) and no call is offered; plugged in
        again: back to ready if it was the headset that made it not ready, and nothing changed that since."""
        agent = self.agent(event.agent_id)
        agent.headset = event.connected
        offered = self.task(agent.reservation) if agent.reservation is not None else None
        if not event.connected:
            if agent.presence is Presence.READY:
                agent.presence, agent.reason = Presence.NOT_READY, HEADSET
            if offered is not None and (agent.presence is Presence.NOT_READY or offered.channel in PHONE_CHANNELS):
                self._revoke(offered, now, reason="headset_unplugged", requeue=True)
        elif agent.presence is Presence.NOT_READY and agent.reason == HEADSET:
            agent.presence, agent.reason = Presence.READY, None
            agent.missed_offers = 0
            if not agent.tasks:
                agent.idle_since = now
        self._agent_changed(agent, now)

    def _node_lost(self, event: NodeLost, now: float) -> None:
        """Nobody can reach the agents of a lost node: their offers go back, they go not ready."""
        for agent in [a for a in self.store.agents() if a.node == event.node]:
            agent.node = None
            if agent.presence is Presence.OFFLINE:
                continue
            agent.presence = Presence.NOT_READY
            agent.reason = NODE_LOST
            if agent.reservation is not None:
                self._revoke(self.task(agent.reservation), now, reason=NODE_LOST, requeue=True)
            self._agent_changed(agent, now)

    def _agent_changed(self, agent: Agent, now: float) -> None:
        """The agent's load or presence changed: give it work, or put it among the idle, or neither."""
        matching.unindex(agent, self.store)
        if agent.offerable:
            if self._deferred is not None:
                matching.index(agent, self.queues, self.store)
                self._deferred[0].append(agent)
            else:
                task = matching.best_task_for(agent, self.queues, self.store)
                if task is not None:
                    self._reserve(task, agent, now)
                else:
                    matching.index(agent, self.queues, self.store)
        self._sync_state(agent, now)

    def _sync_state(self, agent: Agent, now: float) -> None:
        state = agent.derived_state()
        reason = agent.reason if state is AgentState.NOT_READY else None
        previous_reason = agent.reason if agent.state is AgentState.NOT_READY else None
        if state is agent.state and (state is not AgentState.NOT_READY or reason == previous_reason):
            return
        self._emit(
            Kind.AGENT_STATE,
            now,
            agent=agent.id,
            reason=reason,
            data={
                "state": state.value,
                "previous": agent.state.value,
                # None: offline since the start, not the seconds since 1970.
                "seconds": None if agent.state_since is None else now - agent.state_since,
            },
        )
        agent.state = state
        agent.state_since = now

    # ----------------------------------------------------------------------------------- routing

    def _route(self, task: Task, now: float, *, confirm: bool) -> None:
        """Offer a task that became routable to the best idle agent by the queue's strategy.

        With `confirm`, the agent found then takes its own best task, which may be a better one: used
        when several tasks changed at once and the single-arrival shortcut does not hold.
        """
        if self._deferred is not None:
            self._deferred[1].append(task)
            return
        queue = self.queues[task.queue]
        while task.place is Place.QUEUED:
            last = self.store.queue_value(queue.id, "round_robin_last", -1)
            agent = matching.best_agent_for(task, queue, self.store, last)
            if agent is None:
                return
            chosen = matching.best_task_for(agent, self.queues, self.store) if confirm else task
            if chosen is None:  # cannot happen: the agent is eligible for `task` itself
                raise AssertionError(f"agent {agent.id} eligible for {task.id} found no task")
            self._reserve(chosen, agent, now)

    def _fire_due(self, now: float) -> None:
        """Apply every due timer, then route what they changed, all at once and in order of merit."""
        self._deferred = ([], [])
        try:
            while self._timer_budget > 0 and (timer := self.store.pop_due(now)) is not None:
                self._timer_budget -= 1
                at = max(timer.due, self.clock)
                self.clock = at
                self._fire(timer, at)
        finally:
            agents, tasks = self._deferred
            self._deferred = None
        self.clock = max(self.clock, now)
        for agent in agents:
            while agent.offerable and self.store.idle_entries(agent.id):
                task = matching.best_task_for(agent, self.queues, self.store)
                if task is None:
                    break
                self._route(task, now, confirm=True)
        for task in sorted(tasks, key=matching.task_key):
            self._route(task, now, confirm=True)

    def _fire(self, timer: Timer, at: float) -> None:
        peeked = self.store.peek_task(timer.task_id)  # most timers that fire are stale: only read them
        if peeked is None or peeked.version != timer.version:
            return  # stale: the task has moved on since the timer was set
        task = self.task(peeked.id)  # this one changes it
        queue = self.queues[task.queue]
        kind = timer.kind
        if kind is TimerKind.OFFER_TIMEOUT:
            self._missed(task, self.agent(task.agent or ""), at, Kind.OFFER_TIMED_OUT)
        elif kind is TimerKind.WRAP_UP_END:
            self._finish(task, self.agent(task.agent or ""), at)
        elif kind is TimerKind.SCHEDULED_ENTRY:
            task.queued_at = at
            task.version += 1
            self._admit(task, queue, at)
        elif kind is TimerKind.OVERFLOW_STEP:
            task.step += 1
            self._emit(Kind.TASK_OVERFLOW_STEP, at, task, data={"step": task.step})
            self._set_step_timer(task, queue)
            self._route(task, at, confirm=True)
        elif kind is TimerKind.AGING:
            self.store.dequeue(queue.id, matching.task_key(task))
            task.aging = min(task.aging + queue.aging_step, queue.aging_max)
            self.store.enqueue(queue.id, matching.task_key(task))
            self._emit(Kind.TASK_PRIORITY_AGED, at, task, data={"priority": task.priority + task.aging})
            self._set_aging_timer(task, queue)
        elif kind is TimerKind.MAX_WAIT:
            self._max_wait(task, queue, at)
        elif kind is TimerKind.FORGET:
            self.store.delete_task(task.id)

    def _set_aging_timer(self, task: Task, queue: QueueRoute) -> None:
        if queue.aging_every is not None and task.aging < queue.aging_max:
            rounds = task.aging // queue.aging_step + 1
            self._add_timer(task.queued_at + rounds * queue.aging_every, TimerKind.AGING, task)

    def _set_step_timer(self, task: Task, queue: QueueRoute) -> None:
        if task.step + 1 < len(queue.steps):
            self._add_timer(task.queued_at + queue.steps[task.step + 1].after, TimerKind.OVERFLOW_STEP, task)

    def _max_wait(self, task: Task, queue: QueueRoute, at: float) -> None:
        target = queue.max_wait_target
        if target is None or task.channel not in self.queues[target].channels:
            self._end(task, Outcome.MAX_WAIT, at)
            return
        self._leave_queue(task)
        self._emit(Kind.TASK_MOVED, at, task, reason="max_wait", data={"to": target})
        self._move(task, self.queues[target], at)
        self._admit(task, self.queues[target], at)

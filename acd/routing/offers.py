"""Offers: an idle agent and a waiting task brought together, and what ends an offer.

`route` looks from a task for the best idle agent; `agent_changed` looks from an agent whose load or
presence changed for the best waiting task, or puts it among the idle. An offer ends accepted (the task is
assigned), refused or timed out (the task goes back with its place, the agent counts a miss), or revoked
(the caller left, or the agent can no longer take it: nobody is blamed).
"""

from __future__ import annotations

from acd import matching
from acd.decisions import Kind
from acd.errors import NotYourOffer, TransitionError
from acd.events import OfferAccepted, OfferRefused
from acd.model import Agent, AgentState, Place, Presence, Strategy, Task
from acd.routing.places import move
from acd.routing.state import State
from acd.timers import TimerKind

MISSED_OFFERS = "missed_offers"


def reserve(st: State, task: Task, agent: Agent, now: float) -> None:
    # Matching only peeks at records; read them here, before they change, as every change must be.
    st.store.task(task.id)
    st.store.agent(agent.id)
    queue = st.queues[task.queue]
    st.leave_queue(task)
    move(task, Place.RESERVED, st.cause, st.store.next_seq)
    task.agent = agent.id
    task.offered_at = now
    task.offer_expires_at = now + queue.offer_timeout
    agent.reservation = task.id
    matching.unindex(agent, st.store)
    if queue.strategy is Strategy.ROUND_ROBIN:
        st.store.set_queue_value(queue.id, "round_robin_last", agent.ordinal)
    st.add_timer(task.offer_expires_at, TimerKind.OFFER_TIMEOUT, task)
    st.emit(Kind.OFFERED, now, task, agent=agent.id, data={"expires_at": task.offer_expires_at})
    sync_state(st, agent, now)


def offered_to(st: State, task_id: str, agent_id: str, what: str) -> tuple[Task, Agent]:
    task, agent = st.task(task_id), st.agent(agent_id)
    if task.place is not Place.RESERVED:
        raise TransitionError(
            f"cannot {what} task {task.id!r}: it is {task.place.value}, not offered",
            task=task.id,
            state=task.place.value,
        )
    if task.agent != agent.id:
        raise NotYourOffer(f"task {task.id!r} is not offered to agent {agent.id!r}", task=task.id)
    return task, agent


def offer_accepted(st: State, event: OfferAccepted, now: float) -> None:
    task, agent = offered_to(st, event.task_id, event.agent_id, "accept")
    move(task, Place.ASSIGNED, st.cause, st.store.next_seq)
    task.answered_at = now
    agent.reservation = None
    agent.tasks.add(task.id)
    agent.used_units += agent.unit_cost[task.channel]
    agent.missed_offers = 0
    st.emit(Kind.OFFER_ACCEPTED, now, task, agent=agent.id, wait=now - task.entered_at)
    agent_changed(st, agent, now)


def offer_refused(st: State, event: OfferRefused, now: float) -> None:
    task, agent = offered_to(st, event.task_id, event.agent_id, "refuse")
    missed(st, task, agent, now, Kind.OFFER_REFUSED)


def missed(st: State, task: Task, agent: Agent, now: float, kind: Kind) -> None:
    """Refused or timed out: the task goes back with its place, the agent counts a miss."""
    agent.reservation = None
    agent.missed_offers += 1
    task.refused_by.add(agent.id)
    st.emit(kind, now, task, agent=agent.id)
    if agent.missed_offers >= st.topology.missed_offers_limit:
        agent.presence = Presence.NOT_READY
        agent.reason = MISSED_OFFERS
    requeue(st, task, now)
    agent_changed(st, agent, now)
    route(st, task, now, confirm=True)


def revoke(st: State, task: Task, now: float, reason: str, *, requeue_it: bool) -> None:
    """Withdraw an offer without blaming the agent: the caller left, or the agent went not ready.

    Without `requeue_it` the task stays reserved to nobody for an instant: the caller ends or moves it next.
    """
    agent = st.agent(task.agent or "")
    agent.reservation = None
    st.emit(Kind.OFFER_REVOKED, now, task, agent=agent.id, reason=reason)
    if requeue_it:
        requeue(st, task, now)
    else:
        task.agent = None
    agent_changed(st, agent, now)
    if requeue_it:
        route(st, task, now, confirm=True)


def requeue(st: State, task: Task, now: float) -> None:
    task.agent = None
    task.offered_at = task.offer_expires_at = None
    st.enqueue(task, st.queues[task.queue], now)


def agent_changed(st: State, agent: Agent, now: float) -> None:
    """The agent's load or presence changed: give it work, or put it among the idle, or neither."""
    matching.unindex(agent, st.store)
    if agent.offerable:
        if st.deferred is not None:
            matching.index(agent, st.queues, st.store)
            st.deferred[0].append(agent)
        else:
            task = matching.best_task_for(agent, st.queues, st.store)
            if task is not None:
                reserve(st, task, agent, now)
            else:
                matching.index(agent, st.queues, st.store)
    sync_state(st, agent, now)


def sync_state(st: State, agent: Agent, now: float) -> None:
    state = agent.derived_state()
    reason = agent.reason if state is AgentState.NOT_READY else None
    previous_reason = agent.reason if agent.state is AgentState.NOT_READY else None
    if state is agent.state and (state is not AgentState.NOT_READY or reason == previous_reason):
        return
    st.emit(
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


def route(st: State, task: Task, now: float, *, confirm: bool) -> None:
    """Offer a task that became routable to the best idle agent by the queue's strategy.

    With `confirm`, the agent found then takes its own best task, which may be a better one: used
    when several tasks changed at once and the single-arrival shortcut does not hold.
    """
    if st.deferred is not None:
        st.deferred[1].append(task)
        return
    queue = st.queues[task.queue]
    while task.place is Place.QUEUED:
        last = st.store.queue_value(queue.id, "round_robin_last", -1)
        agent = matching.best_agent_for(task, queue, st.store, last)
        if agent is None:
            return
        chosen = matching.best_task_for(agent, st.queues, st.store) if confirm else task
        if chosen is None:  # cannot happen: the agent is eligible for `task` itself
            raise AssertionError(f"agent {agent.id} eligible for {task.id} found no task")
        reserve(st, chosen, agent, now)

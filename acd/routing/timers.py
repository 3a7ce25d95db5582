"""Firing the timers that are due: each names its task and the task's version when set, so a timer whose
task moved on since is stale and does nothing (cancelling a timer is free)."""

from __future__ import annotations

from acd import matching
from acd.decisions import Kind
from acd.model import Outcome, Place, Task
from acd.routing.handling import finish
from acd.routing.offers import missed, route
from acd.routing.places import move
from acd.routing.state import State
from acd.routing.tasks import admit, move_to
from acd.routing.topology import QueueRoute
from acd.routing.transfers import back_from_outside
from acd.timers import Timer, TimerKind


def fire_due(st: State, now: float) -> None:
    """Apply every due timer, then route what they changed, all at once and in order of merit."""
    st.deferred = ([], [])
    try:
        while st.timer_budget > 0 and (timer := st.store.pop_due(now)) is not None:
            st.timer_budget -= 1
            at = max(timer.due, st.clock)
            st.clock = at
            _fire(st, timer, at)
    finally:
        agents, tasks = st.deferred
        st.deferred = None
    st.clock = max(st.clock, now)
    for agent in agents:
        while agent.offerable and st.store.idle_entries(agent.id):
            task = matching.best_task_for(agent, st.queues, st.store)
            if task is None:
                break
            route(st, task, now, confirm=True)
    for task in sorted(tasks, key=matching.task_key):
        route(st, task, now, confirm=True)


def _fire(st: State, timer: Timer, at: float) -> None:
    peeked = st.store.peek_task(timer.task_id)  # most timers that fire are stale: only read them
    if peeked is None or peeked.version != timer.version:
        return  # stale: the task has moved on since the timer was set
    task = st.task(peeked.id)  # this one changes it
    queue = st.queues[task.queue]
    kind = timer.kind
    st.cause = kind.value
    if kind is TimerKind.OFFER_TIMEOUT:
        missed(st, task, st.agent(task.agent or ""), at, Kind.OFFER_TIMED_OUT)
    elif kind is TimerKind.WRAP_UP_END:
        finish(st, task, st.agent(task.agent or ""), at)
    elif kind is TimerKind.SCHEDULED_ENTRY:
        task.queued_at = at
        admit(st, task, queue, at)
    elif kind is TimerKind.OVERFLOW_STEP:
        task.step += 1
        st.emit(Kind.TASK_OVERFLOW_STEP, at, task, data={"step": task.step})
        st.set_step_timer(task, queue)
        route(st, task, at, confirm=True)
    elif kind is TimerKind.AGING:
        st.store.dequeue(queue.id, matching.task_key(task))
        task.aging = min(task.aging + queue.aging_step, queue.aging_max)
        st.store.enqueue(queue.id, matching.task_key(task))
        st.emit(Kind.TASK_PRIORITY_AGED, at, task, data={"priority": task.priority + task.aging})
        st.set_aging_timer(task, queue)
    elif kind is TimerKind.MAX_WAIT:
        _max_wait(st, task, queue, at)
    elif kind is TimerKind.OUTSIDE_RING_TIMEOUT:
        back_from_outside(st, task, at, "outside_timeout", None)
    elif kind is TimerKind.FORGET:
        st.store.delete_task(task.id)


def _max_wait(st: State, task: Task, queue: QueueRoute, at: float) -> None:
    target = queue.max_wait_target
    if target is None or task.channel not in st.queues[target].channels:
        st.end(task, Outcome.MAX_WAIT, at)
        return
    st.leave_queue(task)
    move(task, Place.NEW, st.cause, st.store.next_seq)
    st.emit(Kind.TASK_MOVED, at, task, reason="max_wait", data={"to": target})
    move_to(task, st.queues[target], at)
    admit(st, task, st.queues[target], at)

"""Tasks arriving, admitted to a queue (or redirected, or refused), cancelled, or replaced by a call-back.

Admission is decided first (`admission`, which changes nothing) and carried out next (`admit`), so that
an event that must not lose its caller (a transfer) can be refused before anything changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.decisions import Kind
from acd.errors import ChannelNotServed, DuplicateTask, InvalidEvent
from acd.events import CallbackRequested, TaskArrived, TaskCancelled, TaskNoted
from acd.model import Channel, Outcome, Place, Task
from acd.routing.offers import revoke, route
from acd.routing.places import move, require
from acd.routing.state import State
from acd.routing.topology import QueueRoute
from acd.timers import TimerKind

#: Redirections a task may follow in one go (closed or full queues pointing at each other).
MAX_REDIRECTS = 4


@dataclass(frozen=True, slots=True)
class Admission:
    """Where a task entering a queue ends up: through `hops` (redirections), into `queue`, or refused
    there with `outcome` and `reason`."""

    hops: tuple[str, ...]
    queue: str
    outcome: Outcome | None = None
    reason: str | None = None


def admission(st: State, channel: Channel, queue: QueueRoute, now: float, leaving: Task | None = None) -> Admission:
    """Where a task of `channel` entering `queue` now would go; `leaving` is a task about to leave (a
    transferred one), not counted in the queue it waits in. Changes nothing."""
    hops: list[str] = []
    while True:
        target: str | None = None
        if not st.is_open(queue, now):
            action = queue.closed_action(channel)
            if action == "reject":
                reason = queue.hours.closed_reason(now) or "closed"
                return Admission(tuple(hops), queue.id, Outcome.REJECTED_CLOSED, reason)
            if action == "redirect":
                target = queue.when_closed_target
        if target is None and queue.max_size is not None:
            waiting = len(st.store.waiting(queue.id))
            if leaving is not None and leaving.place is Place.QUEUED and leaving.queue == queue.id:
                waiting -= 1
            if waiting >= queue.max_size:
                if queue.max_size_target is None:
                    return Admission(tuple(hops), queue.id, Outcome.REJECTED_FULL, "queue_full")
                target = queue.max_size_target
        if target is None:
            return Admission(tuple(hops), queue.id)
        destination = st.queues[target]
        if len(hops) >= MAX_REDIRECTS or channel not in destination.channels:
            return Admission(tuple(hops), queue.id, Outcome.REJECTED_FULL, "no_queue_to_take_it")
        hops.append(target)
        queue = destination


def admit(
    st: State, task: Task, queue: QueueRoute, now: float, plan: Admission | None = None, **queued: object
) -> None:
    """Into the queue, unless it is closed or full: then redirect or refuse as configured (`plan`, when
    decided beforehand). `queued` adds to the task_queued decision's data."""
    if plan is None:
        plan = admission(st, task.channel, queue, now)
    for target in plan.hops:
        st.emit(Kind.TASK_MOVED, now, task, data={"to": target})
        move_to(task, st.queues[target], now)
    if plan.outcome is not None:
        st.end(task, plan.outcome, now, Kind.TASK_REJECTED, reason=plan.reason)
        return
    queue = st.queues[plan.queue]
    st.enqueue(task, queue, now)
    st.emit(Kind.TASK_QUEUED, now, task, data={"priority": task.priority, **queued})
    route(st, task, now, confirm=False)


def move_to(task: Task, queue: QueueRoute, now: float) -> None:
    """The task belongs to another queue from now: its steps, aging and refusals start again there."""
    task.queue = queue.id
    task.queued_at = now
    task.step = 0
    task.aging = 0
    task.refused_by.clear()


def check_channel(queue: QueueRoute, channel: Channel) -> None:
    if channel not in queue.channels:
        raise ChannelNotServed(f"queue {queue.id!r} does not take {channel.value} tasks", queue=queue.id)


def check_new(st: State, task_id: str) -> None:
    if st.store.peek_task(task_id) is not None:
        raise DuplicateTask(f"task {task_id!r} exists already", task=task_id)


def task_arrived(st: State, event: TaskArrived, now: float) -> None:
    check_new(st, event.task_id)
    queue = st.queue(event.queue)
    check_channel(queue, event.channel)
    if st.skills is not None:
        unknown = sorted(set(event.required_skills) - st.skills)
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
        seq=st.store.next_seq(),
        not_before=event.not_before,
    )
    st.store.put_task(task)
    schedule_or_admit(st, task, queue, now)


def schedule_or_admit(st: State, task: Task, queue: QueueRoute, now: float) -> None:
    """A new task, or a call-back: scheduled for later, or admitted to its queue now."""
    if task.not_before is not None and task.not_before > now:
        move(task, Place.SCHEDULED, st.cause, st.store.next_seq)
        st.add_timer(task.not_before, TimerKind.SCHEDULED_ENTRY, task)
        st.emit(Kind.TASK_SCHEDULED, now, task, data={"not_before": task.not_before})
        return
    admit(st, task, queue, now)


def task_cancelled(st: State, event: TaskCancelled, now: float) -> None:
    task = st.task(event.task_id)
    require(task, event, "cancel")
    if task.place is Place.RESERVED:
        revoke(st, task, now, reason=event.outcome.value, requeue_it=False)
    # Leaving while an outside number rings is no abandon of the queue (the figures): the decision says where.
    outside = task.attributes.get("outside_number", "") if task.place is Place.OUTSIDE else None
    st.end(task, event.outcome, now, data={} if outside is None else {"outside": outside})


def callback_requested(st: State, event: CallbackRequested, now: float) -> None:
    task = st.task(event.task_id)
    require(task, event, "call back")
    check_new(st, event.callback_task_id)
    queue = st.queue(event.queue or task.queue)
    check_channel(queue, Channel.CALLBACK)
    if task.place is Place.RESERVED:
        revoke(st, task, now, reason="callback", requeue_it=False)
    st.end(task, Outcome.CALLBACK, now)
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
    st.store.put_task(callback)
    st.emit(Kind.CALLBACK_CREATED, now, callback, data={"origin_task": task.id, "at": event.at})
    schedule_or_admit(st, callback, queue, now)


def task_noted(st: State, event: TaskNoted, now: float) -> None:
    task = st.task(event.task_id)
    st.emit(Kind.TASK_NOTED, now, task, agent=task.agent, reason=event.note, data=dict(event.data))

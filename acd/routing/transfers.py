"""Transfers: a task handed in one step to a new task, in another queue or ringing an outside number.

Everything is checked before anything changes: the target is resolved (`Topology.resolve`), the new
task's id is free, and the target queue's admission is decided for the new task while the old one is
still where it was. If the queue would refuse it (closed, full with nowhere to go, not serving its
channel), the transfer is refused with `TransferRefused` and the caller's task stays with its agent or in
its queue. Otherwise the old task ends `transferred` (after its agent's wrap-up when it was answered) and
the new one enters the target queue keeping the caller's place (its entry time; for an answered task, the
wait before the answer, never the time with the agent), or rings the outside number.

A task ringing an outside number (place `outside`) ends when the number answers, goes back to its queue
with its place when it fails, and goes back too when nobody said anything for `outside_ring_timeout`
seconds (the node that dialled died): no task waits for ever on a node that is gone.
"""

from __future__ import annotations

from acd.decisions import Kind
from acd.errors import TransferRefused
from acd.events import OutsideAnswered, OutsideFailed, TaskTransferred
from acd.model import OUTSIDE_CHANNELS, Outcome, Place, Task
from acd.routing.handling import end_handling
from acd.routing.offers import revoke
from acd.routing.places import move, refusal, require
from acd.routing.state import State
from acd.routing.tasks import Admission, admission, admit, check_new, move_to
from acd.routing.topology import ToOutside, ToQueue
from acd.timers import TimerKind

#: Why a queue would not take a transferred task, by the outcome its admission gave.
_REFUSALS = {Outcome.REJECTED_CLOSED: "closed", Outcome.REJECTED_FULL: "queue_full"}


def task_transferred(st: State, event: TaskTransferred, now: float) -> None:
    task = st.task(event.task_id)
    require(task, event, "transfer")
    check_new(st, event.new_task_id)
    target = st.topology.resolve(event.to)
    if isinstance(target, ToQueue):
        plan = _plan(st, task, target, now)
        _hand_over(st, task, event, target.queue, now)
        new = _successor(st, task, event.new_task_id, target.queue, now, {})
        admit(st, new, st.queues[target.queue], now, plan, transferred_from=task.id)
    else:
        _check_outside(task, target)
        _hand_over(st, task, event, target.number, now)
        new = _successor(st, task, event.new_task_id, task.queue, now, {"outside_number": target.number})
        move(new, Place.OUTSIDE, st.cause, st.store.next_seq)
        st.add_timer(now + st.topology.outside_ring_timeout, TimerKind.OUTSIDE_RING_TIMEOUT, new)
        st.emit(
            Kind.TASK_DIALLING,
            now,
            new,
            reason=event.reason,
            data={"number": target.number, "transferred_from": task.id},
        )


def _plan(st: State, task: Task, target: ToQueue, now: float) -> Admission:
    """The target queue's admission of the new task, decided before anything changes; refused if it would
    not take it."""
    queue = st.queues[target.queue]
    if task.channel not in queue.channels:
        raise TransferRefused(
            f"cannot transfer task {task.id!r} to queue {queue.id!r}: it does not take {task.channel.value} tasks",
            task=task.id,
            to=queue.id,
            reason="channel_not_served",
        )
    plan = admission(st, task.channel, queue, now, leaving=task)
    if plan.outcome is not None:
        reason = plan.reason if plan.reason == "no_queue_to_take_it" else _REFUSALS[plan.outcome]
        raise TransferRefused(
            f"cannot transfer task {task.id!r} to queue {queue.id!r}: {plan.reason}",
            task=task.id,
            to=queue.id,
            reason=reason,
        )
    return plan


def _check_outside(task: Task, target: ToOutside) -> None:
    if task.channel not in OUTSIDE_CHANNELS:
        raise TransferRefused(
            f"cannot transfer task {task.id!r} to {target.number!r}: a {task.channel.value} task cannot ring a number",
            task=task.id,
            to=target.number,
            reason="channel_not_served",
        )


def _hand_over(st: State, task: Task, event: TaskTransferred, to: str, now: float) -> None:
    """The old task's end: its offer revoked, or its agent's part ended (wrap-up follows), or out of its
    queue; `task_transferred` says where the caller went."""
    task.transferred_to = to
    data = {"to": to, "new_task": event.new_task_id}
    if task.place is Place.ASSIGNED:
        agent = st.agent(task.agent or "")
        st.emit(Kind.TASK_TRANSFERRED, now, task, agent=agent.id, reason=event.reason, data=data)
        end_handling(st, task, agent, now)  # ends `transferred` once the agent's wrap-up ends
        return
    if task.place is Place.RESERVED:
        revoke(st, task, now, reason=event.reason, requeue_it=False)
    st.end(task, Outcome.TRANSFERRED, now, Kind.TASK_TRANSFERRED, reason=event.reason, data=data)


def _successor(st: State, task: Task, new_task_id: str, queue: str, now: float, extra: dict[str, str]) -> Task:
    """The new task that takes the caller: same channel, priority, skills and place earned while waiting."""
    attributes = task.attributes | extra
    if task.answered_at is None:
        entered_at = task.entered_at  # still waiting: the caller keeps its entry time
    else:  # answered: the wait before the answer is kept, the time with the agent is no wait (../shared/DEFINITIONS.md)
        entered_at = now - max(0.0, task.answered_at - task.entered_at)
    new = Task(
        id=new_task_id,
        channel=task.channel,
        queue=queue,
        priority=task.priority,
        attributes={**attributes, "transferred_from": task.id},
        required_skills=dict(task.required_skills),
        created_at=now,
        entered_at=entered_at,
        queued_at=now,
        seq=task.seq,
    )
    st.store.put_task(new)
    return new


def outside_answered(st: State, event: OutsideAnswered, now: float) -> None:
    """The number answered: the task ends, its caller is theirs. Heard too when its ring timeout had taken the
    task back to its queue first (the number took long to say, the timer fired as the word came): its offer,
    if any, is revoked, and the caller is not left waiting in a queue while it talks outside."""
    task = st.task(event.task_id)
    require(task, event, "end as answered outside")
    if task.place is not Place.OUTSIDE:
        _require_back_from_outside(task, event)
        if task.place is Place.RESERVED:
            revoke(st, task, now, reason="answered_outside", requeue_it=False)
    st.end(task, Outcome.ANSWERED_OUTSIDE, now)


def outside_failed(st: State, event: OutsideFailed, now: float) -> None:
    """The number did not answer: back to the task's queue with its place; nothing to do when its ring timeout
    already took it back."""
    task = st.task(event.task_id)
    require(task, event, "bring back")
    if task.place is not Place.OUTSIDE:
        _require_back_from_outside(task, event)
        return
    back_from_outside(st, task, now, "outside_failed", event.status)


def _require_back_from_outside(task: Task, event: OutsideAnswered | OutsideFailed) -> None:
    """Waiting (or offered) again, the task must be one an outside number rang (`outside_number`), taken back by
    its ring timeout (the driver that dialled it says how the number ended once only)."""
    if "outside_number" not in task.attributes:
        raise refusal(task, event, f"task {task.id!r} rings no outside number")


def back_from_outside(st: State, task: Task, now: float, reason: str, status: int | None) -> None:
    """The outside number did not take the caller: back to the task's queue, admitted as any arrival
    (task_queued says `outside` and the SIP `status`; a queue closed since rejects it)."""
    queue = st.queues[task.queue]
    move_to(task, queue, now)
    admit(st, task, queue, now, outside=reason, status=status)

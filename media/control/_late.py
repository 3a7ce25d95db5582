"""Call control's rules for the answers that come after the call ended: what they leave is tidied (a port
closed, a task queued for nobody cancelled, an accepted offer completed). Functions of `CallControl`, named in
its table (media.control.core)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.events import TaskCancelled, TaskCompleted
from media.control import events as ev
from media.control.actions import Action, ClosePort, Submit
from media.control.records import CallRecord, CallState

if TYPE_CHECKING:
    from media.control.core import CallControl

S = CallState
Actions = list[Action]


def port(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The port opened (or failed) for a call that ended meanwhile: closed at once."""
    call.awaiting = None
    return [ClosePort(call.call)] if isinstance(event, ev.PortOpened) else []


def queued(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The task was queued (requeued, or set ringing an outside number) after the caller left: cancelled,
    it must not wait for nobody."""
    call.awaiting, call.transfer = None, None
    task = event.task if isinstance(event, ev.Queued | ev.Requeued | ev.Dialling) else call.task
    return [Submit(call.call, TaskCancelled(task))]


def transfer_refused(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The core refused a transfer after the caller left: the task is still where it was, and ends as
    the caller's leaving would have ended it (completed by its agent, else cancelled)."""
    pending, call.transfer, call.awaiting = call.transfer, None, None
    if not call.task_live:
        return []
    call.task_live = False
    if pending is not None and pending.before in (S.TALKING, S.HELD) and call.agent is not None:
        return [Submit(call.call, TaskCompleted(call.task, call.agent))]
    return [Submit(call.call, TaskCancelled(call.task))]


def answer(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """An answer that leaves nothing to tidy (refused, dialled, booked) for a call that ended meanwhile."""
    call.awaiting = None
    return []


def callback_refused(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The call-back was refused after the caller left: its task, still waiting, is cancelled."""
    call.awaiting = None
    if not call.task_live:
        return []
    call.task_live = False
    return [Submit(call.call, TaskCancelled(call.task))]


def accept(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The core answered the agent's answer after the caller left: the task ends either way."""
    call.awaiting, live, call.task_live = None, call.task_live, False
    if isinstance(event, ev.OfferTaken):  # the agent's now: completed, its wrap-up follows
        return [Submit(call.call, TaskCompleted(call.task, event.agent))]
    return [Submit(call.call, TaskCancelled(call.task))] if live else []

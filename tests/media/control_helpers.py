"""Calls brought to each state of call control by the events a switchboard would feed, for its tests."""

from __future__ import annotations

from media.control import CallControl, task_id_for
from media.control import events as ev
from media.control.actions import Action

CALL = "a84b4c76e66710@trunk.example"
TASK = task_id_for(CALL)
TASK_1 = task_id_for(f"{CALL}/1")  # the task the call becomes at its first transfer
ARRIVE = ev.InviteArrived(CALL, TASK, "q1", attributes={"caller": "0102030405"})
ENTER_FLOW = ev.InviteArrived(CALL, TASK, flow="welcome", attributes={"caller": "0102030405"})

SETTING_UP = (ARRIVE,)
QUEUEING = (*SETTING_UP, ev.PortOpened(CALL))
IVR = (ENTER_FLOW, ev.PortOpened(CALL))
QUEUEING_FROM_IVR = (*IVR, ev.FlowQueue(CALL, "q1", {"topic": "tva"}))
WAITING = (*QUEUEING, ev.Queued(CALL, TASK))
RINGING = (*WAITING, ev.Offered(CALL, TASK, "ana"))  # leg "1" rings ana's phone
ANSWERING = (*RINGING, ev.LegAnswered(CALL, "1"))
TALKING = (*ANSWERING, ev.OfferTaken(CALL, TASK, "ana"))
HELD = (*TALKING, ev.LegHeld(CALL, "1", on_hold=True))
CONSULTING = (*TALKING, ev.ConsultAsked(CALL, "bob"))  # leg "2" rings bob
CONSULT_ANSWERED = (*CONSULTING, ev.LegAnswered(CALL, "2"))
# The core's answer awaited: the agent still has the caller (TASK); TASK_1 if the core takes the transfer.
REQUEUEING = (*TALKING, ev.TransferAsked(CALL, "q2"))
DIALLING = (*TALKING, ev.TransferAsked(CALL, "0612345678"))
DIALLED = (*DIALLING, ev.Dialling(CALL, TASK_1, "0612345678"))  # leg "2" rings the number for TASK_1
RETURNING = (*DIALLED, ev.LegRefused(CALL, "2", 486))  # the core asked to take TASK_1 back to its queue
OUTSIDE = (*DIALLED, ev.LegAnswered(CALL, "2"))
OVERFLOWING = (*WAITING, ev.FlowOverflow(CALL, "q2"))  # the core's answer awaited: the caller waits as TASK
BOOKING = (*WAITING, ev.FlowCallback(CALL, "0612345678", "callback-1"))
ENDED_AWAITING_PORT = (*SETTING_UP, ev.CallerCancelled(CALL))
ENDED_AWAITING_QUEUE = (*QUEUEING, ev.CallerCancelled(CALL))
ENDED_AWAITING_ACCEPT = (*ANSWERING, ev.CallerHungUp(CALL))
ENDED_AWAITING_TRANSFER = (*REQUEUEING, ev.CallerHungUp(CALL))
ENDED_AWAITING_DIAL = (*DIALLING, ev.CallerHungUp(CALL))
ENDED_AWAITING_RETURN = (*RETURNING, ev.CallerHungUp(CALL))
ENDED_AWAITING_CALLBACK = (*BOOKING, ev.CallerHungUp(CALL))
ENDED = (*TALKING, ev.CallerHungUp(CALL))


def brought(steps: tuple[ev.CallEvent, ...], control: CallControl | None = None) -> CallControl:
    control = control or CallControl()
    for event in steps:
        control.handle(event, 0.0)
    return control


def fed(control: CallControl, *events: ev.CallEvent) -> list[Action]:
    """All the actions `events` ask for, in order."""
    return [action for event in events for action in control.handle(event, 0.0)]

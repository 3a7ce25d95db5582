"""Call control (media.control): every rule of its table, fed from a call brought to the rule's state."""

from __future__ import annotations

from typing import Any

import pytest

from acd.events import OfferRefused, OutsideAnswered, TaskCancelled, TaskCompleted, TaskNoted
from acd.model import Outcome
from media.control import IGNORED, TABLE, CallControl, CallState, CallStateError, DuplicateCall, UnknownCall, UnknownLeg
from media.control import events as ev
from media.control.actions import (
    AcceptOffer,
    AcceptRefer,
    Action,
    Bridge,
    ByeCaller,
    CancelLeg,
    ClosePort,
    EndCall,
    FlowNote,
    HangUpLeg,
    NotifyRefer,
    OpenPort,
    PlaceLeg,
    PlayMusic,
    RefreshSession,
    RejectRequest,
    RequestCallback,
    Respond,
    Role,
    StartFlow,
    StartRecording,
    StopFlow,
    StopMusic,
    StopRecording,
    Submit,
    SubmitArrival,
    SubmitReturn,
    SubmitTransfer,
    TellFlow,
    Unbridge,
)
from media.control.events import InvalidCallEvent
from tests.media import control_helpers as h
from tests.media.control_helpers import CALL, TASK, TASK_1, brought

S = CallState
C = CALL


def submit(event: Any) -> Submit:
    return Submit(C, event)


def refused(agent: str, task: str = TASK) -> Submit:
    return submit(OfferRefused(task, agent))


def noted(note: str, data: dict[str, str] | None = None, task: str = TASK) -> Submit:
    return submit(TaskNoted(task, note, data or {}))


def key(who: str = "caller", digit: str = "5") -> ev.Key:
    return ev.Key(C, who, digit)


def dtmf(who: str = "caller", digit: str = "5") -> Submit:
    return noted("dtmf", {"digit": digit, "from": who})


NOT_WAITING = TellFlow(C, FlowNote.CALLBACK_FAILED, "not_waiting")
LOST = ev.MediaLost(C, "media_timeout", "caller")
LOST_NOTE = noted("media_timeout", {"side": "caller"})
HUNG_UP, NO_ACK = ev.CallerHungUp(C), ev.NoAck(C)
OFFER_BOB, OFFER_ENDED_ANA = ev.Offered(C, TASK, "bob"), ev.OfferEnded(C, TASK, "ana")
CALLBACK = ev.FlowCallback(C, "0612345678", "callback-1")
END = EndCall(C, "caller_hung_up")
END_NO_ACK, END_LOST = EndCall(C, "no_ack"), EndCall(C, "media_timeout")
TELL_GONE = TellFlow(C, FlowNote.CALLER_HUNG_UP)
MUSIC, NO_MUSIC, PORT_CLOSED, BYE = PlayMusic(C), StopMusic(C), ClosePort(C), ByeCaller(C)
HANDED_TO_BOB = SubmitTransfer(C, TASK, "bob", None, "transferred", "ana", joined=True)

#: (state, event) -> (the steps that bring a call there, the event, the state it leaves, the actions, exactly)
Scenario = tuple[tuple[ev.CallEvent, ...], ev.CallEvent, CallState, list[Action]]
SCENARIOS: dict[tuple[CallState, type[ev.CallEvent]], Scenario] = {
    # ------------------------------------------------------------------------------ SETTING_UP
    (S.SETTING_UP, ev.PortOpened): (
        h.SETTING_UP, ev.PortOpened(C), S.QUEUEING, [SubmitArrival(C, TASK, "q1", {"caller": "0102030405"})],
    ),
    (S.SETTING_UP, ev.PortFailed): (
        h.SETTING_UP, ev.PortFailed(C, 488, "no codec"), S.ENDED,
        [Respond(C, 488, "no codec"), EndCall(C, "refused")],
    ),
    (S.SETTING_UP, ev.CallerCancelled): (h.SETTING_UP, ev.CallerCancelled(C), S.ENDED, [Respond(C, 487)]),
    (S.SETTING_UP, ev.CallerHungUp): (h.SETTING_UP, HUNG_UP, S.ENDED, [Respond(C, 487)]),
    (S.SETTING_UP, ev.Offered): (h.SETTING_UP, OFFER_BOB, S.SETTING_UP, [refused("bob")]),
    (S.SETTING_UP, ev.OfferEnded): (h.SETTING_UP, OFFER_ENDED_ANA, S.SETTING_UP, []),
    # -------------------------------------------------------------------------------- QUEUEING
    (S.QUEUEING, ev.Queued): (h.QUEUEING, ev.Queued(C, TASK), S.WAITING, [Respond(C, 200), MUSIC]),
    (S.QUEUEING, ev.QueueRefused): (
        h.QUEUEING, ev.QueueRefused(C, TASK, "queue_full"), S.ENDED,
        [Respond(C, 486), PORT_CLOSED, EndCall(C, "refused")],
    ),
    (S.QUEUEING, ev.CallerCancelled): (h.QUEUEING, ev.CallerCancelled(C), S.ENDED, [Respond(C, 487), PORT_CLOSED]),
    (S.QUEUEING, ev.CallerHungUp): (h.QUEUEING_FROM_IVR, HUNG_UP, S.ENDED, [TELL_GONE, StopFlow(C), PORT_CLOSED]),
    (S.QUEUEING, ev.NoAck): (h.QUEUEING_FROM_IVR, NO_ACK, S.ENDED, [TELL_GONE, StopFlow(C), BYE, PORT_CLOSED]),
    (S.QUEUEING, ev.MediaLost): (h.QUEUEING_FROM_IVR, LOST, S.ENDED, [TELL_GONE, StopFlow(C), BYE, PORT_CLOSED]),
    (S.QUEUEING, ev.Key): (h.QUEUEING_FROM_IVR, key(), S.QUEUEING, [TellFlow(C, FlowNote.KEY, "5")]),
    (S.QUEUEING, ev.Offered): (h.QUEUEING, OFFER_BOB, S.QUEUEING, []),  # rung once WAITING (test below)
    (S.QUEUEING, ev.OfferEnded): (h.QUEUEING, OFFER_ENDED_ANA, S.QUEUEING, []),
    (S.QUEUEING, ev.FlowHangUp): (
        h.QUEUEING_FROM_IVR, ev.FlowHangUp(C, "closed"), S.ENDED, [StopFlow(C), BYE, PORT_CLOSED],
    ),
    (S.QUEUEING, ev.FlowCallback): (h.QUEUEING_FROM_IVR, CALLBACK, S.QUEUEING, [NOT_WAITING]),
    # ------------------------------------------------------------------------------------- IVR
    (S.IVR, ev.FlowQueue): (
        h.IVR, ev.FlowQueue(C, "q1", {"topic": "tva"}), S.QUEUEING, [SubmitArrival(C, TASK, "q1", {"topic": "tva"})],
    ),
    (S.IVR, ev.FlowTransfer): (
        h.IVR, ev.FlowTransfer(C, "0612345678"), S.TRANSFERRING,
        [MUSIC, PlaceLeg(C, "1", Role.OUTSIDE, "0612345678")],
    ),
    (S.IVR, ev.CallerHungUp): (h.IVR, HUNG_UP, S.ENDED, [TELL_GONE, StopFlow(C), PORT_CLOSED, END]),
    (S.IVR, ev.NoAck): (h.IVR, NO_ACK, S.ENDED, [TELL_GONE, StopFlow(C), BYE, PORT_CLOSED, END_NO_ACK]),
    (S.IVR, ev.MediaLost): (h.IVR, LOST, S.ENDED, [TELL_GONE, StopFlow(C), BYE, PORT_CLOSED, END_LOST]),
    (S.IVR, ev.Key): (h.IVR, key(), S.IVR, [TellFlow(C, FlowNote.KEY, "5")]),
    (S.IVR, ev.Offered): (h.IVR, OFFER_BOB, S.IVR, [refused("bob")]),
    (S.IVR, ev.OfferEnded): (h.IVR, OFFER_ENDED_ANA, S.IVR, []),
    (S.IVR, ev.FlowHangUp): (
        h.IVR, ev.FlowHangUp(C, "goodbye"), S.ENDED, [StopFlow(C), BYE, PORT_CLOSED, EndCall(C, "ivr_goodbye")],
    ),
    (S.IVR, ev.FlowCallback): (h.IVR, CALLBACK, S.IVR, [NOT_WAITING]),
    # --------------------------------------------------------------------------------- WAITING
    (S.WAITING, ev.LegAnswered): (h.RINGING, ev.LegAnswered(C, "1"), S.ANSWERING, [AcceptOffer(C, TASK, "ana")]),
    (S.WAITING, ev.LegRefused): (h.RINGING, ev.LegRefused(C, "1", 486), S.WAITING, [refused("ana")]),
    (S.WAITING, ev.FlowOverflow): (
        h.WAITING, ev.FlowOverflow(C, "q2"), S.TRANSFERRING, [SubmitTransfer(C, TASK, "q2", TASK_1, "max_wait")],
    ),
    (S.ANSWERING, ev.FlowOverflow): (h.ANSWERING, ev.FlowOverflow(C, "q2"), S.ANSWERING, []),  # held: see below
    (S.WAITING, ev.FlowCallback): (
        h.RINGING, CALLBACK, S.BOOKING,
        [CancelLeg(C, "1"), refused("ana"), RequestCallback(C, TASK, "callback-1", "0612345678")],
    ),
    (S.WAITING, ev.CallerHungUp): (
        h.RINGING, HUNG_UP, S.ENDED, [submit(TaskCancelled(TASK)), CancelLeg(C, "1"), NO_MUSIC, PORT_CLOSED, END],
    ),
    (S.WAITING, ev.NoAck): (
        h.RINGING, NO_ACK, S.ENDED,
        [submit(TaskCancelled(TASK)), CancelLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED, END_NO_ACK],
    ),
    (S.WAITING, ev.MediaLost): (
        h.RINGING, LOST, S.ENDED,
        [LOST_NOTE, submit(TaskCancelled(TASK)), CancelLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED, END_LOST],
    ),
    (S.WAITING, ev.Key): (h.RINGING, key(), S.WAITING, [dtmf()]),
    (S.WAITING, ev.Offered): (h.RINGING, OFFER_BOB, S.WAITING, [refused("bob")]),  # ana's phone rings
    (S.WAITING, ev.OfferEnded): (h.RINGING, OFFER_ENDED_ANA, S.WAITING, [CancelLeg(C, "1")]),
    (S.WAITING, ev.TaskEnded): (
        h.RINGING, ev.TaskEnded(C, TASK, "max_wait"), S.ENDED,
        [CancelLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED, EndCall(C, "max_wait")],
    ),
    (S.WAITING, ev.FlowHangUp): (
        h.RINGING, ev.FlowHangUp(C, "full"), S.ENDED,
        [submit(TaskCancelled(TASK, Outcome.CANCELLED)), CancelLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED,
         EndCall(C, "ivr_full")],
    ),
    # ------------------------------------------------------------------------------- ANSWERING
    (S.ANSWERING, ev.OfferTaken): (
        h.ANSWERING, ev.OfferTaken(C, TASK, "ana"), S.TALKING, [NO_MUSIC, Bridge(C, "caller", "1")],
    ),
    (S.ANSWERING, ev.OfferLost): (h.ANSWERING, ev.OfferLost(C, TASK, "ana"), S.WAITING, [HangUpLeg(C, "1")]),
    (S.ANSWERING, ev.LegHungUp): (h.ANSWERING, ev.LegHungUp(C, "1"), S.ANSWERING, []),
    (S.ANSWERING, ev.CallerHungUp): (h.ANSWERING, HUNG_UP, S.ENDED, [HangUpLeg(C, "1"), NO_MUSIC, PORT_CLOSED]),
    (S.ANSWERING, ev.NoAck): (h.ANSWERING, NO_ACK, S.ENDED, [HangUpLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED]),
    (S.ANSWERING, ev.MediaLost): (
        h.ANSWERING, LOST, S.ENDED, [LOST_NOTE, HangUpLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED],
    ),
    (S.ANSWERING, ev.Key): (h.ANSWERING, key(), S.ANSWERING, [dtmf()]),
    (S.ANSWERING, ev.Offered): (h.ANSWERING, OFFER_BOB, S.ANSWERING, []),  # rung if the core refuses ana's answer
    (S.ANSWERING, ev.OfferEnded): (h.ANSWERING, OFFER_ENDED_ANA, S.ANSWERING, []),  # the core's answer tells
    (S.ANSWERING, ev.TaskEnded): (
        h.ANSWERING, ev.TaskEnded(C, TASK, "withdrawn"), S.ENDED, [HangUpLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED],
    ),
    (S.ANSWERING, ev.FlowHangUp): (
        h.ANSWERING, ev.FlowHangUp(C, "closed"), S.ENDED, [HangUpLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED],
    ),
    (S.ANSWERING, ev.FlowCallback): (h.ANSWERING, CALLBACK, S.ANSWERING, [NOT_WAITING]),
    # --------------------------------------------------------------------------------- TALKING
    (S.TALKING, ev.ConsultAsked): (
        h.TALKING, ev.ConsultAsked(C, "bob"), S.CONSULTING,
        [Unbridge(C), MUSIC, PlaceLeg(C, "2", Role.CONSULT, "bob"), noted("consulting", {"with": "bob"})],
    ),
    (S.TALKING, ev.LegHungUp): (
        h.TALKING, ev.LegHungUp(C, "1"), S.ENDED,
        [submit(TaskCompleted(TASK, "ana")), Unbridge(C), BYE, PORT_CLOSED, EndCall(C, "agent_hung_up")],
    ),
    (S.TALKING, ev.LegHeld): (
        h.TALKING, ev.LegHeld(C, "1", on_hold=True), S.HELD, [Unbridge(C), MUSIC, noted("hold")],
    ),
    (S.TALKING, ev.TransferAsked): (
        h.TALKING, ev.TransferAsked(C, "q2"), S.TRANSFERRING,  # the agent keeps the caller until the core says
        [SubmitTransfer(C, TASK, "q2", TASK_1, "transferred", "ana")],
    ),
    (S.TALKING, ev.CallerHungUp): (
        h.TALKING, HUNG_UP, S.ENDED,
        [submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), Unbridge(C), PORT_CLOSED, END],
    ),
    (S.TALKING, ev.NoAck): (
        h.TALKING, NO_ACK, S.ENDED,
        [submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), Unbridge(C), BYE, PORT_CLOSED, END_NO_ACK],
    ),
    (S.TALKING, ev.MediaLost): (
        h.TALKING, ev.MediaLost(C, "media_timeout", "agent"), S.ENDED,
        [noted("media_timeout", {"side": "agent"}), submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"),
         Unbridge(C), BYE, PORT_CLOSED, END_LOST],
    ),
    (S.TALKING, ev.Key): (h.TALKING, key("agent", "#"), S.TALKING, [dtmf("agent", "#")]),
    (S.TALKING, ev.Offered): (h.TALKING, OFFER_BOB, S.TALKING, [refused("bob")]),
    (S.TALKING, ev.OfferEnded): (h.TALKING, OFFER_ENDED_ANA, S.TALKING, []),
    (S.TALKING, ev.TaskEnded): (
        h.TALKING, ev.TaskEnded(C, TASK, "withdrawn"), S.ENDED,
        [HangUpLeg(C, "1"), Unbridge(C), BYE, PORT_CLOSED, EndCall(C, "withdrawn")],
    ),
    # ------------------------------------------------------------------------------------ HELD
    (S.HELD, ev.LegHeld): (
        h.HELD, ev.LegHeld(C, "1", on_hold=False), S.TALKING,
        [NO_MUSIC, Bridge(C, "caller", "1"), noted("resume")],
    ),
    (S.HELD, ev.LegHungUp): (
        h.HELD, ev.LegHungUp(C, "1"), S.ENDED,
        [submit(TaskCompleted(TASK, "ana")), NO_MUSIC, BYE, PORT_CLOSED, EndCall(C, "agent_hung_up")],
    ),
    (S.HELD, ev.TransferAsked): (
        h.HELD, ev.TransferAsked(C, "0612345678"), S.TRANSFERRING,
        [SubmitTransfer(C, TASK, "0612345678", TASK_1, "transferred", "ana")],
    ),
    (S.HELD, ev.CallerHungUp): (
        h.HELD, HUNG_UP, S.ENDED, [submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), NO_MUSIC, PORT_CLOSED, END],
    ),
    (S.HELD, ev.NoAck): (
        h.HELD, NO_ACK, S.ENDED,
        [submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED, END_NO_ACK],
    ),
    (S.HELD, ev.MediaLost): (
        h.HELD, LOST, S.ENDED,
        [LOST_NOTE, submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED, END_LOST],
    ),
    (S.HELD, ev.Key): (h.HELD, key(), S.HELD, [dtmf()]),
    (S.HELD, ev.Offered): (h.HELD, OFFER_BOB, S.HELD, [refused("bob")]),
    (S.HELD, ev.OfferEnded): (h.HELD, OFFER_ENDED_ANA, S.HELD, []),
    (S.HELD, ev.TaskEnded): (
        h.HELD, ev.TaskEnded(C, TASK, "withdrawn"), S.ENDED,
        [HangUpLeg(C, "1"), NO_MUSIC, BYE, PORT_CLOSED, EndCall(C, "withdrawn")],
    ),
    # ------------------------------------------------------------------------------ CONSULTING
    (S.CONSULTING, ev.LegAnswered): (h.CONSULTING, ev.LegAnswered(C, "2"), S.CONSULTING, [Bridge(C, "1", "2")]),
    (S.CONSULTING, ev.LegRefused): (
        h.CONSULTING, ev.LegRefused(C, "2", 486), S.TALKING,
        [NO_MUSIC, Bridge(C, "caller", "1"), noted("consult_failed", {"status": "486"})],
    ),
    (S.CONSULTING, ev.LegHungUp): (
        h.CONSULT_ANSWERED, ev.LegHungUp(C, "2"), S.TALKING,
        [Unbridge(C), NO_MUSIC, Bridge(C, "caller", "1"), noted("consult_ended")],
    ),
    (S.CONSULTING, ev.ConsultCompleted): (
        h.CONSULT_ANSWERED, ev.ConsultCompleted(C), S.OUTSIDE,
        [HangUpLeg(C, "1"), Unbridge(C), NO_MUSIC, Bridge(C, "caller", "2"), HANDED_TO_BOB],
    ),
    (S.CONSULTING, ev.ConsultCancelled): (
        h.CONSULTING, ev.ConsultCancelled(C), S.TALKING,
        [CancelLeg(C, "2"), NO_MUSIC, Bridge(C, "caller", "1"), noted("consult_ended")],
    ),
    (S.CONSULTING, ev.CallerHungUp): (
        h.CONSULTING, HUNG_UP, S.ENDED,
        [submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), CancelLeg(C, "2"), NO_MUSIC, PORT_CLOSED, END],
    ),
    (S.CONSULTING, ev.NoAck): (
        h.CONSULT_ANSWERED, NO_ACK, S.ENDED,
        [submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), HangUpLeg(C, "2"), Unbridge(C), NO_MUSIC, BYE,
         PORT_CLOSED, END_NO_ACK],
    ),
    (S.CONSULTING, ev.MediaLost): (
        h.CONSULTING, LOST, S.ENDED,
        [LOST_NOTE, submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), CancelLeg(C, "2"), NO_MUSIC, BYE,
         PORT_CLOSED, END_LOST],
    ),
    (S.CONSULTING, ev.Key): (h.CONSULTING, key("agent", "1"), S.CONSULTING, [dtmf("agent", "1")]),
    (S.CONSULTING, ev.Offered): (h.CONSULTING, OFFER_BOB, S.CONSULTING, [refused("bob")]),
    (S.CONSULTING, ev.OfferEnded): (h.CONSULTING, OFFER_ENDED_ANA, S.CONSULTING, []),
    (S.CONSULTING, ev.TaskEnded): (
        h.CONSULTING, ev.TaskEnded(C, TASK, "withdrawn"), S.ENDED,
        [HangUpLeg(C, "1"), CancelLeg(C, "2"), NO_MUSIC, BYE, PORT_CLOSED, EndCall(C, "withdrawn")],
    ),
    # ---------------------------------------------------------------------------- TRANSFERRING
    (S.TRANSFERRING, ev.Requeued): (  # the core moved the task: the agent's part ends, the caller hears music
        h.REQUEUEING, ev.Requeued(C, TASK_1, "q2"), S.WAITING, [HangUpLeg(C, "1"), Unbridge(C), MUSIC],
    ),
    (S.TRANSFERRING, ev.Dialling): (
        h.DIALLING, ev.Dialling(C, TASK_1, "0612345678"), S.TRANSFERRING,
        [HangUpLeg(C, "1"), Unbridge(C), MUSIC, PlaceLeg(C, "2", Role.OUTSIDE, "0612345678")],
    ),
    (S.TRANSFERRING, ev.TransferRefused): (  # nothing moved: the agent still talks with the caller
        h.REQUEUEING, ev.TransferRefused(C, "closed"), S.TALKING, [],
    ),
    (S.TRANSFERRING, ev.QueueRefused): (  # the number did not answer and the queue closed since: the core ended it
        h.RETURNING, ev.QueueRefused(C, TASK_1, "closed"), S.ENDED, [NO_MUSIC, BYE, PORT_CLOSED, EndCall(C, "closed")],
    ),
    (S.TRANSFERRING, ev.LegAnswered): (
        h.DIALLED, ev.LegAnswered(C, "2"), S.OUTSIDE,
        [NO_MUSIC, submit(OutsideAnswered(TASK_1)), Bridge(C, "caller", "2")],
    ),
    (S.TRANSFERRING, ev.LegRefused): (  # the core takes the task back to its queue, with its place: nothing lost
        h.DIALLED, ev.LegRefused(C, "2", 486), S.TRANSFERRING, [SubmitReturn(C, TASK_1, 486)],
    ),
    (S.TRANSFERRING, ev.LegHungUp): (  # the agent hangs up before the core's answer: the caller hears music
        h.REQUEUEING, ev.LegHungUp(C, "1"), S.TRANSFERRING, [Unbridge(C), MUSIC],
    ),
    (S.TRANSFERRING, ev.CallerHungUp): (  # what its task becomes waits for the core's answer
        h.REQUEUEING, HUNG_UP, S.ENDED, [HangUpLeg(C, "1"), Unbridge(C), PORT_CLOSED],
    ),
    (S.TRANSFERRING, ev.NoAck): (
        h.DIALLED, NO_ACK, S.ENDED,
        [submit(TaskCancelled(TASK_1)), CancelLeg(C, "2"), NO_MUSIC, BYE, PORT_CLOSED, END_NO_ACK],
    ),
    (S.TRANSFERRING, ev.MediaLost): (
        h.DIALLED, LOST, S.ENDED,
        [noted("media_timeout", {"side": "caller"}, TASK_1), submit(TaskCancelled(TASK_1)), CancelLeg(C, "2"),
         NO_MUSIC, BYE, PORT_CLOSED, END_LOST],
    ),
    (S.TRANSFERRING, ev.Key): (h.DIALLED, key(), S.TRANSFERRING, [noted("dtmf", {"digit": "5", "from": "caller"}, TASK_1)]),
    (S.TRANSFERRING, ev.Offered): (h.REQUEUEING, ev.Offered(C, TASK_1, "bob"), S.TRANSFERRING, []),  # deferred
    (S.TRANSFERRING, ev.OfferEnded): (h.REQUEUEING, ev.OfferEnded(C, TASK_1, "bob"), S.TRANSFERRING, []),
    (S.TRANSFERRING, ev.OutsideTimedOut): (  # the core gave up on the number: the caller waits in its queue again
        h.DIALLED, ev.OutsideTimedOut(C, TASK_1, "q1"), S.WAITING, [CancelLeg(C, "2")],  # music already on
    ),
    (S.TRANSFERRING, ev.LegHeld): (  # the phone holds as the core answers: music, and a refusal leaves it held
        h.REQUEUEING, ev.LegHeld(C, "1", on_hold=True), S.TRANSFERRING, [Unbridge(C), MUSIC],
    ),
    (S.TRANSFERRING, ev.TaskEnded): (  # the core ended the caller's task as the overflow was asked: it is over
        h.OVERFLOWING, ev.TaskEnded(C, TASK, "max_wait"), S.ENDED, [NO_MUSIC, BYE, PORT_CLOSED],
    ),
    (S.TRANSFERRING, ev.FlowHangUp): (
        h.REQUEUEING, ev.FlowHangUp(C, "closed"), S.ENDED, [HangUpLeg(C, "1"), Unbridge(C), BYE, PORT_CLOSED],
    ),
    (S.TRANSFERRING, ev.FlowCallback): (h.REQUEUEING, CALLBACK, S.TRANSFERRING, [NOT_WAITING]),
    # --------------------------------------------------------------------------------- BOOKING
    (S.BOOKING, ev.CallbackBooked): (
        h.BOOKING, ev.CallbackBooked(C), S.IVR, [NO_MUSIC, TellFlow(C, FlowNote.CALLBACK_BOOKED)],
    ),
    (S.BOOKING, ev.CallbackRefused): (
        h.BOOKING, ev.CallbackRefused(C), S.WAITING, [TellFlow(C, FlowNote.CALLBACK_FAILED, "refused")],
    ),
    (S.BOOKING, ev.CallerHungUp): (h.BOOKING, HUNG_UP, S.ENDED, [NO_MUSIC, PORT_CLOSED]),
    (S.BOOKING, ev.NoAck): (h.BOOKING, NO_ACK, S.ENDED, [NO_MUSIC, BYE, PORT_CLOSED]),
    (S.BOOKING, ev.MediaLost): (h.BOOKING, LOST, S.ENDED, [LOST_NOTE, NO_MUSIC, BYE, PORT_CLOSED]),
    (S.BOOKING, ev.Key): (h.BOOKING, key(), S.BOOKING, [dtmf()]),
    (S.BOOKING, ev.Offered): (h.BOOKING, OFFER_BOB, S.BOOKING, [refused("bob")]),
    (S.BOOKING, ev.OfferEnded): (h.BOOKING, OFFER_ENDED_ANA, S.BOOKING, []),
    (S.BOOKING, ev.FlowHangUp): (h.BOOKING, ev.FlowHangUp(C, "closed"), S.ENDED, [NO_MUSIC, BYE, PORT_CLOSED]),
    (S.BOOKING, ev.FlowCallback): (h.BOOKING, CALLBACK, S.BOOKING, [NOT_WAITING]),
    # --------------------------------------------------------------------------------- OUTSIDE
    (S.OUTSIDE, ev.LegHungUp): (
        h.OUTSIDE, ev.LegHungUp(C, "2"), S.ENDED, [Unbridge(C), BYE, PORT_CLOSED, EndCall(C, "outside_hung_up")],
    ),
    (S.OUTSIDE, ev.CallerHungUp): (h.OUTSIDE, HUNG_UP, S.ENDED, [HangUpLeg(C, "2"), Unbridge(C), PORT_CLOSED, END]),
    (S.OUTSIDE, ev.NoAck): (
        h.OUTSIDE, NO_ACK, S.ENDED, [HangUpLeg(C, "2"), Unbridge(C), BYE, PORT_CLOSED, END_NO_ACK],
    ),
    (S.OUTSIDE, ev.MediaLost): (
        h.OUTSIDE, LOST, S.ENDED, [HangUpLeg(C, "2"), Unbridge(C), BYE, PORT_CLOSED, END_LOST],
    ),
    (S.OUTSIDE, ev.Key): (h.OUTSIDE, key(), S.OUTSIDE, []),
    (S.OUTSIDE, ev.Offered): (h.OUTSIDE, OFFER_BOB, S.OUTSIDE, [refused("bob")]),
    (S.OUTSIDE, ev.OfferEnded): (h.OUTSIDE, OFFER_ENDED_ANA, S.OUTSIDE, []),
    (S.OUTSIDE, ev.TaskEnded): (h.OUTSIDE, ev.TaskEnded(C, TASK, "withdrawn"), S.OUTSIDE, []),  # not its task now
    (S.OUTSIDE, ev.FlowCallback): (h.OUTSIDE, CALLBACK, S.OUTSIDE, [NOT_WAITING]),
    # ----------------------------------------------------------------------------------- ENDED
    (S.ENDED, ev.PortOpened): (
        h.ENDED_AWAITING_PORT, ev.PortOpened(C), S.ENDED, [PORT_CLOSED, EndCall(C, "caller_cancelled")],
    ),
    (S.ENDED, ev.PortFailed): (
        h.ENDED_AWAITING_PORT, ev.PortFailed(C, 503), S.ENDED, [EndCall(C, "caller_cancelled")],
    ),
    (S.ENDED, ev.Queued): (
        h.ENDED_AWAITING_QUEUE, ev.Queued(C, TASK), S.ENDED,
        [submit(TaskCancelled(TASK)), EndCall(C, "caller_cancelled")],
    ),
    (S.ENDED, ev.QueueRefused): (
        h.ENDED_AWAITING_QUEUE, ev.QueueRefused(C, TASK, "queue_full"), S.ENDED, [EndCall(C, "caller_cancelled")],
    ),
    (S.ENDED, ev.OfferTaken): (  # the task is the agent's: completed, its wrap-up follows
        h.ENDED_AWAITING_ACCEPT, ev.OfferTaken(C, TASK, "ana"), S.ENDED, [submit(TaskCompleted(TASK, "ana")), END],
    ),
    (S.ENDED, ev.OfferLost): (
        h.ENDED_AWAITING_ACCEPT, ev.OfferLost(C, TASK, "ana"), S.ENDED, [submit(TaskCancelled(TASK)), END],
    ),
    (S.ENDED, ev.Requeued): (
        h.ENDED_AWAITING_TRANSFER, ev.Requeued(C, TASK_1, "q2"), S.ENDED, [submit(TaskCancelled(TASK_1)), END],
    ),
    (S.ENDED, ev.Dialling): (  # the new task rings a number for nobody: cancelled
        h.ENDED_AWAITING_DIAL, ev.Dialling(C, TASK_1, "0612345678"), S.ENDED, [submit(TaskCancelled(TASK_1)), END],
    ),
    (S.ENDED, ev.TransferRefused): (  # the task stayed with its agent: completed, as the caller's leaving would
        h.ENDED_AWAITING_TRANSFER, ev.TransferRefused(C, "closed"), S.ENDED, [submit(TaskCompleted(TASK, "ana")), END],
    ),
    (S.ENDED, ev.CallbackBooked): (h.ENDED_AWAITING_CALLBACK, ev.CallbackBooked(C), S.ENDED, [END]),
    (S.ENDED, ev.CallbackRefused): (
        h.ENDED_AWAITING_CALLBACK, ev.CallbackRefused(C), S.ENDED, [submit(TaskCancelled(TASK)), END],
    ),
    (S.ENDED, ev.Offered): (h.ENDED, OFFER_BOB, S.ENDED, [refused("bob")]),
    (S.ENDED, ev.OfferEnded): (h.ENDED, OFFER_ENDED_ANA, S.ENDED, []),
}  # fmt: skip
# A request of the caller's dialog (re-INVITE, UPDATE) and a REFER, in every state: each is answered.
REOFFER, REFER = ev.CallerReoffered(C, "r1"), ev.ReferAsked(C, "1", "r1", "q2")
REFRESH, PENDING, NO_DIALOG = RefreshSession(C, "r1"), RejectRequest(C, "r1", 491), RejectRequest(C, "r1", 481)
NOT_THE_AGENTS, NOT_YET = RejectRequest(C, "r1", 403), RejectRequest(C, "r1", 500, retry=True)
REFERRED = [AcceptRefer(C, "1", "r1"), SubmitTransfer(C, TASK, "q2", TASK_1, "transferred", "ana")]
for state, steps, reoffer, refer in [
    (S.SETTING_UP, h.SETTING_UP, [NOT_YET], [NOT_THE_AGENTS]),  # RFC 3261 §14.2: the INVITE's answer is to come
    (S.QUEUEING, h.QUEUEING, [NOT_YET], [NOT_THE_AGENTS]),
    (S.IVR, h.IVR, [REFRESH], [NOT_THE_AGENTS]),
    (S.WAITING, h.RINGING, [REFRESH], [PENDING]),  # the agent's phone rings: it cannot transfer yet
    (S.ANSWERING, h.ANSWERING, [REFRESH], [AcceptRefer(C, "1", "r1")]),  # carried out once the core takes it
    (S.TALKING, h.TALKING, [REFRESH], REFERRED),
    (S.HELD, h.HELD, [REFRESH], REFERRED),
    (S.CONSULTING, h.CONSULTING, [REFRESH], [PENDING]),
    (S.TRANSFERRING, h.REQUEUEING, [REFRESH], [PENDING]),
    (S.BOOKING, h.BOOKING, [REFRESH], [NOT_THE_AGENTS]),
    (S.OUTSIDE, h.OUTSIDE, [REFRESH], [NO_DIALOG]),  # the agent's phone was let go with the transfer
    (S.ENDED, h.ENDED, [NO_DIALOG], [NO_DIALOG]),
]:
    SCENARIOS[(state, ev.CallerReoffered)] = (steps, REOFFER, state, reoffer)
    SCENARIOS[(state, ev.ReferAsked)] = (steps, REFER, S.TRANSFERRING if refer is REFERRED else state, refer)


def _name(key: tuple[CallState, type[ev.CallEvent]]) -> str:
    return f"{key[0].value}-{key[1].__name__}"


@pytest.mark.parametrize("rule", sorted(TABLE, key=_name), ids=_name)
def test_every_rule_of_the_table(rule: tuple[CallState, type[ev.CallEvent]]) -> None:
    assert rule in SCENARIOS, f"no scenario for {_name(rule)}"
    steps, event, state, actions = SCENARIOS[rule]
    control = brought(steps)
    assert control.calls[CALL].state is rule[0]
    assert type(event) is rule[1]
    assert control.handle(event, 0.0) == actions
    assert control.calls[CALL].state is state


def test_no_scenario_for_a_rule_the_table_lacks() -> None:
    assert set(SCENARIOS) - set(TABLE) == set()
    assert set(TABLE) & IGNORED == set()


#: A call in each state, for what does not depend on how it came there.
IN_STATE = {
    S.SETTING_UP: h.SETTING_UP,
    S.QUEUEING: h.QUEUEING_FROM_IVR,
    S.IVR: h.IVR,
    S.WAITING: h.RINGING,
    S.ANSWERING: h.ANSWERING,
    S.TALKING: h.TALKING,
    S.HELD: h.HELD,
    S.CONSULTING: h.CONSULTING,
    S.TRANSFERRING: h.REQUEUEING,
    S.BOOKING: h.BOOKING,
    S.OUTSIDE: h.OUTSIDE,
    S.ENDED: h.ENDED,
}
#: An event of each type, for the pairs of the table that are ignored or impossible.
SAMPLES: list[ev.CallEvent] = [
    ev.PortOpened(C), ev.PortFailed(C, 503), ev.CallerCancelled(C), HUNG_UP, NO_ACK, LOST, key(),
    ev.Queued(C, TASK), ev.QueueRefused(C, TASK, "queue_full"), ev.TaskEnded(C, TASK, "withdrawn"),
    ev.OfferTaken(C, TASK, "ana"), ev.OfferLost(C, TASK, "ana"), ev.Requeued(C, TASK_1, "q2"),
    ev.Dialling(C, TASK_1, "06"), ev.TransferRefused(C, "closed"), ev.CallbackBooked(C), ev.CallbackRefused(C),
    ev.TransferAsked(C, "q2"), ev.OutsideTimedOut(C, TASK_1, "q1"), ev.CallerReoffered(C, "r1"),
    ev.ReferAsked(C, "1", "r1", "q2"),
    ev.ConsultAsked(C, "bob"), ev.ConsultCompleted(C), ev.ConsultCancelled(C), ev.FlowQueue(C, "q1"),
    ev.FlowOverflow(C, "q2"), CALLBACK, ev.FlowTransfer(C, "06"), ev.FlowHangUp(C, "bye"),
]  # fmt: skip


@pytest.mark.parametrize("pair", sorted(IGNORED, key=_name), ids=_name)
def test_an_ignored_pair_changes_nothing(pair: tuple[CallState, type[ev.CallEvent]]) -> None:
    control = brought(IN_STATE[pair[0]])
    live = control.calls[CALL].live_legs  # a re-INVITE from a leg the call still holds (not a let-go one)
    held = ev.LegHeld(C, live[0].id, True) if live else None
    event = next((sample for sample in SAMPLES if type(sample) is pair[1]), None) or held
    assert event is not None, pair
    before = repr(control.calls[CALL])
    assert control.handle(event, 0.0) == []
    assert repr(control.calls[CALL]) == before


def test_every_other_pair_raises_an_error_naming_state_and_event_and_changes_nothing() -> None:
    checked = 0
    for state, steps in IN_STATE.items():
        for event in SAMPLES:
            if (state, type(event)) in TABLE or (state, type(event)) in IGNORED:
                continue
            control = brought(steps)
            before = repr(control.calls[CALL])
            with pytest.raises(CallStateError) as raised:
                control.handle(event, 0.0)
            assert str(raised.value) == f"a call {state.value} cannot take {type(event).__name__}"
            assert repr(control.calls[CALL]) == before
            checked += 1
    assert checked > 100


def test_a_request_that_does_not_apply_now_says_why() -> None:
    control = brought(h.CONSULTING)  # bob's phone still rings
    with pytest.raises(CallStateError, match=r"^a call consulting cannot take ConsultCompleted \(no answered"):
        control.handle(ev.ConsultCompleted(C), 0.0)
    assert control.calls[CALL].state is S.CONSULTING


def test_what_a_let_go_leg_still_says_is_ignored_and_an_unknown_leg_is_an_error() -> None:
    control = brought((*h.RINGING, OFFER_ENDED_ANA))  # leg 1 cancelled
    assert control.handle(ev.LegAnswered(C, "1"), 0.0) == []  # the 200 crossed the CANCEL: the driver hangs it up
    assert control.handle(ev.LegRefused(C, "1", 487), 0.0) == []
    with pytest.raises(UnknownLeg, match="has no leg '7'"):
        control.handle(ev.LegAnswered(C, "7"), 0.0)


def test_unknown_and_duplicate_calls_are_errors() -> None:
    control = brought(h.WAITING)
    with pytest.raises(UnknownCall):
        control.handle(ev.CallerHungUp("other@trunk"), 0.0)
    with pytest.raises(DuplicateCall):
        control.handle(h.ARRIVE, 0.0)


def test_events_are_checked_when_built() -> None:
    with pytest.raises(InvalidCallEvent, match="exactly one"):
        ev.InviteArrived(C, TASK, "q1", flow="welcome")
    with pytest.raises(InvalidCallEvent, match="key"):
        ev.Key(C, "caller", "x")
    with pytest.raises(InvalidCallEvent, match="between 300 and 699"):
        ev.LegRefused(C, "1", 200)
    with pytest.raises(InvalidCallEvent, match="call must be"):
        ev.CallerHungUp("")


# --------------------------------------------------------------------- an offer is never lost


def test_an_offer_made_while_the_task_is_being_queued_rings_as_the_call_waits() -> None:
    control = brought((*h.QUEUEING, ev.Offered(C, TASK, "ana")))
    assert control.handle(ev.Queued(C, TASK), 0.0) == [Respond(C, 200), MUSIC, PlaceLeg(C, "1", Role.AGENT, "ana")]


def test_an_offer_made_while_the_task_is_being_queued_is_refused_if_the_caller_leaves() -> None:
    control = brought((*h.QUEUEING, ev.Offered(C, TASK, "ana")))
    assert control.handle(ev.CallerCancelled(C), 0.0) == [Respond(C, 487), refused("ana"), PORT_CLOSED]
    assert control.handle(ev.Queued(C, TASK), 0.0) == [
        submit(TaskCancelled(TASK)), EndCall(C, "caller_cancelled")
    ]  # fmt: skip


def test_an_offer_that_ends_before_the_call_waits_is_not_rung() -> None:
    control = brought((*h.QUEUEING, ev.Offered(C, TASK, "ana"), ev.OfferEnded(C, TASK, "ana")))
    assert control.handle(ev.Queued(C, TASK), 0.0) == [Respond(C, 200), MUSIC]


def test_a_second_offer_while_a_phone_rings_is_refused_at_once() -> None:
    control = brought(h.RINGING)
    assert control.handle(ev.Offered(C, TASK, "bob"), 0.0) == [refused("bob")]
    assert control.calls[CALL].agent_leg is not None and control.calls[CALL].agent_leg.target == "ana"


def test_an_offer_of_a_task_the_call_left_is_refused_at_once() -> None:
    control = brought((*h.REQUEUEING, ev.Requeued(C, TASK_1, "q2")))
    assert control.handle(ev.Offered(C, TASK, "bob"), 0.0) == [refused("bob", TASK)]


def test_an_offer_made_during_a_transfer_to_a_queue_rings_once_the_call_waits_there() -> None:
    control = brought((*h.REQUEUEING, ev.Offered(C, TASK_1, "bob")))
    assert control.handle(ev.Requeued(C, TASK_1, "q2"), 0.0) == [
        HangUpLeg(C, "1"), Unbridge(C), MUSIC, PlaceLeg(C, "2", Role.AGENT, "bob")
    ]  # fmt: skip


def test_an_offer_made_during_an_overflow_is_rung_if_the_core_refuses_the_overflow() -> None:
    control = brought((*h.OVERFLOWING, ev.Offered(C, TASK, "ana")))  # the task still waits where it was
    assert control.handle(ev.TransferRefused(C, "queue_full"), 0.0) == [PlaceLeg(C, "1", Role.AGENT, "ana")]
    assert control.calls[CALL].state is S.WAITING and control.calls[CALL].task == TASK


def test_an_offer_of_the_task_an_overflow_moved_is_refused_once_the_call_waits_elsewhere() -> None:
    control = brought((*h.OVERFLOWING, ev.Offered(C, TASK, "ana")))  # the core revokes it with the overflow
    assert control.handle(ev.Requeued(C, TASK_1, "q2"), 0.0) == [refused("ana", TASK)]
    assert control.calls[CALL].task == TASK_1 and control.calls[CALL].queue == "q2"


def test_an_overflow_while_a_phone_rings_is_held_and_goes_on_if_that_ring_fails() -> None:
    control = brought((*h.RINGING, ev.FlowOverflow(C, "q2")))
    assert control.calls[CALL].state is S.WAITING  # the caller is about to be answered: the phone rings on
    assert control.handle(ev.LegRefused(C, "1", 486), 0.0) == [
        refused("ana"), SubmitTransfer(C, TASK, "q2", TASK_1, "max_wait")
    ]  # fmt: skip
    control = brought((*h.RINGING, ev.FlowOverflow(C, "q2"), ev.LegAnswered(C, "1")))
    control.handle(ev.OfferTaken(C, TASK, "ana"), 0.0)
    assert control.calls[CALL].overflow is None  # answered: the overflow is over


def test_a_transfer_the_core_refuses_leaves_a_held_caller_held_and_an_agent_who_left_ends_the_call() -> None:
    control = brought((*h.HELD, ev.TransferAsked(C, "q2")))
    assert control.handle(ev.TransferRefused(C, "closed"), 0.0) == []
    assert control.calls[CALL].state is S.HELD and control.calls[CALL].music
    control = brought((*h.REQUEUEING, ev.LegHungUp(C, "1")))
    assert control.handle(ev.TransferRefused(C, "closed"), 0.0) == [
        submit(TaskCompleted(TASK, "ana")), NO_MUSIC, BYE, PORT_CLOSED, EndCall(C, "agent_hung_up")
    ]  # fmt: skip


def test_a_refer_that_goes_through_is_notified_and_lets_the_phone_hang_up_by_itself() -> None:
    control = brought((*h.TALKING, REFER))
    assert control.handle(ev.Requeued(C, TASK_1, "q2"), 0.0) == [NotifyRefer(C, "1", 200), Unbridge(C), MUSIC]
    assert control.handle(ev.LegHungUp(C, "1"), 0.0) == []  # its BYE, once it heard the NOTIFY (RFC 5589 §6.1)


def test_a_refer_sent_as_the_phone_answered_is_carried_out_once_the_core_takes_the_answer() -> None:
    control = brought((*h.ANSWERING, REFER))
    assert control.handle(ev.OfferTaken(C, TASK, "ana"), 0.0) == [
        NO_MUSIC, Bridge(C, "caller", "1"), SubmitTransfer(C, TASK, "q2", TASK_1, "transferred", "ana")
    ]  # fmt: skip
    assert control.calls[CALL].state is S.TRANSFERRING
    control = brought((*h.ANSWERING, REFER))  # the core refused the answer: the REFER ends with the phone's leg
    assert control.handle(ev.OfferLost(C, TASK, "ana"), 0.0) == [NotifyRefer(C, "1", 481), HangUpLeg(C, "1")]
    assert control.calls[CALL].referral is None


def test_a_phone_that_holds_or_resumes_while_the_core_answers_is_left_so_by_a_refusal() -> None:
    control = brought((*h.REQUEUEING, ev.LegHeld(C, "1", on_hold=True)))
    assert control.handle(ev.TransferRefused(C, "closed"), 0.0) == []
    assert control.calls[CALL].state is S.HELD and control.calls[CALL].music
    control = brought((*h.HELD, ev.TransferAsked(C, "q2")))
    assert control.handle(ev.LegHeld(C, "1", on_hold=False), 0.0) == [NO_MUSIC, Bridge(C, "caller", "1")]
    assert control.handle(ev.TransferRefused(C, "closed"), 0.0) == []
    assert control.calls[CALL].state is S.TALKING and control.calls[CALL].bridge == ("caller", "1")


def test_the_end_of_a_task_the_transfer_asked_moved_waits_for_the_cores_answer() -> None:
    # Its agent had no wrap-up: the task ends `transferred` in the same step, and with Redis that decision
    # can come before the answer to the transfer. The call goes on; the answer says where.
    control = brought(h.REQUEUEING)
    assert control.handle(ev.TaskEnded(C, TASK, "transferred"), 0.0) == []
    assert control.calls[CALL].state is S.TRANSFERRING
    assert control.handle(ev.Requeued(C, TASK_1, "q2"), 0.0) == [HangUpLeg(C, "1"), Unbridge(C), MUSIC]


def test_a_refer_the_core_refuses_is_notified_and_the_phone_keeps_the_caller() -> None:
    control = brought((*h.TALKING, REFER))
    assert control.handle(ev.TransferRefused(C, "closed", 480), 0.0) == [NotifyRefer(C, "1", 480)]
    assert control.calls[CALL].state is S.TALKING and control.calls[CALL].bridge == ("caller", "1")


def test_a_call_beyond_the_most_at_once_is_refused_503_and_over() -> None:
    control = CallControl(max_calls=1)
    control.handle(h.ARRIVE, 0.0)
    other = ev.InviteArrived("other@trunk", "task-2", "q1")
    assert control.handle(other, 0.0) == [Respond("other@trunk", 503), EndCall("other@trunk", "too_many_calls")]
    control.forget("other@trunk")
    control.handle(ev.CallerCancelled(C), 0.0)  # the first call ends: room for the next
    assert control.handle(ev.InviteArrived("third@trunk", "task-3", "q1"), 0.0) == [OpenPort("third@trunk")]


def test_the_cores_ring_timeout_of_another_task_or_an_answered_number_changes_nothing() -> None:
    control = brought(h.DIALLED)
    assert control.handle(ev.OutsideTimedOut(C, TASK, "q1"), 0.0) == []  # the task the call had before
    control = brought(h.OUTSIDE)
    assert control.handle(ev.OutsideTimedOut(C, TASK_1, "q1"), 0.0) == []  # answered: the core hears it
    assert control.calls[CALL].state is S.OUTSIDE


def test_a_number_that_does_not_answer_puts_the_caller_back_in_its_queue() -> None:
    control = brought(h.RETURNING)
    assert control.handle(ev.Requeued(C, TASK_1, "q1"), 0.0) == []  # music already on
    record = control.calls[CALL]
    assert (record.state, record.task, record.task_live) == (S.WAITING, TASK_1, True)
    control = brought(h.ENDED_AWAITING_RETURN)  # the caller left meanwhile: its task does not wait for nobody
    assert control.handle(ev.Requeued(C, TASK_1, "q1"), 0.0) == [submit(TaskCancelled(TASK_1)), END]


def test_a_phone_that_cannot_be_rung_refuses_the_offer_at_once() -> None:
    control = brought(h.RINGING)  # no binding (480) or no port (503): the driver says so as a refusal
    assert control.handle(ev.LegRefused(C, "1", 480), 0.0) == [refused("ana")]
    assert control.handle(ev.Offered(C, TASK, "bob"), 0.0) == [PlaceLeg(C, "2", Role.AGENT, "bob")]


def test_an_offer_made_while_an_answer_is_taken_rings_if_the_core_refuses_that_answer() -> None:
    control = brought((*h.ANSWERING, ev.Offered(C, TASK, "bob")))
    assert control.handle(ev.OfferLost(C, TASK, "ana"), 0.0) == [HangUpLeg(C, "1"), PlaceLeg(C, "2", Role.AGENT, "bob")]


# ---------------------------------------------------------------------------- more paths


def test_a_call_from_a_flow_is_answered_first_then_queued() -> None:
    control = brought((h.ENTER_FLOW,))
    assert control.handle(ev.PortOpened(C), 0.0) == [
        Respond(C, 200), StartFlow(C, "welcome", {"caller": "0102030405"})
    ]  # fmt: skip
    control = brought(h.QUEUEING_FROM_IVR)
    assert control.handle(ev.Queued(C, TASK), 0.0) == [MUSIC, TellFlow(C, FlowNote.QUEUED)]
    control = brought(h.QUEUEING_FROM_IVR)
    assert control.handle(ev.QueueRefused(C, TASK, "queue_full"), 0.0) == [
        TellFlow(C, FlowNote.QUEUE_REFUSED, "queue_full")
    ]
    assert control.calls[CALL].state is S.IVR


def test_an_agent_answering_a_call_from_a_flow_ends_the_flow_and_a_recorded_queue_records() -> None:
    steps = (*h.QUEUEING_FROM_IVR, ev.Queued(C, TASK), ev.Offered(C, TASK, "ana"), ev.LegAnswered(C, "1"))
    control = brought(steps, CallControl(recorded=frozenset({"q1"})))
    assert control.handle(ev.OfferTaken(C, TASK, "ana"), 0.0) == [
        TellFlow(C, FlowNote.CONNECTED), StopFlow(C), NO_MUSIC, StartRecording(C, TASK), Bridge(C, "caller", "1")
    ]  # fmt: skip
    assert control.handle(HUNG_UP, 0.0) == [
        submit(TaskCompleted(TASK, "ana")), HangUpLeg(C, "1"), Unbridge(C), StopRecording(C), PORT_CLOSED, END
    ]  # fmt: skip


def test_an_agent_hanging_up_as_the_core_takes_its_answer_completes_the_task() -> None:
    control = brought((*h.ANSWERING, ev.LegHungUp(C, "1")))
    assert control.handle(ev.OfferTaken(C, TASK, "ana"), 0.0) == [
        submit(TaskCompleted(TASK, "ana")), NO_MUSIC, BYE, PORT_CLOSED, EndCall(C, "agent_hung_up")
    ]  # fmt: skip


def test_an_agent_hanging_up_while_consulting_completes_the_transfer_once_answered() -> None:
    control = brought(h.CONSULT_ANSWERED)
    assert control.handle(ev.LegHungUp(C, "1"), 0.0) == [
        Unbridge(C), NO_MUSIC, Bridge(C, "caller", "2"), HANDED_TO_BOB
    ]  # fmt: skip
    assert control.calls[CALL].state is S.OUTSIDE


def test_a_consultation_of_a_number_completed_hands_the_task_to_it() -> None:
    control = brought((*h.TALKING, ev.ConsultAsked(C, "0384000000", outside=True), ev.LegAnswered(C, "2")))
    assert control.handle(ev.ConsultCompleted(C), 0.0) == [
        HangUpLeg(C, "1"), Unbridge(C), NO_MUSIC, Bridge(C, "caller", "2"),
        SubmitTransfer(C, TASK, "0384000000", TASK_1, "transferred", "ana", joined=True),
    ]  # fmt: skip
    assert control.calls[CALL].state is S.OUTSIDE


def test_an_agent_hanging_up_while_the_consulted_phone_rings_ends_the_call() -> None:
    control = brought(h.CONSULTING)
    assert control.handle(ev.LegHungUp(C, "1"), 0.0) == [
        submit(TaskCompleted(TASK, "ana")), CancelLeg(C, "2"), NO_MUSIC, BYE, PORT_CLOSED, EndCall(C, "agent_hung_up")
    ]  # fmt: skip


def test_a_transfer_out_from_a_flow_that_fails_goes_back_to_the_flow() -> None:
    control = brought((*h.IVR, ev.FlowTransfer(C, "0612345678")))
    assert control.handle(ev.LegRefused(C, "1", 486), 0.0) == [
        NO_MUSIC, TellFlow(C, FlowNote.TRANSFER_FAILED, "486")
    ]  # fmt: skip
    assert control.calls[CALL].state is S.IVR


def test_an_overflow_to_a_number_dials_it_once_the_core_took_the_task_back() -> None:
    control = brought(h.WAITING)
    assert control.handle(ev.FlowOverflow(C, "0612345678"), 0.0) == [
        SubmitTransfer(C, TASK, "0612345678", TASK_1, "max_wait")
    ]
    assert control.handle(ev.Dialling(C, TASK_1, "0612345678"), 0.0) == [PlaceLeg(C, "1", Role.OUTSIDE, "0612345678")]


def test_a_held_call_put_on_hold_again_changes_nothing_and_talking_re_offers_rebridge() -> None:
    control = brought(h.HELD)
    assert control.handle(ev.LegHeld(C, "1", on_hold=True), 0.0) == []
    control = brought(h.TALKING)
    assert control.handle(ev.LegHeld(C, "1", on_hold=False), 0.0) == [Unbridge(C), Bridge(C, "caller", "1")]


def test_an_ended_call_is_forgotten_once_over() -> None:
    control = brought(h.ENDED_AWAITING_QUEUE)
    control.forget(CALL)
    assert CALL in control.calls  # its task's answer is still awaited
    control.handle(ev.QueueRefused(C, TASK, "queue_full"), 0.0)
    control.forget(CALL)
    assert CALL not in control.calls

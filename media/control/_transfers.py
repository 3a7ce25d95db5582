"""Call control's rules for where a call goes next: transfers (blind, attended), the IVR flow's queueing,
overflow, call-back and transfer out. Functions of `CallControl`, named in its table (media.control.core)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from acd.events import OfferRefused, OutsideAnswered, TaskCompleted, TaskNoted
from media.control import events as ev
from media.control.actions import (
    AcceptRefer,
    Action,
    FlowNote,
    NotifyRefer,
    PlaceLeg,
    PlayMusic,
    RejectRequest,
    RequestCallback,
    Role,
    StopMusic,
    StopRecording,
    Submit,
    SubmitArrival,
    SubmitReturn,
    SubmitTransfer,
    TellFlow,
)
from media.control.records import (
    Awaiting,
    CallRecord,
    CallState,
    CallStateError,
    LegRecord,
    PendingTransfer,
    Referral,
    task_id_for,
)

if TYPE_CHECKING:
    from media.control.core import CallControl

S = CallState
Actions = list[Action]


def _music(call: CallRecord) -> Actions:
    if call.music:
        return []
    call.music = True
    return [PlayMusic(call.call)]


def _no_music(call: CallRecord) -> Actions:
    if not call.music:
        return []
    call.music = False
    return [StopMusic(call.call)]


def _place(call: CallRecord, role: Role, target: str) -> Action:
    call.legs += 1
    call.other_leg = LegRecord(str(call.legs), role, target)
    return PlaceLeg(call.call, call.other_leg.id, role, target)


def _next_task(call: CallRecord) -> str:
    call.transfers += 1
    return task_id_for(f"{call.call}/{call.transfers}")


def _other_leg(call: CallRecord, event: ev.CallEvent) -> LegRecord:
    leg = call.other_leg
    if leg is None or not isinstance(event, ev.LegEvent) or leg.id != event.leg:
        raise CallStateError(call.state, event, "not the consulted or outside leg")
    return leg


def _agent_off(control: CallControl, call: CallRecord, *, referred: bool = False) -> Actions:
    """The agent leaves the call: its leg (a phone that sent REFER hangs up by itself, RFC 5589 §6.1), the
    bridge, the recording of its part."""
    actions: Actions = []
    leg = call.agent_leg
    if leg is not None:
        if referred:
            call.agent_leg = None
            call.gone_legs.add(leg.id)
        else:
            actions.append(control._let_go(call, leg))
    actions += control._unbridge(call)
    if call.recording:
        call.recording = False
        actions.append(StopRecording(call.call))
    return actions


# ------------------------------------------------------------------------------------------- blind


def transfer_asked(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """Blind transfer: asked of the core in one event; the agent stays with the caller until it went through."""
    assert isinstance(event, ev.TransferAsked)
    return _ask_transfer(call, event.to, "transferred")


def refer_asked(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """REFER from a phone (RFC 3515): the agent's, talking or holding the caller, asks a blind transfer (202,
    the outcome NOTIFYed once the core answered); anything else is refused and changes nothing."""
    assert isinstance(event, ev.ReferAsked)
    leg = call.agent_leg
    if call.state is S.ENDED or (leg is None or leg.id != event.leg) and event.leg in call.gone_legs:
        return [RejectRequest(call.call, event.request, 481)]  # that dialog is over
    if leg is None or leg.id != event.leg:
        return [RejectRequest(call.call, event.request, 403)]  # only the agent's phone transfers the caller
    accept = AcceptRefer(call.call, leg.id, event.request)
    if call.state is S.ANSWERING and leg.answered and call.referral is None:
        # The phone transfers as soon as it answered, before the core took its answer: carried out once it did.
        call.referral = Referral(leg.id, event.to)
        return [accept]
    if call.state not in (S.TALKING, S.HELD):
        return [RejectRequest(call.call, event.request, 491)]  # not now: a consultation or transfer is going on
    return [accept, *transfer_referred(call, Referral(leg.id, event.to))]


def transfer_referred(call: CallRecord, referral: Referral) -> Actions:
    """The transfer a REFER asks, accepted (202): asked of the core, its outcome NOTIFYed to the phone."""
    return _ask_transfer(call, referral.to, "transferred", refer_leg=referral.leg)


def _ask_transfer(call: CallRecord, to: str, reason: str, *, refer_leg: str | None = None) -> Actions:
    new_task = _next_task(call)
    call.transfer = PendingTransfer(call.state, new_task, refer_leg)
    call.state, call.awaiting = S.TRANSFERRING, Awaiting.TRANSFER
    return [SubmitTransfer(call.call, call.task, to, new_task, reason, call.agent)]


def _handed_over(control: CallControl, call: CallRecord) -> Actions:
    """The core moved the caller's task: the agent's part is over (its phone let go, the recording of its
    part stopped); a phone that sent REFER is told, and hangs up by itself (RFC 5589 §6.1)."""
    pending, call.transfer = call.transfer, None
    if pending is None:
        return []
    referred = pending.refer_leg is not None and call.agent_leg is not None and call.agent_leg.id == pending.refer_leg
    told = [NotifyRefer(call.call, pending.refer_leg, 200)] if referred and pending.refer_leg else []
    actions = _agent_off(control, call, referred=referred)
    call.agent, call.back_to_flow = None, False
    return [*told, *actions]


def requeued(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The call waits as the task the core says, in its queue: after a transfer, an overflow, or an outside
    number that did not answer."""
    assert isinstance(event, ev.Requeued)
    actions = _handed_over(control, call)
    call.awaiting, call.task, call.queue, call.task_live, call.state = None, event.task, event.queue, True, S.WAITING
    actions += _music(call)
    if call.flow_running:
        actions.append(TellFlow(call.call, FlowNote.QUEUED))
    return actions + control._ring_deferred(call)


def dialling(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The core handed the call to an outside number: its new task rings it (place `outside` in the core)."""
    assert isinstance(event, ev.Dialling)
    actions = _handed_over(control, call)
    call.awaiting, call.task, call.task_live = None, event.task, True
    return [*actions, *_music(call), *control._refuse_deferred(call), _place(call, Role.OUTSIDE, event.number)]


def transfer_refused(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The core refused: nothing moved, the caller is where it was (with its agent, or waiting)."""
    assert isinstance(event, ev.TransferRefused)
    pending, call.transfer, call.awaiting = call.transfer, None, None
    assert pending is not None  # TRANSFERRING awaiting TRANSFER has it
    call.state = pending.before
    if pending.before is S.WAITING:
        return control._ring_deferred(call)
    actions = control._refuse_deferred(call)
    leg = call.agent_leg
    if pending.refer_leg is not None and leg is not None and leg.id == pending.refer_leg:
        actions.append(NotifyRefer(call.call, leg.id, event.status))  # nothing moved: the phone keeps the caller
    if leg is None:  # the agent hung up while the core answered: its task ends, so does the call
        call.state, call.ended_because, call.task_live = S.ENDED, "agent_hung_up", False
        return [
            *actions,
            Submit(call.call, TaskCompleted(call.task, call.agent or "")),
            *control._release(call, bye=True),
        ]
    return actions  # bridged, or held with music, as the phone left it (`held_transferring`)


def held_transferring(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The agent's phone holds or resumes while the core answers the transfer it asked: the caller hears music
    or the agent again, and a refusal leaves the call held or talking as the phone is now."""
    assert isinstance(event, ev.LegHeld)
    leg = call.agent_leg
    pending = call.transfer
    if leg is None or leg.id != event.leg or pending is None or pending.before not in (S.TALKING, S.HELD):
        return []  # a leg that holds no part in this call now (the outside party rings; nothing to bridge)
    call.transfer = replace(pending, before=S.HELD if event.on_hold else S.TALKING)
    actions = control._unbridge(call)
    if event.on_hold:
        return [*actions, *_music(call)]
    return [*actions, *_no_music(call), control._bridge(call, "caller", leg.id)]


def agent_left_transferring(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The agent's phone hung up while the core answers the transfer it asked for: music for the caller;
    the answer says whether the call goes on elsewhere or ends with the agent's task."""
    leg = control._agent_leg(call, event)
    call.agent_leg = None
    call.gone_legs.add(leg.id)
    return [*control._unbridge(call), *_music(call)]


def outside_answered(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    leg = _other_leg(call, event)
    leg.answered = True
    call.state = S.OUTSIDE
    actions = [*_no_music(call), *control._leave_flow(call)]
    if call.task_live:  # a transfer's task ringing the number: it ends, the caller is theirs
        call.task_live = False
        actions.append(Submit(call.call, OutsideAnswered(call.task)))
    return [*actions, control._bridge(call, "caller", leg.id)]


def outside_timed_out(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The core gave up on the number ringing for the call's task and put it back in its queue: the ringing
    leg is let go, the caller waits there with its place."""
    assert isinstance(event, ev.OutsideTimedOut)
    leg = call.other_leg
    if event.task != call.task or call.awaiting is not None or leg is None or leg.answered:
        return []  # not the number this call rings now (its answer already on the way)
    call.state, call.queue = S.WAITING, event.queue
    actions = [control._let_go(call, leg), *_music(call)]
    if call.flow_running:
        actions.append(TellFlow(call.call, FlowNote.QUEUED))
    return actions + control._ring_deferred(call)


def outside_refused(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The number did not answer: back to the flow that sent the call out, else the core takes the task back
    to its queue with its place (nothing lost)."""
    assert isinstance(event, ev.LegRefused)
    leg = _other_leg(call, event)
    call.other_leg = None
    call.gone_legs.add(leg.id)
    if call.back_to_flow:
        call.state = S.IVR
        return [*_no_music(call), TellFlow(call.call, FlowNote.TRANSFER_FAILED, str(event.status))]
    call.awaiting, call.task_live = Awaiting.QUEUE, False
    return [SubmitReturn(call.call, call.task, event.status)]


def return_refused(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The queue would not take the caller back (closed since): the core ended the task; the flow, if it
    runs, says what comes next, else the call ends."""
    assert isinstance(event, ev.QueueRefused)
    call.awaiting = None
    if call.flow_running:
        call.state = S.IVR
        return [*_no_music(call), TellFlow(call.call, FlowNote.QUEUE_REFUSED, event.reason)]
    call.state, call.ended_because = S.ENDED, event.reason
    return control._release(call, bye=True)


# ---------------------------------------------------------------------------------------- attended


def consult_asked(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The caller on hold with music, `to` rung."""
    assert isinstance(event, ev.ConsultAsked)
    if call.agent_leg is None:
        raise CallStateError(call.state, event, "no agent's leg")
    call.state = S.CONSULTING
    actions = [*control._unbridge(call), *_music(call), _place(call, Role.CONSULT, event.to)]
    assert call.other_leg is not None
    call.other_leg.outside = event.outside
    return [*actions, Submit(call.call, TaskNoted(call.task, "consulting", {"with": event.to}))]


def consult_answered(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    leg = _other_leg(call, event)
    agent = call.agent_leg
    assert agent is not None  # CONSULTING has the agent's leg
    leg.answered = True
    return [control._bridge(call, agent.id, leg.id)]  # the agent and the consulted; the caller still on hold


def _back_to_caller(control: CallControl, call: CallRecord, note: str, data: dict[str, str]) -> Actions:
    agent = call.agent_leg
    assert agent is not None
    call.state = S.TALKING
    actions = [*control._unbridge(call), *_no_music(call), control._bridge(call, "caller", agent.id)]
    return [*actions, Submit(call.call, TaskNoted(call.task, note, data))]


def consult_refused(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    assert isinstance(event, ev.LegRefused)
    leg = _other_leg(call, event)
    call.other_leg = None
    call.gone_legs.add(leg.id)
    return _back_to_caller(control, call, "consult_failed", {"status": str(event.status)})


def consult_hung_up(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    leg = _other_leg(call, event)
    call.other_leg = None
    call.gone_legs.add(leg.id)
    return _back_to_caller(control, call, "consult_ended", {})


def consult_cancelled(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    leg = call.other_leg
    actions = [control._let_go(call, leg)] if leg is not None else []
    return actions + _back_to_caller(control, call, "consult_ended", {})


def consult_completed(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The caller joined to the consulted party (bridged before the core is told); the agent's part ends. To an
    outside number, the core hands the task to it and hears it answered (a transfer, in the figures too); to a
    colleague, the agent's task is completed, noted with whom the caller is."""
    leg = call.other_leg
    if leg is None or not leg.answered:
        raise CallStateError(call.state, event, "no answered consultation")
    actions = _agent_off(control, call)
    agent, call.agent = call.agent, None
    call.state, call.task_live = S.OUTSIDE, False
    actions += [*_no_music(call), control._bridge(call, "caller", leg.id)]
    new_task = _next_task(call) if leg.outside else None
    handed = SubmitTransfer(call.call, call.task, leg.target, new_task, "transferred", agent, joined=True)
    return [*actions, handed]


def hung_up_consulting(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """A BYE while consulting: the consulted party's (back to the caller), or the agent's."""
    other = call.other_leg
    if other is not None and isinstance(event, ev.LegEvent) and other.id == event.leg:
        return consult_hung_up(control, call, event)
    return agent_left_consultation(control, call, event)


def agent_left_consultation(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The agent hung up while consulting: as on a PBX, that completes the transfer if the consulted party
    answered; if it still rings, the call ends (the caller is not left alone with music)."""
    leg = control._agent_leg(call, event)
    other = call.other_leg
    if other is not None and other.answered:
        call.agent_leg = None
        call.gone_legs.add(leg.id)
        return consult_completed(control, call, ev.ConsultCompleted(call.call))
    return control._agent_hung_up(call, event)


# ------------------------------------------------------------------------------------ the IVR flow


def flow_queue(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    assert isinstance(event, ev.FlowQueue)
    call.queue, call.state, call.awaiting = event.queue, S.QUEUEING, Awaiting.QUEUE
    return [SubmitArrival(call.call, call.task, event.queue, event.attributes)]


def flow_overflow(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The flow's maximum wait: asked of the core, which resolves `to` (another queue keeping the caller's
    place, or an outside number). While an agent's phone rings for the call it is held: the caller is about
    to be answered; it goes on if that ring fails."""
    assert isinstance(event, ev.FlowOverflow)
    if call.agent_leg is not None or call.state is S.ANSWERING:
        call.overflow = event.to
        return []
    return overflow(control, call, event.to)


def overflow(control: CallControl, call: CallRecord, to: str) -> Actions:
    call.back_to_flow = False
    return _ask_transfer(call, to, "max_wait")


def flow_callback(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """A waiting caller asks to be called back: a phone ringing for it stops, its offer refused."""
    assert isinstance(event, ev.FlowCallback)
    actions: Actions = []
    leg = call.agent_leg
    if leg is not None:
        actions += [control._let_go(call, leg), Submit(call.call, OfferRefused(call.task, leg.target))]
    call.state, call.awaiting = S.BOOKING, Awaiting.CALLBACK
    return [*actions, RequestCallback(call.call, call.task, event.callback_task, event.number)]


def callback_not_waiting(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    return [TellFlow(call.call, FlowNote.CALLBACK_FAILED, "not_waiting")]


def callback_booked(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The task ended with the call-back: the flow says goodbye."""
    call.awaiting, call.task_live, call.state = None, False, S.IVR
    return [*_no_music(call), TellFlow(call.call, FlowNote.CALLBACK_BOOKED)]


def callback_refused(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    call.awaiting, call.state = None, S.WAITING
    return [*_music(call), TellFlow(call.call, FlowNote.CALLBACK_FAILED, "refused")]


def flow_transfer(control: CallControl, call: CallRecord, event: ev.CallEvent) -> Actions:
    """The flow sends the call out through the trunk; if the number does not answer, the flow is told."""
    assert isinstance(event, ev.FlowTransfer)
    call.state, call.back_to_flow = S.TRANSFERRING, True
    return [*_music(call), _place(call, Role.OUTSIDE, event.to)]

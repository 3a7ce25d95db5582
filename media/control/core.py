"""Call control: each call's state and one transition table; events in, actions out, no I/O.

`CallControl.handle(event, now)` looks up the call's state and the event's type in `TABLE`: the rule's
handler returns the actions for the driver (media.switchboard) to carry out, and the state it leaves the
call in must be one the rule names. A pair that is neither in `TABLE` nor in `IGNORED` raises
`CallStateError` naming both, and changes nothing. What a leg the call already let go still says (a late
200 for a cancelled ring, a BYE after a REFER) is ignored: that is normal SIP, not a fault.

Invariants kept after every event:
- every offer of the core is answered at once: the agent's phone rung (`PlaceLeg`), or `OfferRefused`
  submitted; an offer made before the call is WAITING (its task still being queued or transferred) is
  kept and rung as the call becomes WAITING, or refused if it does not;
- at most one agent's phone rings for a call;
- a call that ends leaves no leg live, no port open, no music, bridge, recording or flow running, and no
  task waiting for nobody: a task the core still holds is cancelled or completed, and an answer still
  awaited (a port opening, a task being queued, an answer being accepted) is tidied when it comes;
  `EndCall` is said once, when nothing is awaited any more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from acd.events import OfferRefused, TaskCancelled, TaskCompleted, TaskNoted
from acd.model import Outcome
from media.control import _late as late
from media.control import _transfers as tr
from media.control import events as ev
from media.control.actions import (
    AcceptOffer,
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
    Respond,
    Role,
    StartFlow,
    StartRecording,
    StopFlow,
    StopMusic,
    StopRecording,
    Submit,
    SubmitArrival,
    TellFlow,
    Unbridge,
)
from media.control.records import (
    Awaiting,
    CallRecord,
    CallState,
    CallStateError,
    Deferred,
    DuplicateCall,
    LegRecord,
    UnknownCall,
    UnknownLeg,
)

S = CallState
Actions = list[Action]
#: Why a call is refused when the core does not queue it (anything else: 480).
REFUSALS = {"queue_full": 486, "no_queue_to_take_it": 486, "unavailable": 503}
#: States where the call has an answered INVITE and the caller's media: what the caller does ends it.
_ANSWERED = (S.IVR, S.WAITING, S.ANSWERING, S.TALKING, S.HELD, S.CONSULTING, S.TRANSFERRING, S.BOOKING, S.OUTSIDE)


@dataclass(frozen=True, slots=True)
class Rule:
    handler: Callable[[CallControl, CallRecord, ev.CallEvent], Actions]
    to: frozenset[CallState] = frozenset()  # the states the handler may take the call to
    stays: bool = False  # it may also leave the call in the state it was in


class CallControl:
    """Every call of the switchboard, by the caller's Call-ID. `recorded`: the queues whose calls are recorded."""

    def __init__(self, recorded: frozenset[str] = frozenset(), max_calls: int | None = None) -> None:
        self.recorded = recorded
        self.max_calls = max_calls  # calls not ended at once, beyond which a new one is refused 503
        self.calls: dict[str, CallRecord] = {}

    def handle(self, event: ev.CallEvent, now: float) -> Actions:
        """The actions `event` asks for; raises a CallControlError (nothing changed) when it cannot be taken."""
        del now  # no rule depends on the time yet: it is passed so that one can without changing the drivers
        if isinstance(event, ev.InviteArrived):
            return self._arrive(event)
        record = self.calls.get(event.call)
        if record is None:
            raise UnknownCall(f"no call {event.call!r}")
        if isinstance(event, ev.LegEvent) and record.leg(event.leg) is None:
            if event.leg in record.gone_legs:
                return []  # a leg already let go: its late answers and BYEs are normal SIP
            raise UnknownLeg(f"call {event.call!r} has no leg {event.leg!r}")
        key = (record.state, type(event))
        if key in IGNORED:
            return []
        rule = TABLE.get(key)
        if rule is None:
            raise CallStateError(record.state, event)
        actions = rule.handler(self, record, event)
        assert record.state in rule.to or (rule.stays and record.state is key[0]), (
            f"{rule.handler.__name__} left the call {record.state.value}"
        )
        if record.state is S.ENDED and record.awaiting is None and not record.over:
            record.over = True
            actions.append(EndCall(record.call, record.ended_because))
        return actions

    def forget(self, call: str) -> None:
        """The driver forgets an ended call: so does call control."""
        record = self.calls.get(call)
        if record is not None and record.over:
            del self.calls[call]

    def _arrive(self, event: ev.InviteArrived) -> Actions:
        if event.call in self.calls:
            raise DuplicateCall(f"call {event.call!r} already arrived")
        record = CallRecord(event.call, event.task, event.queue, event.flow, event.attributes)
        self.calls[event.call] = record
        if self.max_calls is not None and sum(c.state is not S.ENDED for c in self.calls.values()) > self.max_calls:
            record.state, record.awaiting, record.ended_because, record.over = S.ENDED, None, "too_many_calls", True
            return [Respond(event.call, 503), EndCall(event.call, record.ended_because)]  # RFC 3261 §21.5.4
        return [OpenPort(event.call)]

    # ------------------------------------------------------------------------------- set-up

    def _port_opened(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        call.port, call.awaiting = True, None
        if call.flow is not None:  # answered at once: the flow speaks first, and queues the call when it knows where
            call.state, call.answered, call.flow_running = S.IVR, True, True
            return [Respond(call.call, 200), StartFlow(call.call, call.flow, call.attributes)]
        call.state, call.awaiting = S.QUEUEING, Awaiting.QUEUE
        return [SubmitArrival(call.call, call.task, call.queue, call.attributes)]

    def _port_failed(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        assert isinstance(event, ev.PortFailed)
        call.awaiting, call.state, call.ended_because = None, S.ENDED, "refused"
        return [Respond(call.call, event.status, event.note)]

    def _queued(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        call.awaiting, call.task_live, call.state, call.music = None, True, S.WAITING, True
        actions: Actions = [PlayMusic(call.call)]
        if not call.answered:
            call.answered = True
            actions.insert(0, Respond(call.call, 200))
        if call.flow_running:
            actions.append(TellFlow(call.call, FlowNote.QUEUED))
        return actions + self._ring_deferred(call)

    def _queue_refused(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        assert isinstance(event, ev.QueueRefused)
        call.awaiting, call.deferred = None, None
        if call.flow_running:  # the flow says what comes next (another queue, a message, a goodbye)
            call.state = S.IVR
            return [TellFlow(call.call, FlowNote.QUEUE_REFUSED, event.reason)]
        call.state, call.ended_because = S.ENDED, "refused"
        return [Respond(call.call, REFUSALS.get(event.reason, 480)), ClosePort(call.call)]

    # ------------------------------------------------------------------------------- offers

    def _offered(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        assert isinstance(event, ev.Offered)
        if call.deferred is None:
            if event.task == call.task and call.state is S.WAITING and call.agent_leg is None:
                return self._ring(call, event.agent)
            if call.awaiting is not None and self._may_defer(call, event.task):
                call.deferred = Deferred(event.task, event.agent)  # rung once the call is WAITING, else refused
                return []
        return [Submit(call.call, OfferRefused(event.task, event.agent))]

    @staticmethod
    def _may_defer(call: CallRecord, task: str) -> bool:
        """Whether an offer of `task` can wait for the answer the call awaits: its task being queued, its
        answer being accepted (a new offer after the first ended), or the task a transfer makes."""
        if call.state in (S.QUEUEING, S.ANSWERING):
            return task == call.task
        if call.state is S.TRANSFERRING:
            return task == call.task or (call.transfer is not None and task == call.transfer.new_task)
        return False

    def _ring(self, call: CallRecord, agent: str) -> Actions:
        call.legs += 1
        call.agent_leg = LegRecord(str(call.legs), Role.AGENT, agent)
        return [PlaceLeg(call.call, call.agent_leg.id, Role.AGENT, agent)]

    def _ring_deferred(self, call: CallRecord) -> Actions:
        """The call waits again: the offer kept for it rung (one of a task it no longer has is refused), or
        else the flow's overflow held while a phone rang carried out."""
        deferred, call.deferred = call.deferred, None
        if deferred is not None and deferred.task == call.task:
            return self._ring(call, deferred.agent)
        if deferred is not None:
            return [Submit(call.call, OfferRefused(deferred.task, deferred.agent))]
        if call.overflow is not None and call.agent_leg is None and call.state is S.WAITING:
            to, call.overflow = call.overflow, None
            return tr.overflow(self, call, to)
        return []

    def _refuse_deferred(self, call: CallRecord) -> Actions:
        deferred, call.deferred = call.deferred, None
        return [Submit(call.call, OfferRefused(deferred.task, deferred.agent))] if deferred is not None else []

    def _offer_ended(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """The offer timed out or was revoked: its phone stops ringing (an answered one waits for the core)."""
        assert isinstance(event, ev.OfferEnded)
        if call.deferred == Deferred(event.task, event.agent):
            call.deferred = None
        if event.task != call.task:
            return []
        leg = call.agent_leg
        if leg is not None and leg.target == event.agent and not leg.answered and call.state is not S.ANSWERING:
            return [self._let_go(call, leg), *self._ring_deferred(call)]
        return []

    def _let_go(self, call: CallRecord, leg: LegRecord) -> Action:
        """CANCEL a ringing leg, BYE an answered one; whatever it says later is ignored."""
        if call.agent_leg is leg:
            call.agent_leg = None
        if call.other_leg is leg:
            call.other_leg = None
        call.gone_legs.add(leg.id)
        return HangUpLeg(call.call, leg.id) if leg.answered else CancelLeg(call.call, leg.id)

    def _agent_answered(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        leg = self._agent_leg(call, event)
        leg.answered, call.state, call.awaiting = True, S.ANSWERING, Awaiting.ACCEPT
        return [AcceptOffer(call.call, call.task, leg.target)]

    def _agent_refused(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """Busy, declined, unreachable, or no phone to ring: the offer is refused at once, the task goes back."""
        leg = self._agent_leg(call, event)
        call.agent_leg = None
        call.gone_legs.add(leg.id)
        return [Submit(call.call, OfferRefused(call.task, leg.target)), *self._ring_deferred(call)]

    def _agent_leg(self, call: CallRecord, event: ev.CallEvent) -> LegRecord:
        leg = call.agent_leg
        if leg is None or not isinstance(event, ev.LegEvent) or leg.id != event.leg:
            raise CallStateError(call.state, event, "not the agent's leg")
        return leg

    def _offer_taken(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        assert isinstance(event, ev.OfferTaken)
        leg = call.agent_leg
        call.awaiting, call.agent, call.overflow = None, event.agent, None  # answered: no overflow any more
        actions = self._refuse_deferred(call)
        if leg is None:  # the agent hung up while the core took its answer: the task ends at once
            call.state, call.task_live = S.ENDED, False
            call.ended_because = "agent_hung_up"
            actions.append(Submit(call.call, TaskCompleted(call.task, event.agent)))
            return actions + self._release(call, bye=True)
        call.state = S.TALKING
        actions += self._leave_flow(call)
        if call.music:
            call.music = False
            actions.append(StopMusic(call.call))
        if call.queue in self.recorded:
            call.recording = True
            actions.append(StartRecording(call.call, call.task))
        actions.append(self._bridge(call, "caller", leg.id))
        referral, call.referral = call.referral, None
        if referral is not None and referral.leg == leg.id:  # a REFER the phone sent as it answered: carried out now
            actions += tr.transfer_referred(call, referral)
        return actions

    def _offer_lost(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """The offer had ended before the answer was taken: the phone hangs up, the caller waits on."""
        call.awaiting, call.state = None, S.WAITING
        leg = call.agent_leg
        actions: Actions = []
        referral, call.referral = call.referral, None
        if referral is not None and leg is not None and leg.id == referral.leg:  # its REFER ends with its leg: told
            actions.append(NotifyRefer(call.call, leg.id, 481))
        if leg is not None:
            actions.append(self._let_go(call, leg))
        return actions + self._ring_deferred(call)

    def _agent_left_answering(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        leg = self._agent_leg(call, event)
        call.agent_leg = None
        call.gone_legs.add(leg.id)
        return []

    def _bridge(self, call: CallRecord, a: str, b: str) -> Action:
        call.bridge = (a, b)
        return Bridge(call.call, a, b)

    def _unbridge(self, call: CallRecord) -> Actions:
        if call.bridge is None:
            return []
        call.bridge = None
        return [Unbridge(call.call)]

    def _leave_flow(self, call: CallRecord) -> Actions:
        """An agent (or the number the flow sent the call to) answered: the flow's part is over."""
        if not call.flow_running:
            return []
        call.flow_running = False
        return [TellFlow(call.call, FlowNote.CONNECTED), StopFlow(call.call)]

    # ----------------------------------------------------------------------------- the end

    def _release(self, call: CallRecord, *, bye: bool) -> Actions:
        """What the call still holds, let go: its legs, bridge, recording, music, flow, caller, port."""
        actions = [self._let_go(call, leg) for leg in call.live_legs]
        actions += self._unbridge(call)
        if call.recording:
            call.recording = False
            actions.append(StopRecording(call.call))
        if call.music:
            call.music = False
            actions.append(StopMusic(call.call))
        if call.flow_running:
            call.flow_running = False
            actions.append(StopFlow(call.call))
        if bye:
            actions.append(ByeCaller(call.call))
        if call.port:
            call.port = False
            actions.append(ClosePort(call.call))
        return actions

    def _caller_gone(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """The caller hung up or cancelled; or its media or session was lost, or it never ACKed (the ACD
        ends its leg then): what the call's task becomes depends on where it stood."""
        ended_by_us = isinstance(event, ev.NoAck | ev.MediaLost)
        actions: Actions = []
        if isinstance(event, ev.MediaLost) and call.task_live and call.state is not S.IVR:
            actions.append(Submit(call.call, TaskNoted(call.task, event.note, {"side": event.side})))
        if not call.answered:  # RFC 3261 §9.2: the INVITE ends with a 487
            actions.append(Respond(call.call, 487))
        if call.flow_running:
            actions.append(TellFlow(call.call, FlowNote.CALLER_HUNG_UP))
        actions += self._refuse_deferred(call)
        was = call.state
        if call.task_live and call.awaiting is None:
            if was in (S.TALKING, S.HELD, S.CONSULTING) and call.agent is not None:
                actions.append(Submit(call.call, TaskCompleted(call.task, call.agent)))
            else:  # its offer, if any, is revoked: the phone stops ringing
                actions.append(Submit(call.call, TaskCancelled(call.task)))
            call.task_live = False
        call.state = S.ENDED
        call.ended_because = _why(event)
        return actions + self._release(call, bye=ended_by_us and call.answered)

    def _cancelled(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """CANCEL: the INVITE ends with a 487 if it was not answered yet; after, it does nothing (RFC 3261 §9.2)."""
        return [] if call.answered else self._caller_gone(call, event)

    def _task_ended(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """The core ended the task itself (its maximum wait with nowhere to go, withdrawn): the call ends (a
        transfer asked meanwhile will be refused; a task moved by one ends `transferred`, not so)."""
        assert isinstance(event, ev.TaskEnded)
        if event.task != call.task or not call.task_live:
            return []  # a task the call had before a transfer, or one it no longer holds
        if call.transfer is not None and event.reason == Outcome.TRANSFERRED.value:
            return []  # the transfer asked ended it (its agent had no wrap-up): its answer follows
        call.deferred = None
        call.task_live, call.state, call.ended_because = False, S.ENDED, event.reason
        return self._release(call, bye=True)

    def _agent_hung_up(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        leg = self._agent_leg(call, event)
        call.gone_legs.add(leg.id)
        call.agent_leg = None
        call.state, call.ended_because, call.task_live = S.ENDED, "agent_hung_up", False
        completed = Submit(call.call, TaskCompleted(call.task, call.agent or leg.target))
        return [completed, *self._release(call, bye=True)]

    def _outside_hung_up(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        leg = call.other_leg
        if leg is None or not isinstance(event, ev.LegEvent) or leg.id != event.leg:
            raise CallStateError(call.state, event, "not the outside leg")
        call.other_leg = None
        call.gone_legs.add(leg.id)
        call.state, call.ended_because = S.ENDED, "outside_hung_up"
        return self._release(call, bye=True)

    def _flow_hang_up(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        assert isinstance(event, ev.FlowHangUp)
        actions = self._refuse_deferred(call)
        if call.task_live and call.awaiting is None:  # its task must not wait for a caller who is gone
            actions.append(Submit(call.call, TaskCancelled(call.task, Outcome.CANCELLED)))
            call.task_live = False
        call.state, call.ended_because = S.ENDED, f"ivr_{event.reason}"
        return actions + self._release(call, bye=True)

    # ------------------------------------------------------------------------ keys, hold

    def _reoffered(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """The caller's re-INVITE or UPDATE: answered with the same stream, its session timer renewed, once the
        call is answered; before, 500 with Retry-After (RFC 3261 §14.2: our answer to its INVITE is on its way);
        after its end, 481."""
        assert isinstance(event, ev.CallerReoffered)
        if call.state is S.ENDED:
            return [RejectRequest(call.call, event.request, 481)]
        if not call.answered:
            return [RejectRequest(call.call, event.request, 500, retry=True)]
        return [RefreshSession(call.call, event.request)]

    def _key(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """A key: to the call's IVR flow if it runs, and in its task's events if it has one."""
        assert isinstance(event, ev.Key)
        actions: Actions = []
        if event.who == "caller" and call.flow_running:
            actions.append(TellFlow(call.call, FlowNote.KEY, event.digit))
        if call.task_live and call.state is not S.IVR:
            actions.append(Submit(call.call, TaskNoted(call.task, "dtmf", {"digit": event.digit, "from": event.who})))
        return actions

    def _held(self, call: CallRecord, event: ev.CallEvent) -> Actions:
        """The agent's phone re-offered (RFC 3264 §8.4): on hold with music, or back and bridged again."""
        assert isinstance(event, ev.LegHeld)
        leg = self._agent_leg(call, event)
        actions = self._unbridge(call)
        if event.on_hold:
            if call.state is S.HELD:
                return actions
            call.state, call.music = S.HELD, True
            return [*actions, PlayMusic(call.call), Submit(call.call, TaskNoted(call.task, "hold"))]
        if call.state is S.TALKING:  # a new offer while talking (a changed address): bridged again
            return [*actions, self._bridge(call, "caller", leg.id)]
        call.state, call.music = S.TALKING, False
        resume = Submit(call.call, TaskNoted(call.task, "resume"))
        return [*actions, StopMusic(call.call), self._bridge(call, "caller", leg.id), resume]


def _why(event: ev.CallEvent) -> str:
    if isinstance(event, ev.MediaLost):
        return event.note
    if isinstance(event, ev.NoAck):
        return "no_ack"
    return "caller_cancelled" if isinstance(event, ev.CallerCancelled) else "caller_hung_up"


def _rules(states: tuple[CallState, ...], event: type[ev.CallEvent], rule: Rule) -> dict[Key, Rule]:
    return {(state, event): rule for state in states}


Key = tuple[CallState, type[ev.CallEvent]]
C = CallControl
_END = frozenset({S.ENDED})
_GONE = Rule(C._caller_gone, _END)
_KEY = Rule(C._key, stays=True)
_OFFER_ENDED = Rule(C._offer_ended, frozenset({S.TRANSFERRING}), stays=True)
_LATE = Rule(late.answer, _END)
#: The one transition table: (state, event) -> what handles it and the states it may lead to.
TABLE: dict[Key, Rule] = {
    (S.SETTING_UP, ev.PortOpened): Rule(C._port_opened, frozenset({S.IVR, S.QUEUEING})),
    (S.SETTING_UP, ev.PortFailed): Rule(C._port_failed, _END),
    (S.SETTING_UP, ev.CallerCancelled): _GONE,
    (S.SETTING_UP, ev.CallerHungUp): _GONE,
    (S.QUEUEING, ev.Queued): Rule(C._queued, frozenset({S.WAITING})),
    (S.QUEUEING, ev.QueueRefused): Rule(C._queue_refused, frozenset({S.IVR, S.ENDED})),
    (S.QUEUEING, ev.CallerCancelled): Rule(C._cancelled, frozenset({S.QUEUEING, S.ENDED})),
    (S.IVR, ev.FlowQueue): Rule(tr.flow_queue, frozenset({S.QUEUEING})),
    (S.IVR, ev.FlowTransfer): Rule(tr.flow_transfer, frozenset({S.TRANSFERRING})),
    (S.WAITING, ev.LegAnswered): Rule(C._agent_answered, frozenset({S.ANSWERING})),
    (S.WAITING, ev.LegRefused): Rule(C._agent_refused, frozenset({S.WAITING, S.TRANSFERRING})),
    (S.WAITING, ev.FlowOverflow): Rule(tr.flow_overflow, frozenset({S.TRANSFERRING}), stays=True),
    (S.ANSWERING, ev.FlowOverflow): Rule(tr.flow_overflow, stays=True),
    (S.WAITING, ev.FlowCallback): Rule(tr.flow_callback, frozenset({S.BOOKING})),
    (S.ANSWERING, ev.OfferTaken): Rule(C._offer_taken, frozenset({S.TALKING, S.TRANSFERRING, S.ENDED})),
    (S.ANSWERING, ev.OfferLost): Rule(C._offer_lost, frozenset({S.WAITING, S.TRANSFERRING})),
    (S.ANSWERING, ev.LegHungUp): Rule(C._agent_left_answering, frozenset({S.ANSWERING})),
    (S.TALKING, ev.ConsultAsked): Rule(tr.consult_asked, frozenset({S.CONSULTING})),
    (S.CONSULTING, ev.LegAnswered): Rule(tr.consult_answered, frozenset({S.CONSULTING})),
    (S.CONSULTING, ev.LegRefused): Rule(tr.consult_refused, frozenset({S.TALKING})),
    (S.CONSULTING, ev.LegHungUp): Rule(tr.hung_up_consulting, frozenset({S.TALKING, S.OUTSIDE, S.ENDED})),
    (S.CONSULTING, ev.ConsultCompleted): Rule(tr.consult_completed, frozenset({S.OUTSIDE})),
    (S.CONSULTING, ev.ConsultCancelled): Rule(tr.consult_cancelled, frozenset({S.TALKING})),
    (S.TRANSFERRING, ev.Requeued): Rule(tr.requeued, frozenset({S.WAITING, S.TRANSFERRING})),
    (S.TRANSFERRING, ev.Dialling): Rule(tr.dialling, frozenset({S.TRANSFERRING})),
    (S.TRANSFERRING, ev.TransferRefused): Rule(
        tr.transfer_refused, frozenset({S.TALKING, S.HELD, S.WAITING, S.TRANSFERRING, S.ENDED})
    ),
    (S.TRANSFERRING, ev.QueueRefused): Rule(tr.return_refused, frozenset({S.IVR, S.ENDED})),
    (S.TRANSFERRING, ev.LegAnswered): Rule(tr.outside_answered, frozenset({S.OUTSIDE})),
    (S.TRANSFERRING, ev.LegRefused): Rule(tr.outside_refused, frozenset({S.IVR, S.TRANSFERRING})),
    (S.TRANSFERRING, ev.LegHungUp): Rule(tr.agent_left_transferring, frozenset({S.TRANSFERRING})),
    (S.TRANSFERRING, ev.OutsideTimedOut): Rule(tr.outside_timed_out, frozenset({S.WAITING}), stays=True),
    (S.TRANSFERRING, ev.LegHeld): Rule(tr.held_transferring, stays=True),
    (S.BOOKING, ev.CallbackBooked): Rule(tr.callback_booked, frozenset({S.IVR})),
    (S.BOOKING, ev.CallbackRefused): Rule(tr.callback_refused, frozenset({S.WAITING})),
    (S.OUTSIDE, ev.LegHungUp): Rule(C._outside_hung_up, _END),
    # answers that come after the call ended: what they leave is tidied
    (S.ENDED, ev.PortOpened): Rule(late.port, _END),
    (S.ENDED, ev.PortFailed): Rule(late.port, _END),
    (S.ENDED, ev.Queued): Rule(late.queued, _END),
    (S.ENDED, ev.QueueRefused): _LATE,
    (S.ENDED, ev.OfferTaken): Rule(late.accept, _END),
    (S.ENDED, ev.OfferLost): Rule(late.accept, _END),
    (S.ENDED, ev.Requeued): Rule(late.queued, _END),
    (S.ENDED, ev.Dialling): Rule(late.queued, _END),
    (S.ENDED, ev.TransferRefused): Rule(late.transfer_refused, _END),
    (S.ENDED, ev.CallbackBooked): _LATE,
    (S.ENDED, ev.CallbackRefused): Rule(late.callback_refused, _END),
    **_rules((S.QUEUEING, *_ANSWERED), ev.CallerHungUp, _GONE),
    **_rules((S.QUEUEING, *_ANSWERED), ev.NoAck, _GONE),
    **_rules((S.QUEUEING, *_ANSWERED), ev.MediaLost, _GONE),
    **_rules((S.QUEUEING, *_ANSWERED), ev.Key, _KEY),
    **_rules(tuple(CallState), ev.Offered, Rule(C._offered, stays=True)),
    **_rules(tuple(CallState), ev.OfferEnded, _OFFER_ENDED),
    **_rules(
        (S.WAITING, S.ANSWERING, S.TALKING, S.HELD, S.CONSULTING, S.TRANSFERRING, S.OUTSIDE),
        ev.TaskEnded,
        Rule(C._task_ended, _END, stays=True),
    ),
    **_rules((S.TALKING, S.HELD), ev.LegHungUp, Rule(C._agent_hung_up, _END)),
    **_rules((S.TALKING, S.HELD), ev.LegHeld, Rule(C._held, frozenset({S.TALKING, S.HELD}))),
    **_rules((S.TALKING, S.HELD), ev.TransferAsked, Rule(tr.transfer_asked, frozenset({S.TRANSFERRING}))),
    **_rules(tuple(CallState), ev.ReferAsked, Rule(tr.refer_asked, frozenset({S.TRANSFERRING}), stays=True)),
    **_rules(tuple(CallState), ev.CallerReoffered, Rule(C._reoffered, stays=True)),
    **_rules(
        (S.IVR, S.QUEUEING, S.WAITING, S.ANSWERING, S.TRANSFERRING, S.BOOKING),
        ev.FlowHangUp,
        Rule(C._flow_hang_up, _END),
    ),
    **_rules(
        (S.IVR, S.QUEUEING, S.ANSWERING, S.TRANSFERRING, S.BOOKING, S.OUTSIDE),
        ev.FlowCallback,
        Rule(tr.callback_not_waiting, stays=True),
    ),
}
#: Pairs that are normal and change nothing.
IGNORED: frozenset[Key] = frozenset(
    {
        # the core's decisions about a task whose end the call already handles: the answer to the submission
        # that queued it (a refusal comes both as that answer and as a decision), or the call is over
        (S.SETTING_UP, ev.TaskEnded),
        (S.QUEUEING, ev.TaskEnded),
        (S.IVR, ev.TaskEnded),
        (S.BOOKING, ev.TaskEnded),  # the call-back ends the task: its answer tells the call
        (S.ENDED, ev.TaskEnded),
        # the flow's maximum wait, after the call left the queue (answered, transferred, ended)
        *((state, ev.FlowOverflow) for state in (S.IVR, S.QUEUEING, S.TALKING, S.TRANSFERRING)),
        *((state, ev.FlowOverflow) for state in (S.BOOKING, S.OUTSIDE, S.ENDED)),
        # a leg's re-INVITE that changes no bridge: the agent's before the core took its answer, or while it
        # consults (the bridge is then the agent's and the consulted party's); the outside party's
        (S.ANSWERING, ev.LegHeld),
        (S.CONSULTING, ev.LegHeld),
        (S.OUTSIDE, ev.LegHeld),
        # what the caller or the flow says after the call ended (a repeated BYE, a lost ACK, a last action)
        *((S.ENDED, event) for event in (ev.CallerHungUp, ev.CallerCancelled, ev.NoAck, ev.MediaLost, ev.Key)),
        *((S.ENDED, event) for event in (ev.FlowQueue, ev.FlowTransfer, ev.FlowCallback, ev.FlowHangUp)),
        # the core's ring timeout of an outside number, for a call no longer ringing one
        *((state, ev.OutsideTimedOut) for state in CallState if state is not S.TRANSFERRING),
        # a CANCEL after the INVITE was answered does nothing (RFC 3261 §9.2)
        *((state, ev.CallerCancelled) for state in _ANSWERED),
    }
)

"""What call control's actions (media.control.actions) become: bytes on the wire, ports, legs, the bridge,
music, recordings, the IVR flow, and submissions to the queue core whose answers are fed back to it.

`CarryOut` holds the switchboard's resources and a `Driver` (the few functions the switchboard lends it:
feed call control, run and own work, submit in order); it holds no switchboard, and decides nothing.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from acd.clock import Clock
from acd.decisions import Kind
from acd.errors import AcdError
from acd.events import CallbackRequested, Event, OfferAccepted, TaskArrived, TaskNoted
from acd.hostport import AddressError
from acd.model import Channel
from acd.service import AcdService
from media import midcall, sdp
from media.attendant import Attendant
from media.calls import Call
from media.control import actions as act
from media.control import events as ev
from media.outbound import Leg, Outbound
from media.rtp.bridge import Bridge, Side
from media.rtp.music import MusicPlayer
from media.rtp.port import PortRange, RtpPort
from media.rtp.recording import Recording
from media.rtp.ticker import Ticker
from media.sip.checks import Request
from media.sip.dialog import Dialog, contact_address, new_tag, tag_of, user_of
from media.sip.reasons import reason
from media.sip.registrar import Registrar
from media.sip.responses import answer
from media.sip.transport import Transports
from media.transfers import Transfers
from media.watch import Watch

log = logging.getLogger("media.calls")


@dataclass(frozen=True, slots=True)
class Driver:
    """What carrying out an action asks of the switchboard, as the few functions it lends."""

    transports: Callable[[], Transports]  # the SIP transports the calls' requests go out on
    feed_quietly: Callable[[ev.CallEvent], None]  # tell call control (a refusal only logged)
    spawn: Callable[[Coroutine[Any, Any, Any]], None]  # run (and own) work
    in_order: Callable[[str, Coroutine[Any, Any, Any]], None]  # a call's submissions, one after the other
    submit: Callable[[Event], Coroutine[Any, Any, bool]]  # tell the queue core (False: refused, in the log)
    listen: Callable[[Call], None]  # the caller alone on its port: its keys and voice heard
    forget_later: Callable[[Call], None]  # an ended call forgotten once late repeats are answered
    held: Callable[[str], tuple[midcall.Reply, Request] | None]  # the request call control answers, once


@dataclass(frozen=True, slots=True)
class Resources:
    service: AcdService
    registrar: Registrar
    ports: PortRange
    music: MusicPlayer
    ticker: Ticker
    outbound: Outbound
    attendant: Attendant
    transfers: Transfers
    watch: Watch
    rings: dict[str, tuple[Call, str]]
    by_task: dict[str, Call]
    host: str
    trunk: tuple[str, int] | None
    recordings: Any  # a Path: where the calls' recordings go
    clock: Clock


class CarryOut:
    def __init__(self, driver: Driver, resources: Resources) -> None:
        self.driver = driver
        self.r = resources

    def __call__(self, call: Call, action: act.Action) -> None:
        r, driver = self.r, self.driver
        match action:
            case act.OpenPort():
                driver.spawn(self._open_port(call))
            case act.Respond(_, status, note):
                self._respond(call, status, note)
            case act.ByeCaller():
                call.invite.end()
                r.outbound.bye(call.dialog)
            case act.ClosePort():
                self._close_port(call)
            case act.PlaceLeg():
                driver.spawn(self._place(call, action))
            case act.CancelLeg(_, leg) | act.HangUpLeg(_, leg) if leg in call.legs:
                r.outbound.stop(call.legs[leg])  # CANCEL if it rings (its port closes at the end), else BYE
            case act.CancelLeg() | act.HangUpLeg():
                pass  # not placed yet: its port is closed as it opens
            case act.Bridge(_, a, b):
                self._bridge(call, a, b)
            case act.Unbridge():
                if call.bridge is not None:
                    call.bridge.close()
                    call.bridge = None
                if call.side is not None:
                    driver.listen(call)
            case act.PlayMusic():
                if call.side is not None and not r.attendant.speaking(call):
                    r.music.play(call.side.port, call.side.stream.payload_type)
            case act.StopMusic():
                if call.side is not None:
                    r.music.stop(call.side.port)
            case act.StartRecording(_, task):
                self._record(call, task)
            case act.StopRecording():
                self._stop_recording(call)
            case act.Submit() | act.SubmitArrival() | act.AcceptOffer() | act.SubmitTransfer() | act.SubmitReturn():
                self._to_core(call, action)
            case act.RequestCallback():
                self._to_core(call, action)
            case act.StartFlow(_, flow, attributes):
                r.attendant.start(call, flow, attributes)
            case act.TellFlow(_, note, detail):
                r.attendant.tell(call, note, detail)
            case act.StopFlow():
                r.attendant.stop(call)
            case act.RefreshSession() | act.RejectRequest() | act.AcceptRefer() | act.NotifyRefer():
                self._in_dialog(call, action)
            case act.EndCall(_, why):
                log.info("call %s ended: %s", call.task, why)
                self.close(call)
                driver.forget_later(call)

    def _to_core(self, call: Call, action: act.Action) -> None:
        """Submissions to the queue core, in order; their answers are fed back to call control."""
        r, submit, call_id = self.r, self.driver.submit, call.dialog.call_id
        work: Coroutine[Any, Any, Any]
        match action:
            case act.Submit(_, event):
                work = submit(event)
            case act.SubmitArrival():
                r.by_task[action.task] = call
                work = self._arrive(action)
            case act.AcceptOffer(_, task, agent):
                taken, lost = ev.OfferTaken(call_id, task, agent), ev.OfferLost(call_id, task, agent)
                work = self._answer_back(submit(OfferAccepted(task, agent)), taken, lost)
            case act.SubmitTransfer():
                if action.new_task is not None:  # the core's decisions about it (an offer) reach the call
                    r.by_task[action.new_task] = call
                work = self._answered_by(r.transfers.tell(action))
            case act.SubmitReturn():
                work = self._answered_by(r.transfers.bring_back(action, call.queue))
            case act.RequestCallback(_, task, callback, number):
                booked, refused = ev.CallbackBooked(call_id), ev.CallbackRefused(call_id)
                work = self._answer_back(submit(CallbackRequested(task, callback, number)), booked, refused)
            case _:
                raise AssertionError(f"{action} is no submission")
        self.driver.in_order(call_id, work)

    # ------------------------------------------------------------------------------ the caller

    async def _open_port(self, call: Call) -> None:
        r, call_id = self.r, call.dialog.call_id
        try:
            port = await r.ports.open()
        except OSError as error:
            log.warning("call refused: %s", error)
            self.driver.feed_quietly(ev.PortFailed(call_id, 503))
            return
        try:
            body, stream = sdp.answer(call.invite.request.body, r.host, port.local[1], call.origin)
        except sdp.SdpError as error:  # no codec the bridge carries
            port.close()
            self.driver.feed_quietly(ev.PortFailed(call_id, 488, error.message))
            return
        call.side, call.answer = Side(port, stream), body
        port.expect(stream.address)
        self.driver.listen(call)
        self.driver.feed_quietly(ev.PortOpened(call_id))

    def _respond(self, call: Call, status: int, note: str) -> None:
        request, tag = call.invite.request, tag_of(call.dialog.local)
        if status == 200:
            agreed = call.timer.headers() if call.timer is not None else ()
            extra = (("contact", f"<{call.dialog.contact}>"), ("supported", "timer"), *agreed)
            call.invite.respond(answer(request, 200, reason(200), extra, call.answer, tag=tag))
            return
        retry = (("retry-after", "30"),) if status == 503 else ()  # RFC 3261 §21.5.4: worth trying again
        call.invite.respond(answer(request, status, reason(status, note), retry, tag=tag))

    def _close_port(self, call: Call) -> None:
        if call.side is not None:
            self.r.music.stop(call.side.port)
            call.side.port.close()

    def close(self, call: Call) -> None:
        """Whatever the call still holds, closed (at its end, or as the switchboard stops)."""
        if call.bridge is not None:
            call.bridge.close()
            call.bridge = None
        self.r.attendant.stop(call)
        self._stop_recording(call)
        self._close_port(call)
        for leg in call.legs.values():
            leg.side.port.close()

    def _in_dialog(self, call: Call, action: act.Action) -> None:
        """The answers call control gives to requests of the call's dialogs, and a REFER's outcome."""
        if isinstance(action, act.NotifyRefer):
            leg = call.legs.get(action.leg)
            if leg is not None:
                extra = (("event", "refer"), ("subscription-state", "terminated;reason=noresource"))
                frag = f"SIP/2.0 {action.status} {reason(action.status)}\r\n".encode()
                self.r.outbound.request(leg.dialog, "NOTIFY", extra, frag, content_type="message/sipfrag;version=2.0")
            return
        assert isinstance(action, act.RefreshSession | act.RejectRequest | act.AcceptRefer)
        held = self.driver.held(action.request)
        if held is None:
            log.error("call %s: no request %s to answer (%s)", call.task, action.request, action)
            return
        reply, request = held
        match action:
            case act.RefreshSession():
                midcall.refresh(call, request, self.r.host, reply, self.r.clock.monotonic())
            case act.RejectRequest(_, _, status, retry):
                # RFC 3261 §14.2: a Retry-After chosen at random between 0 and 10 s
                after: midcall.Headers = (("retry-after", str(secrets.randbelow(11))),) if retry else ()
                reply(status, reason(status), after, b"")
            case act.AcceptRefer():
                reply(202, reason(202), (), b"")

    # -------------------------------------------------------------------------------- the legs

    async def _place(self, call: Call, action: act.PlaceLeg) -> None:
        r, call_id = self.r, call.dialog.call_id
        where = self._where(action)
        if where is None:
            if action.role is act.Role.AGENT:  # its registration lapsed between the offer and now
                self.driver.spawn(r.watch.phone_lost(action.target))
            self.driver.feed_quietly(ev.LegRefused(call_id, action.leg, 480))
            return
        try:
            port = await r.ports.open()
        except OSError as error:
            log.warning("call %s: no port to ring %s: %s", call.task, action.target, error)
            self.driver.feed_quietly(ev.LegRefused(call_id, action.leg, 503))
            return
        if call.record.leg(action.leg) is None:  # let go while its port opened
            port.close()
            return
        leg = self._leg_for(call, action.leg, *where, port)
        call.legs[action.leg] = leg
        r.rings[leg.dialog.call_id] = (call, action.leg)
        r.outbound.place(leg)

    def _where(self, action: act.PlaceLeg) -> tuple[str, str, tuple[str, int]] | None:
        """The URI, transport and address to reach `action.target`: an agent's phone, else a number."""
        r = self.r
        bindings = r.registrar.bindings(action.target) if action.role is not act.Role.OUTSIDE else []
        if bindings:
            binding = bindings[0]
            # Over TCP, the stream the phone registered on if it kept it open (behind NAT), else its Contact.
            reachable = binding.transport == "udp" or self.driver.transports().has_stream(binding.source)
            try:
                address = binding.source if reachable else contact_address(binding.contact)
            except AddressError:  # a Contact whose host:port cannot be read: the phone cannot be reached
                return None
            return binding.contact, binding.transport, address
        if action.role is act.Role.AGENT or r.trunk is None:
            return None
        return f"sip:{action.target}@{r.trunk[0]}:{r.trunk[1]}", "udp", r.trunk

    def _leg_for(self, call: Call, leg_id: str, target: str, transport: str, address: tuple[str, int],
                 port: RtpPort) -> Leg:  # fmt: skip
        """An outbound INVITE for `call` to `target`, showing the caller's number, offering the caller's codec first."""
        host, sip_port = self.driver.transports().address
        caller = user_of(call.dialog.remote) or "anonymous"
        dialog = Dialog(
            call_id=f"{new_tag()}{new_tag()}@{host}",
            local=f'"{caller}" <sip:{caller}@{host}:{sip_port}>;tag={new_tag()}',
            remote=f"<{target}>",
            target=target,
            contact=f"sip:acd@{host}:{sip_port}" + (";transport=tcp" if transport == "tcp" else ""),
            cseq=0,
            transport=transport,
            address=address,
            via_host=f"{host}:{sip_port}",
        )
        first = call.media.stream.payload_type  # the caller's codec first: no transcoding if the far end has it
        codecs = (first, *(pt for pt in sdp.OFFERED if pt != first))
        origin = sdp.Origin(port.local[1])
        body = sdp.offer(self.r.host, port.local[1], origin, codecs)
        invite, branch = dialog.request("INVITE", (("subject", call.queue),), body)
        call_id = call.dialog.call_id
        return Leg(
            dialog, invite, branch, Side(port, call.media.stream), origin,
            on_answer=lambda leg, body: self._answered(call_id, leg_id, leg, body),
            on_refusal=lambda leg, status: self.driver.feed_quietly(ev.LegRefused(call_id, leg_id, max(status, 300))),
        )  # fmt: skip

    def _answered(self, call_id: str, leg_id: str, leg: Leg, body: bytes) -> None:
        try:
            stream = sdp.agreed(body)
        except sdp.SdpError as error:
            log.info("call %s: leg %s answered with unusable SDP: %s", call_id, leg_id, error)
            self.r.outbound.hang_up(leg)
            self.driver.feed_quietly(ev.LegRefused(call_id, leg_id, 488))
            return
        leg.side = Side(leg.side.port, stream)
        leg.side.port.expect(stream.address)
        self.driver.feed_quietly(ev.LegAnswered(call_id, leg_id))

    def _bridge(self, call: Call, a: str, b: str) -> None:
        sides = [call.media if name == "caller" else call.legs[name].side for name in (a, b)]
        recording = call.recording if a == "caller" else None
        taps = (recording.caller, recording.agent) if recording is not None else None
        call_id = call.dialog.call_id
        if a == "caller":  # keys pressed on either side go to call control (the task's events)
            on_digit: Callable[[str, str], None] = lambda who, digit: self.driver.feed_quietly(
                ev.Key(call_id, who, digit)
            )
        else:
            on_digit = lambda who, digit: None
        if call.bridge is not None:
            call.bridge.close()
        call.bridge = Bridge(sides[0], sides[1], on_digit, taps)

    # ------------------------------------------------------------------------------- recording

    def _record(self, call: Call, task: str) -> None:
        path = self.r.recordings / f"{task}.wav"
        call.recording = Recording(path)
        self.r.ticker.add(call.recording, call.recording.tick)
        self.driver.in_order(
            call.dialog.call_id,
            self.driver.submit(TaskNoted(task, "recording", {"path": str(path.resolve())})),
        )

    def _stop_recording(self, call: Call) -> None:
        if call.recording is not None:
            self.r.ticker.remove(call.recording)
            call.recording.close()
            call.recording = None

    # ------------------------------------------------------------------------ the queue core

    async def _arrive(self, action: act.SubmitArrival) -> None:
        """The call's task into its queue: queued, or why not (the core's reason, or `unavailable` when the
        store cannot be reached)."""
        given = {name: value for name, value in action.attributes.items() if value}
        arrival = TaskArrived(action.task, Channel.VOICE, action.queue, attributes=given)
        try:
            decisions = await self.r.service.submit(arrival)
        except AcdError as error:
            log.warning("call %s not queued: %s", action.task, error)
            self.driver.feed_quietly(ev.QueueRefused(action.call, action.task, "unavailable"))
            return
        rejected = next((d for d in decisions if d.kind is Kind.TASK_REJECTED and d.task == action.task), None)
        if rejected is not None:
            self.driver.feed_quietly(ev.QueueRefused(action.call, action.task, rejected.reason or "rejected"))
        else:
            self.driver.feed_quietly(ev.Queued(action.call, action.task))

    async def _answer_back(self, submitted: Coroutine[Any, Any, bool], yes: ev.CallEvent, no: ev.CallEvent) -> None:
        self.driver.feed_quietly(yes if await submitted else no)

    async def _answered_by(self, told: Coroutine[Any, Any, ev.CallEvent | None]) -> None:
        outcome = await told
        if outcome is not None:
            self.driver.feed_quietly(outcome)

"""The switchboard: calls from the trunk into the queue core, and the core's offers out to agents' phones.

A back-to-back user agent. An INVITE to a configured number becomes a task (answered with music while
it waits); the core's decisions drive the rest: an offer rings the agent's registered phone, its answer
accepts the offer and bridges the two legs, a refusal or the offer's end gives the task back (CANCEL
sent); either side hanging up completes the task (the agent goes to wrap-up) or abandons it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.decisions import Kind
from acd.errors import AcdError
from acd.events import (
    Event,
    OfferAccepted,
    OfferRefused,
    TaskArrived,
    TaskCancelled,
    TaskCompleted,
    TaskNoted,
)
from acd.model import Channel
from acd.service import AcdService
from acd.topology import opening_hours
from ivr.facts import CentreFacts
from ivr.flow import Flow
from ivr.synthesis import PromptCache
from media import sdp
from media.attendant import Attendant
from media.calls import Call, CallState, Destination, FlowEntry, task_id_for
from media.errors import MediaError
from media.midcall import MidCall
from media.outbound import Leg, Outbound
from media.rtp.bridge import Bridge, Side, watch_digits
from media.rtp.music import Music, MusicPlayer
from media.rtp.port import PortRange, RtpPort
from media.rtp.recording import Recording
from media.rtp.ticker import Ticker
from media.sip import session_timer
from media.sip.checks import Request, Response
from media.sip.dialog import Dialog, branch_of, contact_address, new_tag, uri_of, user_of
from media.sip.registrar import Registrar
from media.sip.responses import answer
from media.sip.transactions import GIVE_UP, Answered, repeat, transaction_of
from media.sip.transport import Source, Transports
from media.transfers import Transfers
from media.watch import Watch

log = logging.getLogger("media.calls")

#: States of a call whose task is over: what the core decides about that task no longer concerns the call.
_TASK_DONE = frozenset({CallState.ENDED, CallState.TRANSFERRING, CallState.OUTSIDE})
#: States where the call's own code answers the end of its task: the set-up and the IVR flow (a queue that
#: refuses the call, a call-back that replaces it).
_ENDS_HANDLED = frozenset({CallState.SETTING_UP, CallState.IVR})
_WATCHED = frozenset({Kind.OFFERED, Kind.OFFER_TIMED_OUT, Kind.OFFER_REVOKED, Kind.TASK_ENDED, Kind.TASK_REJECTED})
_REASONS = {
    400: "Bad Request",
    422: "Session Interval Too Small",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
}
#: Why a call is refused when the core does not queue it.
_REJECTED = {"queue_full": (486, "Busy Here"), "no_queue_to_take_it": (486, "Busy Here")}


@dataclass(frozen=True, slots=True)
class MediaSettings:
    host: str  # where RTP ports are bound and what SDP announces
    ports: tuple[int, int]
    music: Music
    max_calls: int
    media_timeout: float
    recordings: Path
    recorded_queues: frozenset[str]
    numbers: Mapping[str, str] = field(default_factory=dict)  # dialled number -> the queue its calls enter
    queues: frozenset[str] = frozenset()  # the voice queues a call may be transferred to
    trunk: tuple[str, int] | None = None  # where calls to outside numbers go (UDP)
    flows: Mapping[str, Flow] = field(default_factory=dict)  # the IVR flows, by name
    flow_folder: Path = Path("ivr")  # where the flows' recorded prompts are
    prompt_cache: Path = Path("prompt-cache")  # where synthesised prompts are kept


class Switchboard:
    def __init__(self, service: AcdService, registrar: Registrar, settings: MediaSettings) -> None:
        self.service = service
        self.registrar = registrar
        self.settings = settings
        self.ports = PortRange(settings.host, *settings.ports)
        self.ticker = Ticker()
        self.music = MusicPlayer(settings.music, self.ticker)
        self.transports = Transports()
        self.calls: dict[str, Call] = {}  # by the caller's Call-ID
        self.by_task: dict[str, Call] = {}
        self.rings: dict[str, tuple[Call, Leg]] = {}  # agents' legs by their Call-ID
        self.outbound = Outbound(lambda: self.transports, self.spawn)
        self.transfers = Transfers(self)
        self._answered = Answered()
        self._group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.watch = Watch(self)
        self.midcall = MidCall(self)
        prompts = PromptCache(settings.prompt_cache)
        deployment = service.deployment  # the flows' calendars, as opening hours in the centre's time zone
        calendars = {c.id: opening_hours(c, deployment.settings.timezone) for c in deployment.calendars}
        facts = CentreFacts.of_service(service, calendars)
        self.attendant = Attendant(self, settings.flows, prompts, settings.flow_folder, facts)

    # ------------------------------------------------------------------------------ lifecycle

    @contextlib.asynccontextmanager
    async def running(self, transports: Transports) -> AsyncIterator[Switchboard]:
        self.transports = transports
        async with asyncio.TaskGroup() as group:
            self._group = group
            for work in (self.ticker.run(), self._follow_decisions(), self.watch.run()):
                self.spawn(work)
            try:
                yield self
            finally:
                self._group = None
                for call in list(self.calls.values()):
                    if call.state is not CallState.ENDED:  # (an ended call was released when it ended)
                        self.release(call)
                for task in list(self._tasks):  # retransmissions and pending steps end with the switchboard
                    task.cancel()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        if self._group is None:
            work.close()
            return
        task = self._group.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except Exception:  # one call's fault must not end every other call's task group
            log.exception("call handling failed")

    async def submit(self, event: Event) -> bool:
        """Tell the core; False (said in the log) when it refuses, as when an offer already ended."""
        try:
            await self.service.submit(event)
            return True
        except AcdError as error:
            log.info("%s refused: %s", type(event).__name__, error)
            return False

    # --------------------------------------------------------------------------------- dispatch

    def handle(self, message: Request | Response, source: Source) -> bool:
        """Take what belongs to a call; False for what the front door answers."""
        if isinstance(message, Response):
            self.outbound.dispatch(message)
            return True
        call_id = message.first("call-id") or ""
        if call_id in self.calls:
            self._from_caller(self.calls[call_id], message, source)
            return True
        if call_id in self.rings:
            call, ring = self.rings[call_id]
            self._from_agent(call, ring, message, source)
            return True
        return False

    def reply(self, request: Request, source: Source, status: int, reason: str, extra: tuple[tuple[str, str], ...] = (),
               body: bytes = b"", tag: str | None = None) -> None:  # fmt: skip
        response = answer(request, status, reason, extra, body, tag=tag)
        if response is not None:
            source.send(response)
            if request.method != "INVITE":
                self._answered.keep(transaction_of(request), request.method, response)

    def _repeated(self, request: Request, source: Source) -> bool:
        """A retransmission of a request already answered: answered again the same way."""
        earlier = self._answered.get(transaction_of(request), request.method)
        if earlier is not None:
            source.send(earlier)
        return earlier is not None

    # ------------------------------------------------------------------------------ a new call

    def arrive(self, request: Request, source: Source, destination: Destination) -> None:
        """An INVITE to one of the deployment's numbers, from the trunk: to a queue, or into an IVR flow."""
        if sum(call.state is not CallState.ENDED for call in self.calls.values()) >= self.settings.max_calls:
            self.reply(request, source, 503, "Service Unavailable", (("retry-after", "30"),))
            return
        try:
            sdp.read(request.body)
            timer = session_timer.negotiate(request)
        except session_timer.IntervalTooSmall:
            self.reply(request, source, 422, "Session Interval Too Small", (("min-se", str(session_timer.MIN_SE)),))
            return
        except MediaError as error:
            self.reply(request, source, error.status, f"{_REASONS[error.status]} ({error.message})")
            return
        self.reply(request, source, 100, "Trying")
        call_id = request.first("call-id") or ""
        tag = new_tag()
        host, port = self.transports.address
        contact_uri = f"sip:{user_of(request.first('to') or '') or 'acd'}@{host}:{port}"
        if source.transport == "tcp":
            contact_uri += ";transport=tcp"
        dialog = Dialog(
            call_id=call_id,
            local=f"{request.first('to')};tag={tag}",
            remote=request.first("from") or "",
            target=uri_of(request.first("contact") or request.first("from") or ""),
            contact=contact_uri,
            cseq=1000,
            transport=source.transport,
            address=source.address,
            via_host=f"{host}:{port}",
        )
        queue = destination if isinstance(destination, str) else ""  # a flow chooses the queue later
        call = Call(task_id_for(call_id), queue, dialog, request, timer=timer, refreshed_at=time.monotonic())
        self.calls[call_id] = call
        entry = destination if isinstance(destination, FlowEntry) else None
        self.spawn(self._set_up(call, request, source, tag, entry))

    async def _set_up(self, call: Call, request: Request, source: Source, tag: str, entry: FlowEntry | None) -> None:
        try:
            port = await self.ports.open(time.monotonic)
        except OSError as error:
            log.warning("call refused: %s", error)
            self._fail(call, request, source, 503, "Service Unavailable", tag)
            return
        try:
            body, stream = sdp.answer(request.body, self.settings.host, port.local[1], call.origin)
        except sdp.SdpError as error:  # no codec the bridge carries
            port.close()
            self._fail(call, request, source, 488, f"Not Acceptable Here ({error.message})", tag)
            return
        call.side = Side(port, stream)
        port.expect(stream.address)
        self.by_task[call.task] = call
        if call.cancelled:  # the caller gave up before it was queued: no task at all
            port.close()
            self._fail(call, request, source, 487, "Request Terminated", tag)
            return
        if entry is not None:  # answered at once: the flow speaks first, and queues the call when it knows where
            call.state = CallState.IVR
            self._answer(call, request, source, tag, body)
            self.attendant.start(call, entry)
            return
        caller = user_of(request.first("from") or "")
        attributes = {"caller": caller, "dialled": user_of(request.first("to") or "") or request.uri}
        refused = await self.queue_call(call, attributes)
        if refused == "unavailable":
            self._fail(call, request, source, 503, "Service Unavailable", tag, (("retry-after", "30"),))
            return
        if refused is not None:
            status, reason = _REJECTED.get(refused, (480, "Temporarily Unavailable"))
            self._fail(call, request, source, status, reason, tag)
            return
        if call.cancelled:  # the caller gave up while the task was being queued
            self._fail(call, request, source, 487, "Request Terminated", tag)
            await self.submit(TaskCancelled(call.task))
            return
        call.state = CallState.WAITING
        watch_digits(call.media, lambda digit: self.midcall.digit(call, "caller", digit))
        self.music.play(port, stream.payload_type)
        self._answer(call, request, source, tag, body)

    def _answer(self, call: Call, request: Request, source: Source, tag: str, body: bytes) -> None:
        call.answer = body
        agreed = call.timer.headers() if call.timer is not None else ()
        extra = (("contact", f"<{call.dialog.contact}>"), ("supported", "timer"), *agreed)
        call.final = answer(request, 200, "OK", extra, body, tag=tag)
        self._send_final(call, source)

    async def queue_call(self, call: Call, attributes: Mapping[str, str]) -> str | None:
        """The call's task into `call.queue`; None when it waits there, else why not (the core's reason, or
        `unavailable` when the store cannot be reached)."""
        given = {name: value for name, value in attributes.items() if value}
        arrival = TaskArrived(call.task, Channel.VOICE, call.queue, attributes=given)
        try:
            decisions = await self.service.submit(arrival)
        except AcdError as error:
            log.warning("call %s not queued: %s", call.task, error)
            return "unavailable"
        rejected = next((d for d in decisions if d.kind is Kind.TASK_REJECTED and d.task == call.task), None)
        return None if rejected is None else rejected.reason or "rejected"

    def _send_final(self, call: Call, source: Source) -> None:
        final = call.final
        assert final is not None
        source.send(final)
        if source.transport == "udp":
            self.spawn(self._until_acked(call, source, final))

    async def _until_acked(self, call: Call, source: Source, final: bytes) -> None:
        answered = final.startswith(b"SIP/2.0 2")
        # A 2xx stops with the ACK, or when the call ends first (the caller's BYE overtook a lost ACK).
        done = (lambda: call.acked.is_set() or call.state is CallState.ENDED) if answered else call.acked.is_set
        acked = await repeat(lambda: source.send(final), done)
        if not acked and answered:  # RFC 3261 §13.3.1.4: no ACK for the 2xx, the call ends
            log.info("call %s: no ACK to its answer", call.task)
            await self._caller_gone(call, "no_ack", hang_up=True)

    def _fail(self, call: Call, request: Request, source: Source, status: int, reason: str, tag: str,
              extra: tuple[tuple[str, str], ...] = ()) -> None:  # fmt: skip
        call.final = answer(request, status, reason, extra, tag=tag)
        call.state = CallState.ENDED
        self._send_final(call, source)
        self.release(call)

    # ------------------------------------------------------------------------ from the caller

    def _from_caller(self, call: Call, request: Request, source: Source) -> None:
        method = request.method
        if method == "ACK":
            call.acked.set()
            return
        if method == "INVITE" and branch_of(request.first("via") or "") == branch_of(call.invite.first("via") or ""):
            source.send(call.final or answer(request, 100, "Trying") or b"")  # RFC 3261 §17.2.1: a repeat
            return
        if self._repeated(request, source):
            return
        if method == "CANCEL":
            self.reply(request, source, 200, "OK")
            if call.state is CallState.SETTING_UP:
                call.cancelled = True
            return
        if call.state is CallState.ENDED:
            self.reply(request, source, 481, "Call/Transaction Does Not Exist")
            return
        if method == "BYE":
            self.reply(request, source, 200, "OK")
            self.spawn(self._caller_gone(call, "caller_hung_up"))
        elif method == "INVITE" and call.side is None:
            self.reply(request, source, 491, "Request Pending")  # RFC 3261 §14.2: our answer is on its way
        elif method in ("INVITE", "UPDATE"):  # a refresh or a new offer from the trunk: the same stream again
            self.midcall.refreshed(call, request, source)
        elif method == "INFO":
            self.midcall.info(call, "caller", request, source)
        else:
            self.reply(request, source, 405, "Method Not Allowed")

    async def _caller_gone(self, call: Call, why: str, *, hang_up: bool = False) -> None:
        """The caller's leg ended (it hung up; or, with `hang_up`, the ACD ends it): the task follows."""
        if call.state is CallState.ENDED:
            return
        if hang_up:
            self.outbound.bye(call.dialog)
        talking, agent, had_task = (
            call.talking,
            call.agent,
            call.state not in (CallState.TRANSFERRING, CallState.OUTSIDE, CallState.IVR),
        )
        call.state = CallState.ENDED
        call.ended_because = why
        self.attendant.caller_left(call)
        self._hang_up_agent(call)  # a phone still ringing stops at once
        self._hang_up_consulted(call)
        if talking and agent is not None:
            await self.submit(TaskCompleted(call.task, agent))
        elif had_task:
            await self.submit(TaskCancelled(call.task))  # its offer is revoked: the phone stops ringing
        self.release(call)

    def _hang_up_consulted(self, call: Call) -> None:
        leg, call.consult = call.consult, None
        if leg is not None:
            self.outbound.stop(leg)
            self.forget_leg(call, leg, close=False)

    # ------------------------------------------------------------------------- the agent's phone

    async def _ring(self, call: Call, agent: str) -> None:
        bindings = self.registrar.bindings(agent)
        if not bindings:  # its registration lapsed between the offer and now
            await self.watch.phone_lost(agent)
            return
        binding = bindings[0]
        port = await self.ports.open(time.monotonic)
        if call.state is not CallState.WAITING or call.ring is not None:
            port.close()  # the caller left, or another phone rings, while the port opened
            return
        # Over TCP, the stream the phone registered on if it kept it open (behind NAT), else its Contact.
        reachable_on_source = binding.transport == "udp" or self.transports.has_stream(binding.source)
        address = binding.source if reachable_on_source else contact_address(binding.contact)
        leg = self.leg_for(
            call, binding.contact, binding.transport, address, port, self._agent_answered, self._agent_refused
        )
        leg.agent = agent
        call.ring = leg
        self.rings[leg.dialog.call_id] = (call, leg)
        self.outbound.place(leg)

    def leg_for(self, call: Call, target: str, transport: str, address: tuple[str, int], port: RtpPort,
             on_answer: Callable[[Call, Leg, bytes], None], on_refusal: Callable[[Call, Leg, int], None]) -> Leg:  # fmt: skip
        """An outbound INVITE for `call` to `target`, showing the caller's number, offering the caller's codec first."""
        host, sip_port = self.transports.address
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
        body = sdp.offer(self.settings.host, port.local[1], origin, codecs)
        invite, branch = dialog.request("INVITE", (("subject", call.queue),), body)
        return Leg(
            dialog, invite, branch, Side(port, call.media.stream), origin,
            on_answer=lambda leg, answer: on_answer(call, leg, answer),
            on_refusal=lambda leg, status: on_refusal(call, leg, status),
        )  # fmt: skip

    def _agent_refused(self, call: Call, leg: Leg, status: int) -> None:
        """486, 603, or a phone that could not be rung: the offer is refused, the task goes back."""
        if call.ring is leg:
            call.ring = None
        if leg.agent is not None:
            self.spawn(self.submit(OfferRefused(call.task, leg.agent)))

    def _agent_answered(self, call: Call, leg: Leg, body: bytes) -> None:
        self.spawn(self._take_answer(call, leg, body))

    async def _take_answer(self, call: Call, leg: Leg, body: bytes) -> None:
        agent = leg.agent or ""
        try:
            stream = sdp.agreed(body)
        except sdp.SdpError as error:
            log.info("call %s: agent %s answered with unusable SDP: %s", call.task, agent, error)
            self._hang_up_leg(call, leg)
            await self.submit(OfferRefused(call.task, agent))
            return
        leg.side = Side(leg.side.port, stream)
        leg.side.port.expect(stream.address)
        if call.state is not CallState.WAITING or not await self.submit(OfferAccepted(call.task, agent)):
            self._hang_up_leg(call, leg)  # the caller left, or the offer ended first
            return
        if not call.live:  # the caller left while the answer was being taken: the task is
            await self.submit(TaskCompleted(call.task, agent))  # the agent's now, and ends with its wrap-up
            return
        call.state, call.agent = CallState.TALKING, agent
        self.music.stop(call.media.port)
        self.attendant.connected(call)
        if call.queue in self.settings.recorded_queues:
            await self.record(call)
        self.join(call, leg)

    def join(self, call: Call, leg: Leg) -> None:
        recording = call.recording
        taps = (recording.caller, recording.agent) if recording is not None else None
        call.bridge = Bridge(call.media, leg.side, lambda who, digit: self.midcall.digit(call, who, digit), taps)

    async def record(self, call: Call) -> None:
        path = self.settings.recordings / f"{call.task}.wav"
        call.recording = Recording(path)
        self.ticker.add(call.recording, call.recording.tick)
        await self.submit(TaskNoted(call.task, "recording", {"path": str(path.resolve())}))

    def _from_agent(self, call: Call, leg: Leg, request: Request, source: Source) -> None:
        method = request.method
        if method == "ACK" or self._repeated(request, source):
            return
        if method == "BYE":
            self.reply(request, source, 200, "OK")
            self.spawn(self._agent_gone(call, leg))
        elif method == "INVITE":  # hold or resume (RFC 3264 §8.4)
            stream = self.midcall.reoffer(request, source, leg.side, leg.dialog, leg.origin)
            if stream is not None and call.state in (CallState.TALKING, CallState.HELD) and leg is call.ring:
                self.midcall.hold_or_resume(call, leg, stream)
        elif method == "INFO":
            self.midcall.info(call, "agent", request, source)
        elif method == "REFER" and leg is call.ring:
            self.transfers.referred(call, leg, request, source)
        else:
            self.reply(request, source, 405, "Method Not Allowed")

    async def _agent_gone(self, call: Call, leg: Leg) -> None:
        """A BYE from a leg the ACD placed: the agent's phone, a consulted party, or an outside one."""
        consulted, agent_leg = leg is call.consult, leg is call.ring
        self.forget_leg(call, leg)
        if call.state is CallState.ENDED or not (consulted or agent_leg):
            return  # the call is over, or this leg's part in it was (an agent hanging up after a transfer)
        if call.state is CallState.CONSULTING:
            if consulted:
                await self.transfers.consulted_hung_up(call, leg)
            else:
                await self.transfers.agent_left_consultation(call)
            return
        if call.state is CallState.OUTSIDE:  # the outside party hung up: the caller's leg ends too
            call.state = CallState.ENDED
            call.ended_because = "outside_hung_up"
            self.outbound.bye(call.dialog)
            self.release(call)
            return
        call.state = CallState.ENDED
        call.ended_because = "agent_hung_up"
        self.outbound.bye(call.dialog)
        await self.submit(TaskCompleted(call.task, leg.agent or ""))
        self.release(call)

    def _stop_ringing(self, call: Call, agent: str | None) -> None:
        leg = call.ring
        if leg is not None and leg.agent == agent and leg.live:
            self._hang_up_agent(call)  # another phone may ring for this call while this one winds down

    def _hang_up_leg(self, call: Call, leg: Leg) -> None:
        self.outbound.hang_up(leg)
        self.forget_leg(call, leg)

    def _hang_up_agent(self, call: Call) -> None:
        """CANCEL a ringing phone (the leg ends at its final response) or BYE an answered one."""
        leg = call.ring
        if leg is not None:
            self.outbound.stop(leg)
            self.forget_leg(call, leg, close=False)

    def forget_leg(self, call: Call, leg: Leg, *, close: bool = True) -> None:
        if call.ring is leg:
            call.ring = None
        if call.consult is leg:
            call.consult = None
        if close:
            self.outbound.forget(leg)
        # The dialog is kept a little: a BYE or a repeated 2xx may still come for it.
        asyncio.get_running_loop().call_later(GIVE_UP, self.rings.pop, leg.dialog.call_id, None)

    # ----------------------------------------------------------------------- the core's decisions

    async def _follow_decisions(self) -> None:
        subscription = self.service.subscribe(
            lambda entry: entry.decision.kind in _WATCHED and entry.decision.task in self.by_task
        )
        try:
            while (entry := await subscription.queue.get()) is not None:
                decision = entry.decision
                call = self.by_task.get(decision.task or "")
                if call is None or call.task != decision.task or call.state in _TASK_DONE:
                    continue  # an ended call, a task the call had before a transfer, or one handed outside
                if decision.kind is Kind.OFFERED and decision.agent is not None:
                    self.spawn(self._ring(call, decision.agent))
                elif decision.kind in (Kind.OFFER_TIMED_OUT, Kind.OFFER_REVOKED):
                    self._stop_ringing(call, decision.agent)
                elif call.state not in _ENDS_HANDLED:
                    self.end(call, decision.reason or decision.kind.value)
        finally:
            self.service.unsubscribe(subscription)

    def stop_recording(self, call: Call) -> None:
        if call.recording is not None:
            self.ticker.remove(call.recording)
            call.recording.close()
            call.recording = None

    def end(self, call: Call, why: str) -> None:
        """The core ended the task (its maximum wait with nowhere to go, or withdrawn): the call ends."""
        call.state = CallState.ENDED
        call.ended_because = why
        self._hang_up_agent(call)
        self._hang_up_consulted(call)
        self.outbound.bye(call.dialog)
        self.release(call)

    async def media_lost(self, call: Call, who: str, note: str = "media_timeout") -> None:
        """The call's media stopped, or its session was not refreshed: it ends, and its events say why."""
        if call.state is CallState.ENDED:
            return
        if call.state is not CallState.IVR:  # (in a flow, the call has no task to note it on)
            await self.submit(TaskNoted(call.task, note, {"side": who}))
        await self._caller_gone(call, note, hang_up=True)

    def release(self, call: Call) -> None:
        """Free what the call holds: its port, its bridge, its recording; forget it after a while."""
        log.info("call %s ended: %s", call.task, call.ended_because or "refused")
        if call.bridge is not None:
            call.bridge.close()
        self.attendant.forget(call)
        self.stop_recording(call)
        if call.side is not None:
            self.music.stop(call.side.port)
            call.side.port.close()
        # Kept a little while (a repeated BYE or a late ACK still finds it), then forgotten.
        asyncio.get_running_loop().call_later(GIVE_UP, self._forget, call)

    def _forget(self, call: Call) -> None:
        self.calls.pop(call.dialog.call_id, None)
        if self.by_task.get(call.task) is call:
            del self.by_task[call.task]

"""The switchboard: the I/O around call control (media.control), calls from the trunk into the queue core
and the core's offers out to agents' phones.

A back-to-back user agent. What it hears (SIP from the caller and from the legs it placed, RTP keys, the
results of its own I/O, the core's decisions) becomes an event of call control; what call control returns
is carried out here (media.carry_out): responses and requests on the wire, ports, legs, the bridge, music,
recordings, the IVR flow, submissions to the queue core (one at a time, in order, their answers fed back).
The switchboard decides nothing about a call; it owns every task and timer it starts.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.clock import SYSTEM_CLOCK, Clock
from acd.decisions import Decision, Kind
from acd.errors import AcdError
from acd.events import Event
from acd.service import AcdService
from acd.topology import opening_hours
from ivr.facts import CentreFacts
from ivr.flow import Flow
from ivr.synthesis import PromptCache
from media import midcall, sdp
from media.attendant import Attendant, Services
from media.calls import Call, CallState, Destination, FlowEntry
from media.carry_out import CarryOut, Driver, Resources
from media.control import CallControl, CallControlError, task_id_for
from media.control import events as ev
from media.errors import MediaError
from media.outbound import Outbound
from media.rtp.bridge import DtmfWatch, Side
from media.rtp.music import Music, MusicPlayer
from media.rtp.packets import RtpPacket
from media.rtp.port import PortRange
from media.rtp.ticker import Ticker
from media.rtp.transcode import to_pcm8k
from media.sip import session_timer
from media.sip.checks import Request, Response
from media.sip.dialog import Dialog, new_tag, tag_of, uri_of, user_of
from media.sip.reasons import reason
from media.sip.registrar import Registrar
from media.sip.responses import answer
from media.sip.transactions import GIVE_UP, Answered, InviteServer, transaction_of
from media.sip.transport import Source, Transports
from media.transfers import Transfers
from media.watch import Watch

log = logging.getLogger("media.calls")

_WATCHED = frozenset({Kind.OFFERED, Kind.OFFER_TIMED_OUT, Kind.OFFER_REVOKED, Kind.TASK_ENDED, Kind.TASK_REJECTED})
Headers = tuple[tuple[str, str], ...]


def _watched(decision: Decision) -> bool:
    """The decisions a call hears of: its offers, its task's end, and its task taken back from an outside
    number by the core's ring timeout (a task queued otherwise is the answer to what the call submitted)."""
    if decision.kind is Kind.TASK_QUEUED:
        return decision.data.get("outside") == "outside_timeout"
    return decision.kind in _WATCHED


@dataclass(frozen=True, slots=True)
class MediaSettings:
    host: str  # where RTP ports are bound and what SDP announces
    ports: tuple[int, int]
    music: Music
    max_calls: int
    media_timeout: float
    recordings: Path
    recorded_queues: frozenset[str]
    trunk: tuple[str, int] | None = None  # where calls to outside numbers go (UDP)
    flows: Mapping[str, Flow] = field(default_factory=dict)  # the IVR flows, by name
    flow_folder: Path = Path("ivr")  # where the flows' recorded prompts are
    prompt_cache: Path = Path("prompt-cache")  # where synthesised prompts are kept


class Switchboard:
    def __init__(
        self, service: AcdService, registrar: Registrar, settings: MediaSettings, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.service = service
        self.registrar = registrar
        self.settings = settings
        self.clock = clock
        self.control = CallControl(settings.recorded_queues, settings.max_calls)
        self.ports = PortRange(settings.host, *settings.ports, clock)
        self.ticker = Ticker(clock)
        self.music = MusicPlayer(settings.music, self.ticker)
        self.transports = Transports()
        self.calls: dict[str, Call] = {}  # by the caller's Call-ID
        self.by_task: dict[str, Call] = {}  # every task a call had: the core's decisions about it reach it
        self.rings: dict[str, tuple[Call, str]] = {}  # the legs placed, by their Call-ID: their call, their id
        self.outbound = Outbound(lambda: self.transports, self.spawn, self.later)
        self._answered = Answered()
        self._held: dict[str, tuple[midcall.Reply, Request]] = {}  # requests call control is answering, by id
        self._request_ids = itertools.count(1)
        self._group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._events: collections.deque[ev.CallEvent] = collections.deque()
        self._feeding = False
        self._waiting: dict[str, collections.deque[Coroutine[Any, Any, Any]]] = {}  # submissions, by call
        self._submitters: dict[str, asyncio.Task[None]] = {}  # by call: the task making them in turn
        self.transfers = Transfers(
            service.topology, self.feed, self.settled, lambda agent: bool(registrar.bindings(agent)), self.submit,
            service.submit,
        )  # fmt: skip
        self.watch = Watch(
            registrar.registered, self.submit, lambda: self.calls.values(), self.feed, self.outbound.request,
            self.spawn, settings.media_timeout, clock,
        )  # fmt: skip
        prompts = PromptCache(settings.prompt_cache)
        deployment = service.deployment  # the flows' calendars, as opening hours in the centre's time zone
        calendars = {c.id: opening_hours(c, deployment.settings.timezone) for c in deployment.calendars}
        facts = CentreFacts.of_service(service, calendars)
        lent = Services(self.feed, self.submit, self.spawn, self.later, self.estimate)
        self.attendant = Attendant(
            lent, settings.flows, prompts, settings.flow_folder, facts, self.ticker, self.music,
            settings.recordings, clock,
        )  # fmt: skip
        driver = Driver(
            lambda: self.transports, self.feed_quietly, self.spawn, self.in_order, self.submit, self.listen,
            self.forget_later, self.held,
        )  # fmt: skip
        self.carry_out = CarryOut(
            driver,
            Resources(
                service, registrar, self.ports, self.music, self.ticker, self.outbound, self.attendant,
                self.transfers, self.watch, self.rings, self.by_task, settings.host, settings.trunk,
                settings.recordings, clock,
            ),
        )  # fmt: skip

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
                    self.carry_out.close(call)
                for task in list(self._tasks):  # retransmissions and pending steps end with the switchboard
                    task.cancel()
                for timer in list(self._timers):
                    timer.cancel()
                self._timers.clear()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        if self._group is None:
            work.close()
            return
        task = self._group.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def later(self, delay: float, action: Callable[[], None]) -> asyncio.TimerHandle:
        """Run `action` after `delay` seconds, unless the switchboard stops first (it cancels its timers)."""

        def fire() -> None:
            self._timers.discard(handle)
            action()

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)
        return handle

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except Exception:  # one call's fault must not end every other call's task group
            log.exception("call handling failed")

    # ------------------------------------------------------------------------ call control

    def feed(self, event: ev.CallEvent) -> None:
        """Tell call control and carry out what it says. An event that comes while another's actions are
        carried out (the IVR flow's, a leg that fails at once) waits for them: each is handled whole. The
        event fed first raises CallControlError when call control refuses it (a request that does not apply)."""
        if self._feeding:
            self._events.append(event)
            return
        self._feeding = True
        try:
            self._handle(event)
            while self._events:
                queued = self._events.popleft()
                try:
                    self._handle(queued)
                except CallControlError as error:
                    log.error("call control refused %s: %s", queued, error)
        finally:
            self._feeding = False

    def _handle(self, event: ev.CallEvent) -> None:
        actions = self.control.handle(event, self.clock.monotonic())  # (UnknownCall for a call forgotten)
        call = self.calls[event.call]  # call control and the switchboard forget a call together
        for action in actions:
            self.carry_out(call, action)

    def feed_quietly(self, event: ev.CallEvent) -> None:
        """Feed what the SIP peers and the core say: a refusal is a fault of call control, logged."""
        try:
            self.feed(event)
        except CallControlError as error:
            log.error("call control refused %s: %s", event, error)

    async def submit(self, event: Event) -> bool:
        """Tell the core; False (said in the log) when it refuses, as when an offer already ended."""
        try:
            await self.service.submit(event)
            return True
        except AcdError as error:
            log.info("%s refused: %s", type(event).__name__, error)
            return False

    def in_order(self, call: str, work: Coroutine[Any, Any, Any]) -> None:
        """A call's submissions to the core, one after the other in the order call control asked for them
        (those of different calls go side by side, and the store commits them together)."""
        if self._group is None:
            work.close()
            return
        waiting = self._waiting.setdefault(call, collections.deque())
        waiting.append(work)
        if call not in self._submitters:
            task = self._group.create_task(self._submit_in_turn(call, waiting))
            self._submitters[call] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _submit_in_turn(self, call: str, waiting: collections.deque[Coroutine[Any, Any, Any]]) -> None:
        try:
            while waiting:
                await self._guarded(waiting.popleft())
        finally:
            for work in waiting:  # cancelled as the switchboard stops: never started
                work.close()
            del self._submitters[call], self._waiting[call]

    async def settled(self, call: str) -> None:
        """Wait until every submission the call asked for so far was made and its answer fed back."""
        submitter = self._submitters.get(call)
        if submitter is not None:
            await asyncio.wait([submitter])

    # what the attendant (the IVR driver) asks of the switchboard (media.attendant.Services)

    def estimate(self, task: str) -> tuple[int, float | None] | None:
        stored = self.service.store.task(task)
        estimate = self.service.estimate(stored) if stored is not None else None
        return (estimate.position, estimate.seconds) if estimate is not None else None

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
            call, leg = self.rings[call_id]
            self._from_leg(call, leg, message, source)
            return True
        return False

    def reply(self, request: Request, source: Source, status: int, phrase: str, extra: Headers = (),
              body: bytes = b"", tag: str | None = None) -> None:  # fmt: skip
        response = answer(request, status, phrase, extra, body, tag=tag)
        if response is not None:
            source.send(response)
            if request.method != "INVITE":
                self._answered.keep(transaction_of(request), request.method, response)

    def _repeated(self, request: Request, source: Source) -> bool:
        """A retransmission of a request already answered: answered again the same way (RFC 3261 §17.2.2)."""
        earlier = self._answered.get(transaction_of(request), request.method)
        if earlier is not None:
            source.send(earlier)
        return earlier is not None

    def _ask(self, event_of: Callable[[str], ev.CallEvent], request: Request, source: Source, tag: str | None) -> None:
        """Feed call control a request of a call's dialog, held under an id until call control answers it (every
        rule for such a request answers it as it is handled; one it could not take is answered 500)."""
        held = f"r{next(self._request_ids)}"
        self._held[held] = self._replier(request, source, tag), request
        try:
            self.feed_quietly(event_of(held))
        finally:
            if self._held.pop(held, None) is not None:
                self.reply(request, source, 500, reason(500))

    def held(self, request_id: str) -> tuple[midcall.Reply, Request] | None:
        """The request call control answers now, and how to answer it (once)."""
        return self._held.pop(request_id, None)

    def _replier(self, request: Request, source: Source, tag: str | None) -> midcall.Reply:
        return lambda status, phrase, extra, body: self.reply(request, source, status, phrase, extra, body, tag)

    # ------------------------------------------------------------------------------ a new call

    def arrive(self, request: Request, source: Source, destination: Destination) -> None:
        """An INVITE to one of the deployment's numbers, from the trunk: to a queue, or into an IVR flow."""
        try:
            sdp.read(request.body)
            timer = session_timer.negotiate(request)
        except session_timer.IntervalTooSmall:
            self.reply(request, source, 422, reason(422), (("min-se", str(session_timer.MIN_SE)),))
            return
        except MediaError as error:
            self.reply(request, source, error.status, reason(error.status, error.message))
            return
        call_id = request.first("call-id") or ""
        invite = InviteServer(
            request, source.send, reliable=source.transport != "udp", spawn=self.spawn,
            no_ack=lambda: self.feed_quietly(ev.NoAck(call_id)),
        )  # fmt: skip
        invite.respond(answer(request, 100, reason(100)))
        dialog = self._dialog(request, source)
        caller = user_of(request.first("from") or "")
        task = task_id_for(call_id)
        if isinstance(destination, FlowEntry):
            arrival = ev.InviteArrived(call_id, task, flow=destination.flow, attributes={
                **destination.attributes, "caller": caller})  # fmt: skip
        else:
            dialled = user_of(request.first("to") or "") or request.uri
            arrival = ev.InviteArrived(call_id, task, destination, attributes={"caller": caller, "dialled": dialled})
        actions = self.control.handle(arrival, self.clock.monotonic())
        call = Call(self.control.calls[call_id], dialog, invite, timer=timer, refreshed_at=self.clock.monotonic())
        self.calls[call_id] = call
        self.by_task[task] = call
        for action in actions:
            self.carry_out(call, action)

    def _dialog(self, request: Request, source: Source) -> Dialog:
        host, port = self.transports.address
        contact_uri = f"sip:{user_of(request.first('to') or '') or 'acd'}@{host}:{port}"
        if source.transport == "tcp":
            contact_uri += ";transport=tcp"
        return Dialog(
            call_id=request.first("call-id") or "",
            local=f"{request.first('to')};tag={new_tag()}",
            remote=request.first("from") or "",
            target=uri_of(request.first("contact") or request.first("from") or ""),
            contact=contact_uri,
            cseq=1000,
            transport=source.transport,
            address=source.address,
            via_host=f"{host}:{port}",
        )

    def listen(self, call: Call) -> None:
        """The caller alone on its port (no bridge): its keys to call control, its voice to a message the
        IVR flow may be recording."""
        side, call_id = call.media, call.dialog.call_id
        events, audio = side.event_types, side.stream.payload_type
        decode = to_pcm8k(audio)
        watch = DtmfWatch(lambda digit: self.feed_quietly(ev.Key(call_id, "caller", digit)))

        def heard(packet: RtpPacket) -> None:
            if packet.payload_type in events:
                watch.feed(packet)
            elif packet.payload_type == audio and self.attendant.recording(call):
                self.attendant.heard(call, decode(packet.payload))

        side.port.listener = heard

    # ------------------------------------------------------------------------ from the caller

    def _from_caller(self, call: Call, request: Request, source: Source) -> None:
        method, call_id = request.method, call.dialog.call_id
        if method == "ACK":
            call.invite.ack()
            return
        if call.invite.is_repeat(request):
            call.invite.repeated()  # RFC 3261 §17.2.1: a repeat gets the last response again
            return
        if self._repeated(request, source):
            return
        tag = tag_of(call.dialog.local)
        if method == "CANCEL":
            self.reply(request, source, 200, reason(200))  # RFC 3261 §9.2; the INVITE's 487 is call control's
            self.feed_quietly(ev.CallerCancelled(call_id))
        elif call.state is CallState.ENDED:
            self.reply(request, source, 481, reason(481))
        elif method == "BYE":
            self.reply(request, source, 200, reason(200))
            call.invite.end()
            self.feed_quietly(ev.CallerHungUp(call_id))
        elif method in ("INVITE", "UPDATE"):  # a refresh or a new offer: call control says how it is answered
            self._ask(lambda held: ev.CallerReoffered(call_id, held), request, source, tag)
        elif method == "INFO":
            key = midcall.info_key(request, self._replier(request, source, None))
            if key is not None:
                self.feed_quietly(ev.Key(call_id, "caller", key))
        else:
            self.reply(request, source, 405, reason(405))

    # ----------------------------------------------------------------------------- from a leg

    def _from_leg(self, call: Call, leg_id: str, request: Request, source: Source) -> None:
        method, call_id, leg = request.method, call.dialog.call_id, call.legs[leg_id]
        if method == "ACK" or self._repeated(request, source):
            return
        if method == "BYE":
            self.reply(request, source, 200, reason(200))
            self.outbound.hung_up(leg)
            self.feed_quietly(ev.LegHungUp(call_id, leg_id))
        elif method == "INVITE":  # hold or resume (RFC 3264 §8.4)
            reply = self._replier(request, source, tag_of(leg.dialog.local))
            stream = midcall.reoffer(request, self.settings.host, leg.side, leg.dialog, reply, origin=leg.origin)
            if stream is not None:
                leg.side = Side(leg.side.port, stream)
                if not stream.on_hold and stream.address[0] not in ("0.0.0.0", "::"):
                    leg.side.port.expect(stream.address)
                self.feed_quietly(ev.LegHeld(call_id, leg_id, stream.on_hold))
        elif method == "INFO":
            key = midcall.info_key(request, self._replier(request, source, None))
            if key is not None:
                self.feed_quietly(ev.Key(call_id, "agent", key))
        elif method == "REFER":
            target = user_of(request.first("refer-to") or "")
            if not target:
                self.reply(request, source, 400, reason(400, "no Refer-To user"))
                return
            self._ask(lambda held: ev.ReferAsked(call_id, leg_id, held, target), request, source, None)
        else:
            self.reply(request, source, 405, reason(405))

    # ----------------------------------------------------------------------- the core's decisions

    async def _follow_decisions(self) -> None:
        subscription = self.service.subscribe(
            lambda entry: _watched(entry.decision) and entry.decision.task in self.by_task
        )
        try:
            while (entry := await subscription.queue.get()) is not None:
                decision = entry.decision
                call = self.by_task.get(decision.task or "")
                if call is None or decision.task is None:
                    continue
                call_id, task = call.dialog.call_id, decision.task
                if decision.kind is Kind.OFFERED and decision.agent is not None:
                    if call.state is not CallState.WAITING:  # kept until it waits, or refused at once
                        log.info("call %s: offered to %s while %s", task, decision.agent, call.state.value)
                    self.feed_quietly(ev.Offered(call_id, task, decision.agent))
                elif decision.kind in (Kind.OFFER_TIMED_OUT, Kind.OFFER_REVOKED):
                    self.feed_quietly(ev.OfferEnded(call_id, task, decision.agent or ""))
                elif decision.kind is Kind.TASK_QUEUED:
                    self.feed_quietly(ev.OutsideTimedOut(call_id, task, decision.queue or call.queue))
                else:
                    self.feed_quietly(ev.TaskEnded(call_id, task, decision.reason or decision.kind.value))
        finally:
            self.service.unsubscribe(subscription)

    # --------------------------------------------------------------------------------- the end

    def forget_later(self, call: Call) -> None:
        """Kept a little while (a repeated BYE or a late ACK still finds it), then forgotten."""
        self.later(GIVE_UP, lambda: self._forget(call))

    def _forget(self, call: Call) -> None:
        call_id = call.dialog.call_id
        if self.calls.get(call_id) is call:
            del self.calls[call_id]
        for task in [task for task, held in self.by_task.items() if held is call]:
            del self.by_task[task]
        for leg in call.legs.values():
            self.rings.pop(leg.dialog.call_id, None)
        self.control.forget(call_id)

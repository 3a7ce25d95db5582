"""The IVR on SIP calls: runs a flow's interpreter (`ivr.interpreter.Session`) on a call from the trunk.

A thin driver: what happens on the call (a key, a prompt said to its end, a timer, the queue's answers)
is fed to the call's session, and what the session returns is done here — prompts said on the caller's
RTP, timers, the task queued with the flow's attributes, announcements, a call-back, an overflow, a
transfer through the trunk, a message recorded and left as a voicemail task, the hang-up.

Every answer goes back to the session through the event loop (`_post`), never from inside the action
that asked for it, so that the session is never fed while it is still handling an event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from acd.events import CallbackRequested, TaskArrived, TaskCancelled, TaskNoted
from acd.model import Channel, Outcome
from ivr import actions as act
from ivr import events as ev
from ivr.flow import Flow, PromptFile
from ivr.interpreter import Facts, Session
from ivr.synthesis import PromptCache, SpeechError
from media.calls import Call, CallState, FlowEntry, task_id_for
from media.outbound import Leg
from media.rtp.bridge import DtmfWatch
from media.rtp.packets import RtpPacket
from media.rtp.prompts import PromptPlayer
from media.rtp.recording import Message
from media.rtp.transcode import to_pcm8k
from media.sip.dialog import user_of

if TYPE_CHECKING:
    from media.switchboard import Switchboard

log = logging.getLogger("media.ivr")


@dataclass(eq=False, slots=True)
class FlowRun:
    """A flow running on one call: its session and what the driver holds for it."""

    flow: str
    session: Session
    dtmf: DtmfWatch
    timers: dict[int, asyncio.TimerHandle] = field(default_factory=dict)
    watch: asyncio.TimerHandle | None = None
    playing: int | None = None  # the token of the prompt being said (or being synthesised)
    message: Message | None = None
    messages: int = 0  # messages recorded on the call: each its own file and task


class Attendant:
    """Runs `flows` on the calls that enter them; prompts from `prompts` (recorded files under `folder`)."""

    def __init__(
        self, board: Switchboard, flows: Mapping[str, Flow], prompts: PromptCache, folder: Path, facts: Facts
    ) -> None:
        self.board = board
        self.flows = flows
        self.prompts = prompts
        self.folder = folder
        self.facts = facts
        self.player = PromptPlayer(board.ticker)
        self._said: dict[tuple[str, str, str], bytes] = {}  # (flow, prompt, language) -> 8 kHz PCM

    def prepare(self) -> None:
        """Every prompt of every flow in each of its languages, spoken (or read) now: a missing espeak-ng or
        an unreadable recording stops the ACD at start rather than leave a caller in silence. Raises
        SpeechError."""
        for flow_id, flow in self.flows.items():
            for name, prompt in flow.prompts.items():
                for language in flow.languages:
                    said = prompt[language]
                    if isinstance(said, PromptFile):
                        pcm = self.prompts.recorded(self.folder / said.file)
                    else:
                        pcm = self.prompts.speech(said, language)
                    self._said[(flow_id, name, language)] = pcm

    # ------------------------------------------------------------------------------ the call

    def start(self, call: Call, entry: FlowEntry) -> None:
        caller = user_of(call.dialog.remote) or ""
        dialled = user_of(call.dialog.local) or ""
        attributes = {**entry.attributes, "caller": caller, "dialled": dialled}
        session = Session(self.flows[entry.flow], self.facts, {k: v for k, v in attributes.items() if v})
        run = FlowRun(entry.flow, session, DtmfWatch(lambda digit: self.board.midcall.digit(call, "caller", digit)))
        call.flow = run
        self._listen(call, run)
        self._feed(call, ev.CallStarted())

    def digit(self, call: Call, digit: str) -> None:
        if digit in ev.KEYS:
            self._post(call, ev.Digit(digit))

    def connected(self, call: Call) -> None:
        """An agent answered (or the transferred-to number): the flow's part is over."""
        run = self._run(call)
        if run is not None:
            self.player.stop(call.media.port)
            self._feed(call, ev.Connected())
            self.forget(call)

    def caller_left(self, call: Call) -> None:
        """The caller hung up: its message, if it was leaving one, is kept."""
        if self._run(call) is not None:
            self._feed(call, ev.CallerHungUp())

    def forget(self, call: Call) -> None:
        """The call ended or left the flow: its timers stop, its prompt too."""
        run = self._run(call)
        if run is None:
            return
        run.playing = None  # a prompt still being synthesised is not said
        for handle in run.timers.values():
            handle.cancel()
        run.timers.clear()
        if run.watch is not None:
            run.watch.cancel()
        if call.side is not None:
            self.player.stop(call.side.port)
        if run.message is not None:
            run.message.close()
            run.message = None

    @staticmethod
    def _run(call: Call) -> FlowRun | None:
        run = call.flow
        return run if isinstance(run, FlowRun) else None

    def _listen(self, call: Call, run: FlowRun) -> None:
        """The caller's keys (RFC 4733) to the session, its voice to the message being recorded, if any."""
        side = call.media
        events, audio = side.event_types, side.stream.payload_type
        decode = to_pcm8k(audio)

        def listen(packet: RtpPacket) -> None:
            if packet.payload_type in events:
                run.dtmf.feed(packet)
            elif packet.payload_type == audio and run.message is not None:
                run.message.add(decode(packet.payload))

        side.port.listener = listen

    def _post(self, call: Call, event: ev.Event) -> None:
        asyncio.get_running_loop().call_soon(self._feed, call, event)

    def _feed(self, call: Call, event: ev.Event) -> None:
        run = self._run(call)
        if run is None or run.session.finished:
            return
        for action in run.session.handle(event, time.time()):
            self._do(call, run, action)

    # ---------------------------------------------------------------------------- the actions

    def _do(self, call: Call, run: FlowRun, action: act.Action) -> None:
        board = self.board
        if not isinstance(action, act.Play | act.StopPlaying | act.StartTimer | act.WatchQueue):
            log.info("call %s at %s: %s", call.task, run.session.node, action)
        match action:
            case act.Play():
                run.playing = action.token
                board.spawn(self._play(call, run, action))
            case act.StopPlaying():
                run.playing = None
                self.player.stop(call.media.port)
                self._music_if_waiting(call)
            case act.StartTimer(token, seconds):
                loop = asyncio.get_running_loop()
                run.timers[token] = loop.call_later(seconds, self._timer_fired, call, run, token)
            case act.Enqueue(queue, attributes):
                board.spawn(self._enqueue(call, queue, attributes))
            case act.WatchQueue(seconds):
                self._watch_queue(call, run, seconds)
            case act.Overflow(to):
                board.spawn(self._overflow(call, to))
            case act.RequestCallback(number):
                board.spawn(self._callback(call, number))
            case act.Transfer(to):
                board.spawn(self._transfer(call, to))
            case act.StartRecording():
                self._start_recording(call, run)
            case act.StopRecording():
                self._stop_recording(call, run)
            case act.LeaveVoicemail(queue, attributes):
                board.spawn(self._voicemail(call, run, queue, attributes))
            case act.HangUp(reason):
                self.forget(call)
                if call.state is not CallState.ENDED:
                    board.end(call, f"ivr_{reason}")

    def _timer_fired(self, call: Call, run: FlowRun, token: int) -> None:
        run.timers.pop(token, None)
        self._feed(call, ev.TimerFired(token))

    async def _play(self, call: Call, run: FlowRun, action: act.Play) -> None:
        pcm = b""
        for clip in action.clips:
            try:
                if isinstance(clip, act.Prompt):
                    pcm += self._said[(run.flow, clip.name, clip.language)]
                else:  # made now (a position, a wait): synthesised once per text, then cached
                    pcm += await asyncio.to_thread(self.prompts.speech, clip.text, clip.language)
            except SpeechError as error:
                log.warning("call %s: %s left unsaid: %s", call.task, clip, error)
        if run.playing != action.token or call.state not in (CallState.IVR, CallState.WAITING):
            return  # replaced or stopped while it was being made, or the call is no more the flow's
        if not pcm:
            self._post(call, ev.PromptFinished(action.token))
            return
        self.board.music.stop(call.media.port)
        self.player.play(
            call.media.port, call.media.stream.payload_type, pcm, lambda: self._said_all(call, run, action)
        )

    def _said_all(self, call: Call, run: FlowRun, action: act.Play) -> None:
        if run.playing == action.token:
            run.playing = None
            self._music_if_waiting(call)
        self._feed(call, ev.PromptFinished(action.token))

    def _music_if_waiting(self, call: Call) -> None:
        if call.state is CallState.WAITING and not self.player.playing(call.media.port):
            self.board.music.play(call.media.port, call.media.stream.payload_type)

    # ---------------------------------------------------------------------------------- queue

    async def _enqueue(self, call: Call, queue: str, attributes: Mapping[str, str]) -> None:
        call.queue = queue
        refused = await self.board.queue_call(call, dict(attributes))
        if refused is not None:
            self._post(call, ev.QueueRefused(refused))
            return
        if not call.live:  # the caller left while the task was being queued
            await self.board.submit(TaskCancelled(call.task))
            return
        call.state = CallState.WAITING  # (an offer made at once rings the phone: it waits for this state)
        self._music_if_waiting(call)
        self._report_queue(call)

    def _report_queue(self, call: Call) -> None:
        task = self.board.service.store.task(call.task)
        estimate = self.board.service.estimate(task) if task is not None else None
        if estimate is not None:
            self._post(call, ev.QueueUpdate(estimate.position, estimate.seconds))
        else:  # an agent's phone rings for it: the announcement waits for the next round
            run = self._run(call)
            if run is not None and call.state is CallState.WAITING:
                self._watch_queue(call, run, 5.0)

    def _watch_queue(self, call: Call, run: FlowRun, seconds: float) -> None:
        if run.watch is not None:
            run.watch.cancel()

        def due() -> None:
            run.watch = None
            if call.state is CallState.WAITING:
                self._report_queue(call)

        run.watch = asyncio.get_running_loop().call_later(seconds, due)

    async def _overflow(self, call: Call, to: str) -> None:
        """The flow's maximum wait: to another queue keeping the caller's place, or out to a number."""
        if call.state is not CallState.WAITING:
            return
        board = self.board
        queue = board.transfers.queue_for(to)
        if queue is not None:
            await board.transfers.requeue(call, queue, "max_wait", ended=Outcome.CANCELLED)
            if call.state is CallState.WAITING:
                self._report_queue(call)
            return
        previous = call.task
        call.state = CallState.TRANSFERRING  # the task's end is not the call's
        await board.submit(TaskNoted(previous, "max_wait", {"to": to}))
        await board.submit(TaskCancelled(previous, Outcome.CANCELLED))
        await board.transfers.dial_out(call, to)

    async def _callback(self, call: Call, number: str) -> None:
        if call.state is not CallState.WAITING:
            self._post(call, ev.CallbackFailed("not_waiting"))
            return
        call.state = CallState.IVR  # the task ends with the call-back: that end is not the call's
        callback = task_id_for(f"{call.dialog.call_id}/callback")
        if await self.board.submit(CallbackRequested(call.task, callback, number)):
            self.board.music.stop(call.media.port)
            self._post(call, ev.CallbackBooked())
        elif call.live:
            call.state = CallState.WAITING
            self._music_if_waiting(call)
            self._post(call, ev.CallbackFailed("refused"))
        else:  # refused, and the caller hung up meanwhile: its task must not wait for nobody
            await self.board.submit(TaskCancelled(call.task))

    # ---------------------------------------------------------------- transfer, voicemail

    async def _transfer(self, call: Call, to: str) -> None:
        await self.board.transfers.dial_out(call, to, on_refusal=self._transfer_refused)

    def _transfer_refused(self, call: Call, leg: Leg, status: int) -> None:
        if call.state is CallState.TRANSFERRING:
            call.state = CallState.IVR
            call.consult = None
            self.board.music.stop(call.media.port)
            self._post(call, ev.TransferFailed(status))

    def _start_recording(self, call: Call, run: FlowRun) -> None:
        self.player.stop(call.media.port)
        self.board.music.stop(call.media.port)
        run.messages += 1
        run.message = Message(self._message_path(call, run))

    def _stop_recording(self, call: Call, run: FlowRun) -> None:
        message, run.message = run.message, None
        seconds = 0.0
        if message is not None:
            message.close()
            seconds = message.seconds
        self._post(call, ev.Recorded(seconds))

    async def _voicemail(self, call: Call, run: FlowRun, queue: str, attributes: Mapping[str, str]) -> None:
        path = self._message_path(call, run)
        task = task_id_for(f"{call.dialog.call_id}/voicemail/{run.messages}")
        data = {**attributes, "recording": str(path.resolve())}
        if not await self.board.submit(TaskArrived(task, Channel.VOICEMAIL, queue, attributes=data)):
            log.warning("call %s: the message in %s could not be queued", call.task, path)

    def _message_path(self, call: Call, run: FlowRun) -> Path:
        return self.board.settings.recordings / f"{call.task}-message-{run.messages}.wav"

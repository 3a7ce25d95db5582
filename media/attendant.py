"""The IVR on SIP calls: runs a flow's interpreter (`ivr.interpreter.Session`) on a call from the trunk.

A thin driver: what call control tells the flow (`TellFlow`: a key, the queue's answers, an agent's
answer, the caller gone) and what happens on the call (a prompt said to its end, a timer) is fed to the
call's session; what the session returns is done here — prompts said on the caller's RTP, timers, a
message recorded and left as a voicemail task — or handed to call control as an event (queue the call,
overflow, call-back, transfer out, hang up): where the call goes is call control's to decide.

Every answer goes back to the session through the event loop (`_post`), never from inside the action
that asked for it, so that the session is never fed while it is still handling an event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from acd.clock import SYSTEM_CLOCK, Clock
from acd.events import Event, TaskArrived
from acd.model import Channel
from ivr import actions as act
from ivr import events as ev
from ivr.flow import Flow, PromptFile
from ivr.interpreter import Facts, Session
from ivr.synthesis import PromptCache, SpeechError
from media.calls import Call, CallState
from media.control import events as cev
from media.control import task_id_for
from media.control.actions import FlowNote
from media.rtp.music import MusicPlayer
from media.rtp.prompts import PromptPlayer
from media.rtp.recording import Message
from media.rtp.ticker import Ticker
from media.sip.dialog import user_of

log = logging.getLogger("media.ivr")
#: The states in which the flow's prompts are said: the caller is not talking to anyone.
_SPEAKING = frozenset({CallState.IVR, CallState.QUEUEING, CallState.WAITING, CallState.BOOKING})


class Timer(Protocol):
    def cancel(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Services:
    """What the attendant asks of the switchboard that runs it, as the few functions it lends."""

    feed: Callable[[cev.CallEvent], None]  # tell call control
    submit: Callable[[Event], Awaitable[bool]]  # tell the queue core (a voicemail)
    spawn: Callable[[Coroutine[Any, Any, Any]], None]  # run (and own) work
    later: Callable[[float, Callable[[], None]], Timer]  # an owned timer
    # The position and expected wait of a task waiting in queue (None when it is offered).
    estimate: Callable[[str], tuple[int, float | None] | None]


@dataclass(eq=False, slots=True)
class FlowRun:
    """A flow running on one call: its session and what the driver holds for it."""

    flow: str
    session: Session
    timers: dict[int, Timer] = field(default_factory=dict)
    watch: Timer | None = None
    playing: int | None = None  # the token of the prompt being said (or being synthesised)
    message: Message | None = None
    messages: int = 0  # messages recorded on the call: each its own file and task


class Attendant:
    """Runs `flows` on the calls that enter them; prompts from `prompts` (recorded files under `folder`),
    messages left in `recordings`."""

    def __init__(self, services: Services, flows: Mapping[str, Flow], prompts: PromptCache, folder: Path,
                 facts: Facts, ticker: Ticker, music: MusicPlayer, recordings: Path,
                 clock: Clock = SYSTEM_CLOCK) -> None:  # fmt: skip
        self.services = services
        self.flows = flows
        self.prompts = prompts
        self.folder = folder
        self.facts = facts
        self.music = music
        self.recordings = recordings
        self.clock = clock
        self.player = PromptPlayer(ticker)
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

    def start(self, call: Call, flow: str, attributes: Mapping[str, str]) -> None:
        dialled = user_of(call.dialog.local) or ""
        given = {**attributes, "dialled": dialled}
        call.flow = FlowRun(flow, Session(self.flows[flow], self.facts, {k: v for k, v in given.items() if v}))
        self._feed(call, ev.CallStarted())

    def tell(self, call: Call, note: FlowNote, detail: str) -> None:
        """What call control tells the flow."""
        match note:
            case FlowNote.KEY if detail in ev.KEYS:
                self._post(call, ev.Digit(detail))
            case FlowNote.QUEUED:
                self._report_queue(call)
            case FlowNote.QUEUE_REFUSED:
                self._post(call, ev.QueueRefused(detail))
            case FlowNote.CALLBACK_BOOKED:
                self._post(call, ev.CallbackBooked())
            case FlowNote.CALLBACK_FAILED:
                self._post(call, ev.CallbackFailed(detail))
            case FlowNote.TRANSFER_FAILED:
                self._post(call, ev.TransferFailed(int(detail)))
            case FlowNote.CONNECTED:
                self._feed(call, ev.Connected())
            case FlowNote.CALLER_HUNG_UP:  # its message, if it was leaving one, is kept
                self._feed(call, ev.CallerHungUp())

    def stop(self, call: Call) -> None:
        """The call ended or left the flow: its timers stop, its prompt too."""
        run = self._run(call)
        if run is None:
            return
        call.flow = None
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

    def speaking(self, call: Call) -> bool:
        """A prompt is being said to the caller (music waits for its end)."""
        return call.side is not None and self.player.playing(call.side.port)

    def recording(self, call: Call) -> bool:
        """The flow records a message from the caller."""
        run = self._run(call)
        return run is not None and run.message is not None

    def heard(self, call: Call, pcm: bytes) -> None:
        """The caller's voice (8 kHz PCM): to the message being recorded, if any."""
        run = self._run(call)
        if run is not None and run.message is not None:
            run.message.add(pcm)

    @staticmethod
    def _run(call: Call) -> FlowRun | None:
        run = call.flow
        return run if isinstance(run, FlowRun) else None

    def _post(self, call: Call, event: ev.Event) -> None:
        self.services.later(0, lambda: self._feed(call, event))  # owned: cancelled if the switchboard stops first

    def _feed(self, call: Call, event: ev.Event) -> None:
        run = self._run(call)
        if run is None or run.session.finished:
            return
        for action in run.session.handle(event, self.clock.time()):
            self._do(call, run, action)

    # ---------------------------------------------------------------------------- the actions

    def _do(self, call: Call, run: FlowRun, action: act.Action) -> None:
        services, call_id = self.services, call.dialog.call_id
        if not isinstance(action, act.Play | act.StopPlaying | act.StartTimer | act.WatchQueue):
            log.info("call %s at %s: %s", call.task, run.session.node, action)
        match action:
            case act.Play():
                run.playing = action.token
                services.spawn(self._play(call, run, action))
            case act.StopPlaying():
                run.playing = None
                self.player.stop(call.media.port)
                self._music_if_waiting(call)
            case act.StartTimer(token, seconds):
                run.timers[token] = services.later(seconds, lambda: self._timer_fired(call, run, token))
            case act.WatchQueue(seconds):
                self._watch_queue(call, run, seconds)
            case act.StartRecording():
                self._start_recording(call, run)
            case act.StopRecording():
                self._stop_recording(call, run)
            case act.LeaveVoicemail(queue, attributes):
                services.spawn(self._voicemail(call, run, queue, attributes))
            case act.Enqueue(queue, attributes):
                services.feed(cev.FlowQueue(call_id, queue, attributes))
            case act.Overflow(to):
                services.feed(cev.FlowOverflow(call_id, to))
            case act.RequestCallback(number):
                services.feed(cev.FlowCallback(call_id, number, task_id_for(f"{call_id}/callback")))
            case act.Transfer(to):
                services.feed(cev.FlowTransfer(call_id, to))
            case act.HangUp(reason):
                services.feed(cev.FlowHangUp(call_id, reason))

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
        if run.playing != action.token or call.state not in _SPEAKING or call.side is None:
            return  # replaced or stopped while it was being made, or the call is no more the flow's
        if not pcm:
            self._post(call, ev.PromptFinished(action.token))
            return
        self.music.stop(call.media.port)
        self.player.play(
            call.media.port, call.media.stream.payload_type, pcm, lambda: self._said_all(call, run, action)
        )

    def _said_all(self, call: Call, run: FlowRun, action: act.Play) -> None:
        if run.playing == action.token:
            run.playing = None
            self._music_if_waiting(call)
        self._feed(call, ev.PromptFinished(action.token))

    def _music_if_waiting(self, call: Call) -> None:
        """Call control wants the caller to hear music: it comes back once the prompt is said."""
        if call.record.music and call.side is not None and not self.player.playing(call.side.port):
            self.music.play(call.side.port, call.side.stream.payload_type)

    # ---------------------------------------------------------------------------------- queue

    def _report_queue(self, call: Call) -> None:
        estimate = self.services.estimate(call.task)
        if estimate is not None:
            self._post(call, ev.QueueUpdate(*estimate))
        else:  # an agent's phone rings for it: the announcement waits for the next round
            run = self._run(call)
            if run is not None and call.state is CallState.WAITING:
                self._watch_queue(call, run, 5.0)

    def _watch_queue(self, call: Call, run: FlowRun, seconds: float) -> None:
        if run.watch is not None:
            run.watch.cancel()

        def due() -> None:
            run.watch = None
            if call.state is CallState.WAITING and call.flow is run:
                self._report_queue(call)

        run.watch = self.services.later(seconds, due)

    # ---------------------------------------------------------------------------- voicemail

    def _start_recording(self, call: Call, run: FlowRun) -> None:
        self.player.stop(call.media.port)
        self.music.stop(call.media.port)
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
        if not await self.services.submit(TaskArrived(task, Channel.VOICEMAIL, queue, attributes=data)):
            log.warning("call %s: the message in %s could not be queued", call.task, path)

    def _message_path(self, call: Call, run: FlowRun) -> Path:
        return self.recordings / f"{call.task}-message-{run.messages}.wav"

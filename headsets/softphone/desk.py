"""The agent's desk, sans I/O: what each headset button, typed command and call event does.

`Desk.handle(heard, now)` returns the actions for the drivers (the SIP stack, the ACD's API, the headset's
LEDs, the MQTT publisher, the screen). It reads no clock and opens nothing, so every path is tested in
microseconds. After every event it also says which LEDs should be lit and, when it changed, the headset
state to publish: the drivers need not know the rules.

The buttons, as agents expect from desk phones:
- hook switch: off-hook while ringing answers, on-hook in a call hangs up (on-hook while ringing, which
  only a switch headset can say, declines); off-hook with nothing ringing does nothing;
- mute: mutes the microphone in the call (and lights the LED); nothing outside a call;
- flash: holds the call, or resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from acd.headset_topics import HeadsetState
from headsets.hid.protocol import Button, HookChanged, Leds, MuteChanged, Pressed
from headsets.softphone.events import (
    DIGITS,
    TARGET,
    Action,
    AgentSeen,
    Answer,
    ChangeState,
    Connected,
    Ended,
    EndWrapUp,
    Failed,
    HangUp,
    HeadsetPresence,
    Heard,
    Held,
    Incoming,
    OfferSeen,
    Publish,
    Quit,
    Registered,
    Reject,
    Say,
    SendDigits,
    SetHold,
    SetMute,
    ShowLeds,
    Transfer,
    Typed,
)

ButtonEvent = HookChanged | MuteChanged | Pressed
DEFAULT_PAUSE = "pause"

HELP = (
    "r ready · p [reason] not ready · a answer · x refuse · h hang up · o hold/resume · m mute/unmute · "
    "d DIGITS keys · t TARGET transfer (queue or number) · w end wrap-up · q quit"
)


class CallState(StrEnum):
    RINGING = "ringing"
    TALKING = "talking"
    HELD = "held"


@dataclass(frozen=True, slots=True)
class Call:
    id: int
    caller: str
    queue: str
    state: CallState
    since: float  # when it rang, then when it was answered (the call timer)
    muted: bool = False
    hold_asked: bool = False  # a hold or resume is on its way: a second press waits for it


@dataclass(slots=True)
class Desk:
    """The agent's softphone state: its registration, the agent's state in the ACD, the call, the offer."""

    agent: str
    device: str | None = None  # the headset's name, as the agent chose it
    connected: bool = True
    registered: bool | None = None
    registration_problem: str = ""
    agent_state: str = "offline"
    agent_reason: str | None = None
    tasks: tuple[str, ...] = ()
    wrap_ups: tuple[str, ...] = ()
    call: Call | None = None
    offer: OfferSeen | None = None
    messages: list[str] = field(default_factory=list)
    _published: HeadsetState | None = None

    def handle(self, heard: Heard | ButtonEvent, now: float) -> list[Action]:
        actions = self._decide(heard, now)
        actions.append(ShowLeds(self.leds()))
        state = self.headset_state()
        if state != self._published:
            self._published = state
            actions.append(Publish(state))
        for action in actions:
            if isinstance(action, Say):
                self.messages.append(action.text)
        return actions

    def leds(self) -> Leds:
        call = self.call
        if call is None:
            return Leds()
        return Leds(
            off_hook=call.state is not CallState.RINGING,
            ring=call.state is CallState.RINGING,
            mute=call.muted,
            hold=call.state is CallState.HELD,
        )

    def headset_state(self) -> HeadsetState:
        call = self.call
        in_call = call is not None and call.state is not CallState.RINGING
        return HeadsetState(
            self.agent, self.connected, hook="off" if in_call else "on", muted=bool(call and call.muted),
            ringing=bool(call and call.state is CallState.RINGING), held=bool(call and call.state is CallState.HELD),
            device=self.device,
        )  # fmt: skip

    def current_task(self) -> str | None:
        """The ACD task of the call in hand (what a transfer moves): the one offered with it, else the
        agent's only task (an agent with a chat beside the call has two: the call's is the offered one)."""
        if self.call is None:
            return None
        if self.offer is not None and (self.offer.task in self.tasks or not self.tasks):
            return self.offer.task
        return self.tasks[0] if len(self.tasks) == 1 else None

    # --- the rules -------------------------------------------------------------------------------------

    def _decide(self, heard: Heard | ButtonEvent, now: float) -> list[Action]:
        match heard:
            case Registered(ok, detail):
                self.registered, self.registration_problem = ok, "" if ok else detail
                return [] if ok else [Say(f"the phone is not registered: {detail}")]
            case Incoming():
                return self._incoming(heard, now)
            case Connected(call_id):
                if self.call is not None and self.call.id == call_id and self.call.state is CallState.RINGING:
                    self.call = replace(self.call, state=CallState.TALKING, since=now)
                return []
            case Held(call_id, held):
                if self.call is not None and self.call.id == call_id and self.call.state is not CallState.RINGING:
                    state = CallState.HELD if held else CallState.TALKING
                    self.call = replace(self.call, state=state, hold_asked=False)
                return []
            case Ended(call_id, reason):
                return self._ended(call_id, reason)
            case AgentSeen(state, reason, tasks, wrap_ups):
                self.agent_state, self.agent_reason, self.tasks, self.wrap_ups = state, reason, tasks, wrap_ups
                return []
            case OfferSeen():
                self.offer = heard
                return []
            case HeadsetPresence(connected, device):
                return self._presence(connected, device)
            case Failed(action, message):
                if action == "hold" and self.call is not None:
                    self.call = replace(self.call, hold_asked=False)
                return [Say(f"{action} failed: {message}")]
            case Typed(line):
                return self._typed(line)
            case HookChanged(off_hook):
                return self._hook(off_hook)
            case MuteChanged(muted):
                return self._mute(muted)
            case Pressed(Button.FLASH):
                return self._hold()
            case Pressed():
                return []  # redial, line busy: nothing to redial or to busy out in an ACD
        raise TypeError(f"the desk does not know {heard!r}")  # a programmer's mistake, not input

    def _incoming(self, heard: Incoming, now: float) -> list[Action]:
        if self.call is not None:  # one call at a time: the ACD offers another only if the first ended
            return [Reject(heard.call, 486)]
        self.call = Call(heard.call, heard.caller, heard.queue, CallState.RINGING, now)
        if self.offer is not None and self.offer.queue != heard.queue:
            self.offer = None  # an older offer's details: not this call's
        return []

    def _ended(self, call_id: int, reason: str) -> list[Action]:
        if self.call is None or self.call.id != call_id:
            return []
        muted, self.call, self.offer = self.call.muted, None, None
        said: list[Action] = [Say(f"call ended{': ' + reason if reason else ''}")]
        return [SetMute(False), *said] if muted else said

    def _presence(self, connected: bool, device: str | None) -> list[Action]:
        was, self.connected = self.connected, connected
        if connected and device:
            self.device = device  # its full name, as the sound server gives it
        if connected == was:
            return []
        if connected:
            return [Say(f"headset back: {device or self.device}")]
        where = f", sound on {device}" if device else ""
        return [Say(f"headset unplugged{where}: the ACD offers no call until it is back")]

    def _hook(self, off_hook: bool) -> list[Action]:
        call = self.call
        if call is None:
            return []
        if call.state is CallState.RINGING:
            return [Answer(call.id)] if off_hook else [Reject(call.id)]
        return [] if off_hook else [HangUp(call.id)]

    def _mute(self, muted: bool) -> list[Action]:
        call = self.call
        if call is None or call.state is CallState.RINGING:
            return []
        self.call = replace(call, muted=muted)
        return [SetMute(muted)]

    def _hold(self) -> list[Action]:
        call = self.call
        if call is None or call.state is CallState.RINGING:
            return [Say("no call to hold")]
        if call.hold_asked:
            return []
        self.call = replace(call, hold_asked=True)
        return [SetHold(call.id, call.state is CallState.TALKING)]

    def _typed(self, line: str) -> list[Action]:
        word, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        command = _COMMANDS.get(word.lower())
        if command is None:
            return [] if not word else [Say(f"unknown command {word!r}: ? for help")]
        return command(self, rest)

    def _ready(self, rest: str) -> list[Action]:
        return [ChangeState("available")]

    def _pause(self, rest: str) -> list[Action]:
        reason = rest or DEFAULT_PAUSE
        if not TARGET.match(reason):
            return [Say(f"reason {reason!r}: one word (letters, digits, . _ -)")]
        return [ChangeState("not_ready", reason)]

    def _answer(self, rest: str) -> list[Action]:
        call = self.call
        return [Answer(call.id)] if call is not None and call.state is CallState.RINGING else [Say("no call rings")]

    def _refuse(self, rest: str) -> list[Action]:
        call = self.call
        return [Reject(call.id)] if call is not None and call.state is CallState.RINGING else [Say("no call rings")]

    def _hang_up(self, rest: str) -> list[Action]:
        call = self.call
        if call is None:
            return [Say("no call to hang up")]
        return [Reject(call.id)] if call.state is CallState.RINGING else [HangUp(call.id)]

    def _toggle_mute(self, rest: str) -> list[Action]:
        call = self.call
        if call is None or call.state is CallState.RINGING:
            return [Say("no call to mute")]
        return self._mute(not call.muted)

    def _digits(self, rest: str) -> list[Action]:
        call = self.call
        if call is None or call.state is not CallState.TALKING:
            return [Say("keys go to a call in progress")]
        if not DIGITS.match(rest):
            return [Say(f"keys {rest!r}: 0-9, *, #, A-D")]
        return [SendDigits(call.id, rest)]

    def _transfer(self, rest: str) -> list[Action]:
        task = self.current_task()
        if self.call is None or self.call.state is CallState.RINGING or task is None:
            return [Say("no call to transfer")]
        if not TARGET.match(rest):
            return [Say(f"transfer to {rest!r}: a queue id or a number")]
        return [Transfer(task, rest)]

    def _end_wrap_up(self, rest: str) -> list[Action]:
        if not self.wrap_ups:
            return [Say("no wrap-up to end")]
        return [EndWrapUp(task) for task in self.wrap_ups]

    def _quit(self, rest: str) -> list[Action]:
        if self.call is not None and self.call.state is not CallState.RINGING:
            return [Say("a call is in progress: hang up first")]
        ringing: list[Action] = [Reject(self.call.id, 486)] if self.call is not None else []
        return [*ringing, Quit()]

    def _help(self, rest: str) -> list[Action]:
        return [Say(HELP)]


def _words(table: Mapping[tuple[str, ...], Command]) -> dict[str, Command]:
    return {word: command for words, command in table.items() for word in words}


Command = Callable[[Desk, str], list[Action]]
_COMMANDS = _words({
    ("r", "ready"): Desk._ready, ("p", "pause", "not_ready"): Desk._pause, ("a", "answer"): Desk._answer,
    ("x", "refuse"): Desk._refuse, ("h", "hangup"): Desk._hang_up, ("o", "hold"): lambda desk, rest: desk._hold(),
    ("m", "mute"): Desk._toggle_mute, ("d", "dtmf"): Desk._digits, ("t", "transfer"): Desk._transfer,
    ("w", "wrapup"): Desk._end_wrap_up, ("q", "quit"): Desk._quit, ("?", "help"): Desk._help,
})  # fmt: skip

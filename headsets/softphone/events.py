"""What the softphone's desk hears (from the SIP stack, the ACD, the headset, the keyboard) and what it
asks the drivers to do. Frozen dataclasses, checked when built: the desk itself does no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.headset_topics import HeadsetState
from headsets.hid.protocol import Leds

DIGITS = re.compile(r"^[0-9*#A-D]{1,32}$")  # what RFC 4733 telephone-events carry
TARGET = re.compile(r"^[A-Za-z0-9+*#._-]{1,64}$")  # a queue id or a number, as the ACD's transfer takes


# --- heard -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registered:
    """The SIP registrar's answer: `ok`, or why not (a status and its reason)."""

    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Incoming:
    """The ACD rings this phone: `caller` is the number shown, `queue` the INVITE's Subject."""

    call: int
    caller: str
    queue: str


@dataclass(frozen=True, slots=True)
class Connected:
    call: int


@dataclass(frozen=True, slots=True)
class Held:
    """The hold the desk asked for took effect (True) or was lifted (False)."""

    call: int
    held: bool


@dataclass(frozen=True, slots=True)
class Ended:
    call: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AgentSeen:
    """The agent as the ACD's API shows it."""

    state: str
    reason: str | None = None
    tasks: tuple[str, ...] = ()
    wrap_ups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OfferSeen:
    """The task the ACD offers: its queue and the caller's answers to the IVR (topic, SIREN...)."""

    task: str
    queue: str
    channel: str
    attributes: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HeadsetPresence:
    """The headset (its sound device) is plugged in or not; `device` is its name, or where the sound went."""

    connected: bool
    device: str | None = None


@dataclass(frozen=True, slots=True)
class Typed:
    """A line the agent typed."""

    line: str


@dataclass(frozen=True, slots=True)
class Failed:
    """An action the drivers could not carry out, said to the agent; nothing else changes."""

    action: str
    message: str


# --- asked -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    call: int


@dataclass(frozen=True, slots=True)
class Reject:
    call: int
    status: int = 603  # RFC 3261 §21.6.2 Decline: the agent does not want it (486 when busy)


@dataclass(frozen=True, slots=True)
class HangUp:
    call: int


@dataclass(frozen=True, slots=True)
class SetHold:
    call: int
    held: bool


@dataclass(frozen=True, slots=True)
class SetMute:
    muted: bool


@dataclass(frozen=True, slots=True)
class SendDigits:
    call: int
    digits: str

    def __post_init__(self) -> None:
        if not DIGITS.match(self.digits):
            raise ValueError(f"digits {self.digits!r}: 0-9, *, #, A-D only")


@dataclass(frozen=True, slots=True)
class Transfer:
    task: str
    target: str

    def __post_init__(self) -> None:
        if not TARGET.match(self.target):
            raise ValueError(f"transfer target {self.target!r}: a queue id or a number")


@dataclass(frozen=True, slots=True)
class ChangeState:
    state: str  # available or not_ready
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EndWrapUp:
    task: str


@dataclass(frozen=True, slots=True)
class ShowLeds:
    leds: Leds


@dataclass(frozen=True, slots=True)
class Publish:
    state: HeadsetState


@dataclass(frozen=True, slots=True)
class Say:
    """A message for the agent."""

    text: str


@dataclass(frozen=True, slots=True)
class Quit:
    pass


Heard = Registered | Incoming | Connected | Held | Ended | AgentSeen | OfferSeen | HeadsetPresence | Typed | Failed
Action = (
    Answer | Reject | HangUp | SetHold | SetMute | SendDigits | Transfer | ChangeState | EndWrapUp | ShowLeds
    | Publish | Say | Quit
)  # fmt: skip

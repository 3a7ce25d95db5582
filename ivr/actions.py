"""What the interpreter asks its driver to do: one frozen dataclass per action."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt of the flow, in a language (synthesised at set-up, or its recorded file)."""

    name: str
    language: str


@dataclass(frozen=True, slots=True)
class Speech:
    """Text made at run time (a position, a wait), spoken in a language."""

    text: str
    language: str


Clip = Prompt | Speech


@dataclass(frozen=True, slots=True)
class Play:
    """Say the clips one after the other; `PromptFinished(token)` at the end. A new Play replaces it."""

    token: int
    clips: tuple[Clip, ...]

    def __post_init__(self) -> None:
        if not self.clips:
            raise ValueError("nothing to play")


@dataclass(frozen=True, slots=True)
class StopPlaying:
    pass


@dataclass(frozen=True, slots=True)
class StartTimer:
    """`TimerFired(token)` in `seconds`; timers of other tokens keep running (their events are ignored
    once stale)."""

    token: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Queue the call with the flow's attributes: `QueueUpdate` once queued, or `QueueRefused`."""

    queue: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WatchQueue:
    """A `QueueUpdate` in `seconds`."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Overflow:
    """The wait was too long: the call moves to a queue (keeping its place) or a number."""

    to: str


@dataclass(frozen=True, slots=True)
class RequestCallback:
    """Replace the waiting call by a call-back to `number`, keeping its place: `CallbackBooked` or
    `CallbackFailed`."""

    number: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """Call `to` through the trunk and join the caller to it: `Connected` or `TransferFailed`."""

    to: str


@dataclass(frozen=True, slots=True)
class StartRecording:
    pass


@dataclass(frozen=True, slots=True)
class StopRecording:
    """End the message: `Recorded` follows."""


@dataclass(frozen=True, slots=True)
class LeaveVoicemail:
    """The recorded message becomes a task of `queue` with the flow's attributes."""

    queue: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HangUp:
    reason: str


Action = (
    Play
    | StopPlaying
    | StartTimer
    | Enqueue
    | WatchQueue
    | Overflow
    | RequestCallback
    | Transfer
    | StartRecording
    | StopRecording
    | LeaveVoicemail
    | HangUp
)

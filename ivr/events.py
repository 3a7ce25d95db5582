"""What the interpreter is told about its call: one frozen dataclass per event.

Tokens tie an answer to the action that asked for it: a prompt that was cut short, a timer that was
replaced, finish or fire with an old token and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

KEYS = frozenset("0123456789*#")


@dataclass(frozen=True, slots=True)
class CallStarted:
    """The call is answered: the flow starts."""


@dataclass(frozen=True, slots=True)
class Digit:
    digit: str

    def __post_init__(self) -> None:
        if self.digit not in KEYS:
            raise ValueError(f"not a key: {self.digit!r}")


@dataclass(frozen=True, slots=True)
class PromptFinished:
    token: int


@dataclass(frozen=True, slots=True)
class TimerFired:
    token: int


@dataclass(frozen=True, slots=True)
class QueueUpdate:
    """Where the caller's task stands, as asked by `Enqueue` or `WatchQueue`."""

    position: int
    wait: float | None  # seconds; None: nobody serves the queue now


@dataclass(frozen=True, slots=True)
class QueueRefused:
    """The queue did not take the call (closed, full, the store unreachable)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Connected:
    """An agent or the transferred-to number answered: the flow's part is over."""


@dataclass(frozen=True, slots=True)
class TransferFailed:
    status: int


@dataclass(frozen=True, slots=True)
class CallbackBooked:
    """The call-back took the caller's place in the queue."""


@dataclass(frozen=True, slots=True)
class CallbackFailed:
    reason: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """The message being recorded is complete (the caller pressed #, its time ran out, or it hung up)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    pass


Event = (
    CallStarted
    | Digit
    | PromptFinished
    | TimerFired
    | QueueUpdate
    | QueueRefused
    | Connected
    | TransferFailed
    | CallbackBooked
    | CallbackFailed
    | Recorded
    | CallerHungUp
)

"""What the queue core is told: one frozen dataclass per event, validated when built.

The router turns each event into decisions (acd.decisions); the time of the event is passed beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from acd.errors import InvalidEvent
from acd.model import Channel, Outcome


def _check_id(name: str, value: str) -> None:
    if not isinstance(value, str) or not value or len(value) > 128:
        raise InvalidEvent(f"{name} must be a non-empty string of at most 128 characters")


def _check_time(name: str, value: float | None) -> None:
    if value is not None and (not isinstance(value, (int, float)) or not math.isfinite(value)):
        raise InvalidEvent(f"{name} must be a finite number of seconds")


def _frozen(mapping: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class TaskArrived:
    """A new interaction. With `not_before` it is a scheduled task (a call-back at a given time)."""

    task_id: str
    channel: Channel
    queue: str
    priority: int | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    required_skills: Mapping[str, int] = field(default_factory=dict)
    not_before: float | None = None
    #: To keep a place earned elsewhere (a call-back keeps its caller's entry time).
    entered_at: float | None = None

    def __post_init__(self) -> None:
        _check_id("task_id", self.task_id)
        _check_id("queue", self.queue)
        if not isinstance(self.channel, Channel):
            raise InvalidEvent("channel must be a Channel")
        if self.priority is not None and not -1000 <= self.priority <= 1000:
            raise InvalidEvent("priority must be between -1000 and 1000")
        for skill, level in self.required_skills.items():
            if not 1 <= level <= 5:
                raise InvalidEvent(f"required level of {skill!r} must be between 1 and 5")
        _check_time("not_before", self.not_before)
        _check_time("entered_at", self.entered_at)
        object.__setattr__(self, "attributes", _frozen(self.attributes))
        object.__setattr__(self, "required_skills", _frozen(self.required_skills))


@dataclass(frozen=True, slots=True)
class TaskCancelled:
    """The task leaves before being answered: the caller hung up (abandoned) or it was withdrawn."""

    task_id: str
    outcome: Outcome = Outcome.ABANDONED

    def __post_init__(self) -> None:
        _check_id("task_id", self.task_id)
        if self.outcome not in (Outcome.ABANDONED, Outcome.CANCELLED):
            raise InvalidEvent("a cancellation's outcome is abandoned or cancelled")


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """A waiting caller leaves and asks to be called back; the call-back keeps the caller's place."""

    task_id: str
    callback_task_id: str
    number: str
    at: float | None = None
    queue: str | None = None

    def __post_init__(self) -> None:
        _check_id("task_id", self.task_id)
        _check_id("callback_task_id", self.callback_task_id)
        if not (isinstance(self.number, str) and 3 <= len(self.number) <= 32):
            raise InvalidEvent("number must be 3 to 32 characters")
        allowed = set("0123456789+*#")
        if not set(self.number) <= allowed:
            raise InvalidEvent("number may only hold digits, '+', '*' and '#'")
        _check_time("at", self.at)


@dataclass(frozen=True, slots=True)
class TaskTransferred:
    """The task is handed elsewhere in one step: it ends `transferred` and `new_task_id` takes its caller.

    `to` is a queue id, a number of the deployment that leads to a queue, or (with a trunk) an outside
    number: the core resolves it (`Topology.resolve`). Allowed while the task waits, is offered (the
    offer is revoked) or is with an agent (whose part ends as on `TaskCompleted`: wrap-up follows). The new
    task keeps the caller's place (its entry time; answered, the wait before the answer), attributes (plus
    `transferred_from`) and required skills. If the target would not take it now, the event is refused
    (`TransferRefused`) and nothing changes.
    `reason` says why, in the decisions: `transferred` (an agent's transfer), `max_wait` (an IVR's overflow).
    """

    task_id: str
    to: str
    new_task_id: str
    reason: str = "transferred"

    def __post_init__(self) -> None:
        _check_id("task_id", self.task_id)
        _check_id("to", self.to)
        _check_id("new_task_id", self.new_task_id)
        _check_id("reason", self.reason)
        if self.new_task_id == self.task_id:
            raise InvalidEvent("new_task_id must differ from task_id")


@dataclass(frozen=True, slots=True)
class OutsideAnswered:
    """The outside number a task was handed to answered: the task ends, its caller is theirs."""

    task_id: str

    def __post_init__(self) -> None:
        _check_id("task_id", self.task_id)


@dataclass(frozen=True, slots=True)
class OutsideFailed:
    """The outside number a task was handed to did not answer (`status`: the SIP final response, 300 to
    699): the task goes back to its queue with its place."""

    task_id: str
    status: int

    def __post_init__(self) -> None:
        _check_id("task_id", self.task_id)
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 300 <= self.status <= 699:
            raise InvalidEvent("status must be a SIP final failure status, 300 to 699")


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    agent_id: str
    ready: bool = True
    #: The node the agent came through, where several nodes share the state.
    node: str | None = None

    def __post_init__(self) -> None:
        _check_id("agent_id", self.agent_id)
        if self.node is not None:
            _check_id("node", self.node)


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    agent_id: str

    def __post_init__(self) -> None:
        _check_id("agent_id", self.agent_id)


@dataclass(frozen=True, slots=True)
class AgentReady:
    agent_id: str
    node: str | None = None

    def __post_init__(self) -> None:
        _check_id("agent_id", self.agent_id)
        if self.node is not None:
            _check_id("node", self.node)


@dataclass(frozen=True, slots=True)
class AgentNotReady:
    agent_id: str
    reason: str

    def __post_init__(self) -> None:
        _check_id("agent_id", self.agent_id)
        _check_id("reason", self.reason)


@dataclass(frozen=True, slots=True)
class _AgentOnTask:
    """What an agent does with one task: the same two checked fields for every such event."""

    task_id: str
    agent_id: str

    def __post_init__(self) -> None:
        _check_id("task_id", self.task_id)
        _check_id("agent_id", self.agent_id)


@dataclass(frozen=True, slots=True)
class OfferAccepted(_AgentOnTask):
    """The agent answers the task offered to it."""


@dataclass(frozen=True, slots=True)
class OfferRefused(_AgentOnTask):
    """The agent turns the offer down: the task goes back with its place."""


@dataclass(frozen=True, slots=True)
class TaskCompleted(_AgentOnTask):
    """The agent finished the task (or the caller hung up after answer): wrap-up follows."""


@dataclass(frozen=True, slots=True)
class WrapUpEnded(_AgentOnTask):
    """The agent is done with the task's after-call work before the wrap-up timer."""


@dataclass(frozen=True, slots=True)
class TaskNoted:
    """Something that happened to a task without moving it, kept in its events: a key the caller pressed,
    where its call is recorded, why its call ended (its media stopped)."""

    task_id: str
    note: str
    data: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_id("task_id", self.task_id)
        _check_id("note", self.note)
        object.__setattr__(self, "data", _frozen(self.data))


@dataclass(frozen=True, slots=True)
class PhoneChanged:
    """The agent's phone registered (it can be rung) or unregistered / let its registration lapse."""

    agent_id: str
    registered: bool

    def __post_init__(self) -> None:
        _check_id("agent_id", self.agent_id)
        if not isinstance(self.registered, bool):
            raise InvalidEvent("registered must be true or false")


@dataclass(frozen=True, slots=True)
class HeadsetChanged:
    """The agent's headset was plugged in or unplugged (its softphone says so over MQTT)."""

    agent_id: str
    connected: bool

    def __post_init__(self) -> None:
        _check_id("agent_id", self.agent_id)
        if not isinstance(self.connected, bool):
            raise InvalidEvent("connected must be true or false")


@dataclass(frozen=True, slots=True)
class NodeLost:
    """A node of the deployment stopped renewing its lease: what went through it is taken back."""

    node: str

    def __post_init__(self) -> None:
        _check_id("node", self.node)


@dataclass(frozen=True, slots=True)
class LoginFailed:
    """A log-in to the API failed (wrong user or password), or, with `limit` ("user" or "address"), was
    refused for too many failures: kept in the event log for the operators; changes nothing.

    The API decides and reports it; the core only records it, like every fact of the log.
    """

    user: str
    address: str
    limit: str | None = None

    def __post_init__(self) -> None:
        _check_id("user", self.user)
        _check_id("address", self.address)
        if self.limit not in (None, "user", "address"):
            raise InvalidEvent("a log-in's limit is user or address")


@dataclass(frozen=True, slots=True)
class ClockTicked:
    """Time passed: fire the timers that are due, at most `max_timers` of them (the rest at the next tick).

    The bound keeps one change small when thousands of timers fall due at once (every task of a busy
    morning reaching an overflow step together): a shared store then commits them in several steps
    instead of one change of megabytes that would hold Redis for tens of milliseconds.
    """

    max_timers: int | None = None

    def __post_init__(self) -> None:
        if self.max_timers is not None and self.max_timers < 1:
            raise InvalidEvent("max_timers must be at least 1")


Event = (
    TaskArrived
    | TaskCancelled
    | CallbackRequested
    | TaskTransferred
    | OutsideAnswered
    | OutsideFailed
    | AgentLoggedIn
    | AgentLoggedOut
    | AgentReady
    | AgentNotReady
    | OfferAccepted
    | OfferRefused
    | TaskCompleted
    | WrapUpEnded
    | PhoneChanged
    | HeadsetChanged
    | TaskNoted
    | NodeLost
    | LoginFailed
    | ClockTicked
)

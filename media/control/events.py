"""What call control is told: one frozen dataclass per event, each naming its call (the caller's Call-ID).

The switchboard turns what it hears into these: SIP from the caller and from the legs it placed, the
results of its I/O (a port opened, an answer of the queue core to a submission), the core's decisions
about the call's task, the requests of the calls' API and of the call's IVR flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from media.errors import MediaError


class InvalidCallEvent(MediaError):
    """An event built with a value no call could take (an empty id, a status outside 100-699)."""

    status = 400


def _check(name: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidCallEvent(f"{name} must be a non-empty string")


@dataclass(frozen=True, slots=True)
class CallEvent:
    call: str  # the caller's Call-ID: the call's key

    def __post_init__(self) -> None:
        _check("call", self.call)


@dataclass(frozen=True, slots=True)
class LegEvent(CallEvent):
    leg: str  # a leg call control placed (its id, from `PlaceLeg`)

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        _check("leg", self.leg)


# ---------------------------------------------------------------------------------------- the caller


@dataclass(frozen=True, slots=True)
class CallerReoffered(CallEvent):
    """A re-INVITE or UPDATE from the caller (a session refresh, RFC 4028 §10, or a new offer): `request`
    names it for the answer call control gives (`RefreshSession` or `RejectRequest`)."""

    request: str

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        _check("request", self.request)


@dataclass(frozen=True, slots=True)
class InviteArrived(CallEvent):
    """A new call to one of the deployment's numbers: to `queue`, or (with `flow`) into an IVR flow."""

    task: str
    queue: str = ""
    flow: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        _check("task", self.task)
        if (self.flow is None) == (not self.queue):
            raise InvalidCallEvent("a call enters a queue or a flow, exactly one of them")
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


@dataclass(frozen=True, slots=True)
class PortOpened(CallEvent):
    """The caller's RTP port is open and its offer answered: the call can be answered."""


@dataclass(frozen=True, slots=True)
class PortFailed(CallEvent):
    """No port (503), or no codec the bridge carries (488): the call is refused with `status`."""

    status: int
    note: str = ""

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        if not 400 <= self.status <= 699:
            raise InvalidCallEvent("a refusal's status is between 400 and 699")


@dataclass(frozen=True, slots=True)
class CallerCancelled(CallEvent):
    """CANCEL before the INVITE was answered (RFC 3261 §9.2)."""


@dataclass(frozen=True, slots=True)
class CallerHungUp(CallEvent):
    """BYE from the caller."""


@dataclass(frozen=True, slots=True)
class NoAck(CallEvent):
    """The 2xx to the caller's INVITE was never ACKed (RFC 3261 §13.3.1.4): the call ends."""


@dataclass(frozen=True, slots=True)
class MediaLost(CallEvent):
    """No RTP for the media timeout (`media_timeout`), or the session not refreshed (`session_expired`)."""

    note: str
    side: str

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        _check("note", self.note)
        _check("side", self.side)


@dataclass(frozen=True, slots=True)
class Key(CallEvent):
    """A key pressed (RFC 4733 or SIP INFO) by `who`: `caller` or `agent`."""

    who: str
    digit: str

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        if self.who not in ("caller", "agent"):
            raise InvalidCallEvent("a key is pressed by the caller or the agent")
        if len(self.digit) != 1 or self.digit not in "0123456789*#ABCD":
            raise InvalidCallEvent("a key is one of 0-9, *, #, A-D")


# ------------------------------------------------------------------------- the queue core's answers


@dataclass(frozen=True, slots=True)
class Queued(CallEvent):
    """The core took the call's task (answer to `SubmitArrival`)."""

    task: str


@dataclass(frozen=True, slots=True)
class QueueRefused(CallEvent):
    """The core did not queue it (`queue_full`, `no_queue_to_take_it`...), or the store was `unavailable`."""

    task: str
    reason: str


@dataclass(frozen=True, slots=True)
class Offered(CallEvent):
    """The core offers `task` to `agent` (decision `offered`)."""

    task: str
    agent: str


@dataclass(frozen=True, slots=True)
class OfferEnded(CallEvent):
    """The offer timed out or was revoked (decisions `offer_timed_out`, `offer_revoked`)."""

    task: str
    agent: str


@dataclass(frozen=True, slots=True)
class TaskEnded(CallEvent):
    """The core ended the task itself (decisions `task_ended`, `task_rejected`): the call ends."""

    task: str
    reason: str


@dataclass(frozen=True, slots=True)
class OfferTaken(CallEvent):
    """The core accepted the agent's answer (answer to `AcceptOffer`): the task is the agent's."""

    task: str
    agent: str


@dataclass(frozen=True, slots=True)
class OfferLost(CallEvent):
    """The core refused the agent's answer: the offer had ended first."""

    task: str
    agent: str


@dataclass(frozen=True, slots=True)
class Requeued(CallEvent):
    """The call waits as `task` in `queue`: a transfer or overflow went through (answer to `SubmitTransfer`),
    or the outside number it rang did not answer and the core took it back (answer to `SubmitReturn`)."""

    task: str
    queue: str


@dataclass(frozen=True, slots=True)
class Dialling(CallEvent):
    """A transfer to an outside number went through: the new `task` rings `number`, through the trunk."""

    task: str
    number: str


@dataclass(frozen=True, slots=True)
class OutsideTimedOut(CallEvent):
    """The core took `task` back to `queue` itself: the outside number rang for its `outside_ring_timeout`
    with nobody saying how it ended (a decision, not an answer)."""

    task: str
    queue: str


@dataclass(frozen=True, slots=True)
class TransferRefused(CallEvent):
    """The core refused the transfer (the target unknown, closed or full, the store unreachable): nothing
    moved, the caller's task is where it was. `status`: what a REFER's NOTIFY says of it (404, 480, 503)."""

    reason: str
    status: int = 480


@dataclass(frozen=True, slots=True)
class CallbackBooked(CallEvent):
    """The core booked the call-back (answer to `RequestCallback`)."""


@dataclass(frozen=True, slots=True)
class CallbackRefused(CallEvent):
    """The core refused the call-back."""


# ---------------------------------------------------------------------------------------- the legs


@dataclass(frozen=True, slots=True)
class LegAnswered(LegEvent):
    """The leg answered with usable SDP (a 2xx)."""


@dataclass(frozen=True, slots=True)
class LegRefused(LegEvent):
    """The leg said no (its status), could not be reached (408), or could not be placed: no binding for the
    agent (480), no port (503), unusable SDP in its answer (488)."""

    status: int

    def __post_init__(self) -> None:
        LegEvent.__post_init__(self)
        if not 300 <= self.status <= 699:
            raise InvalidCallEvent("a refusal's status is between 300 and 699")


@dataclass(frozen=True, slots=True)
class LegHungUp(LegEvent):
    """BYE from an answered leg."""


@dataclass(frozen=True, slots=True)
class LegHeld(LegEvent):
    """The agent's phone re-INVITEd (RFC 3264 §8.4): on hold (`True`) or back (`False`)."""

    on_hold: bool


# ------------------------------------------------------------------------- requests: API and REFER


@dataclass(frozen=True, slots=True)
class TransferAsked(CallEvent):
    """A blind transfer (by the API) to `to`, a queue, a number leading to one or an outside number: the core
    resolves it."""

    to: str

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        _check("to", self.to)


@dataclass(frozen=True, slots=True)
class ReferAsked(CallEvent):
    """REFER (RFC 3515) from the phone of `leg`, to `to`: a blind transfer asked by the agent's phone, which is
    answered 202 (`AcceptRefer`) then told the outcome (`NotifyRefer`), or refused (`RejectRequest`).
    Not a `LegEvent`: one from a leg let go is answered too (481)."""

    leg: str
    request: str
    to: str

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        for name in ("leg", "request", "to"):
            _check(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class ConsultAsked(CallEvent):
    """Put the caller on hold and ring `to`: an agent's phone, or (`outside`) a number through the trunk."""

    to: str
    outside: bool = False

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        _check("to", self.to)


@dataclass(frozen=True, slots=True)
class ConsultCompleted(CallEvent):
    """Join the caller to the consulted party; the agent's part ends."""


@dataclass(frozen=True, slots=True)
class ConsultCancelled(CallEvent):
    """End the consultation: back to the caller."""


# ------------------------------------------------------------------------------ the call's IVR flow


@dataclass(frozen=True, slots=True)
class FlowQueue(CallEvent):
    """The flow queues the call in `queue` with the attributes it gathered."""

    queue: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        _check("queue", self.queue)
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


@dataclass(frozen=True, slots=True)
class FlowOverflow(CallEvent):
    """The flow's maximum wait: to `to`, a queue (keeping the caller's place) or an outside number, as the
    core resolves it."""

    to: str

    def __post_init__(self) -> None:
        CallEvent.__post_init__(self)
        _check("to", self.to)


@dataclass(frozen=True, slots=True)
class FlowCallback(CallEvent):
    """The caller asks to be called back at `number`, as the task `callback_task`."""

    number: str
    callback_task: str


@dataclass(frozen=True, slots=True)
class FlowTransfer(CallEvent):
    """The flow sends the call out to the number `to` (through the trunk)."""

    to: str


@dataclass(frozen=True, slots=True)
class FlowHangUp(CallEvent):
    """The flow ends the call."""

    reason: str

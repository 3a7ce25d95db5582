"""What call control asks of its driver: one frozen dataclass per action, each naming its call.

Actions that ask something of the queue core or of the machine (`OpenPort`, `SubmitArrival`,
`AcceptOffer`, `SubmitTransfer`, `RequestCallback`, `PlaceLeg`) are answered later by events
(media.control.events): the driver carries them out and feeds back what came of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from acd.events import OfferRefused, OutsideAnswered, TaskCancelled, TaskCompleted, TaskNoted

#: What call control tells the queue core without waiting for its answer.
CoreEvent = TaskNoted | TaskCancelled | TaskCompleted | OfferRefused | OutsideAnswered


class Role(StrEnum):
    """What a leg is to its call."""

    AGENT = "agent"  # the agent's phone, rung for an offer, then the agent's side of the call
    CONSULT = "consult"  # the colleague or office the agent consults, the caller on hold
    OUTSIDE = "outside"  # a number the call was transferred out to, through the trunk


class FlowNote(StrEnum):
    """What the call's IVR flow is told of the call."""

    QUEUED = "queued"
    QUEUE_REFUSED = "queue_refused"
    CALLBACK_BOOKED = "callback_booked"
    CALLBACK_FAILED = "callback_failed"
    TRANSFER_FAILED = "transfer_failed"
    CONNECTED = "connected"  # an agent (or the number transferred to) answered: the flow's part is over
    CALLER_HUNG_UP = "caller_hung_up"
    KEY = "key"  # the caller pressed a key (the detail): the flow may be collecting digits


@dataclass(frozen=True, slots=True)
class Action:
    call: str


# ------------------------------------------------------------------------------------- the caller


@dataclass(frozen=True, slots=True)
class OpenPort(Action):
    """Open the caller's RTP port and answer its offer; answered by `PortOpened` or `PortFailed`."""


@dataclass(frozen=True, slots=True)
class ClosePort(Action):
    """Close the caller's RTP port."""


@dataclass(frozen=True, slots=True)
class Respond(Action):
    """The final response to the caller's INVITE: 200 (with the SDP answer) or a refusal."""

    status: int
    note: str = ""  # said after the reason phrase


@dataclass(frozen=True, slots=True)
class ByeCaller(Action):
    """End the caller's answered leg."""


# --------------------------------------------------------------------------------------- the legs


@dataclass(frozen=True, slots=True)
class PlaceLeg(Action):
    """Call `target` (an agent's id for `Role.AGENT`, else an agent or a number): answered by `LegAnswered`,
    `LegRefused` (also when the leg cannot be placed: no binding, no port)."""

    leg: str
    role: Role
    target: str


@dataclass(frozen=True, slots=True)
class CancelLeg(Action):
    """Stop a leg still ringing (CANCEL, RFC 3261 §9.1): whatever it answers later is the driver's to end."""

    leg: str


@dataclass(frozen=True, slots=True)
class HangUpLeg(Action):
    """End an answered leg (BYE)."""

    leg: str


@dataclass(frozen=True, slots=True)
class Bridge(Action):
    """Join two sides' media: `caller` or a leg's id each."""

    a: str
    b: str


@dataclass(frozen=True, slots=True)
class Unbridge(Action):
    """Part the call's bridge."""


@dataclass(frozen=True, slots=True)
class PlayMusic(Action):
    """Music on hold to the caller."""


@dataclass(frozen=True, slots=True)
class StopMusic(Action):
    pass


@dataclass(frozen=True, slots=True)
class StartRecording(Action):
    """Record the bridged call as part of `task` (the queue records its calls)."""

    task: str


@dataclass(frozen=True, slots=True)
class StopRecording(Action):
    pass


# -------------------------------------------------------------------------------- the queue core


@dataclass(frozen=True, slots=True)
class Submit(Action):
    """Tell the core, no answer awaited (a refusal is only logged)."""

    event: CoreEvent


@dataclass(frozen=True, slots=True)
class SubmitArrival(Action):
    """The call's task into `queue`: answered by `Queued` or `QueueRefused`."""

    task: str
    queue: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


@dataclass(frozen=True, slots=True)
class AcceptOffer(Action):
    """The agent answered: `OfferAccepted`, answered by `OfferTaken` or `OfferLost`."""

    task: str
    agent: str


@dataclass(frozen=True, slots=True)
class RefreshSession(Action):
    """Answer the caller's re-offer `request`: its session timer renewed, its stream answered again."""

    request: str


@dataclass(frozen=True, slots=True)
class RejectRequest(Action):
    """Answer the request `request` of the call's dialog with `status` (500 while the INVITE's answer is on its
    way, `retry`: with a Retry-After of a few seconds, RFC 3261 §14.2; 481 once the call ended; 403 or 491 for a
    REFER that does not apply)."""

    request: str
    status: int
    retry: bool = False


@dataclass(frozen=True, slots=True)
class AcceptRefer(Action):
    """Answer the REFER `request` of `leg`'s phone 202 (RFC 3515 §2.4.2): its outcome follows as a NOTIFY."""

    leg: str
    request: str


@dataclass(frozen=True, slots=True)
class NotifyRefer(Action):
    """NOTIFY `leg`'s phone of its REFER's outcome (RFC 3515 §2.4.5): `status` as a sipfrag, 200 when it went
    through; the phone hangs up by itself then (RFC 5589 §6.1)."""

    leg: str
    status: int


@dataclass(frozen=True, slots=True)
class SubmitTransfer(Action):
    """The call's `task` handed to `to` in one event of the core (`TaskTransferred`): `new_task` waits in a
    queue (answered by `Requeued`) or rings an outside number (`Dialling`), or nothing moved
    (`TransferRefused`). `joined`: the caller is already bridged to the party `agent` consulted, whose
    part ends, and no answer is awaited: an outside number (`new_task` given) takes the task and answered it
    at once; a colleague (no `new_task`): `task` completed, noted `reason`."""

    task: str
    to: str
    new_task: str | None
    reason: str
    agent: str | None = None
    joined: bool = False


@dataclass(frozen=True, slots=True)
class SubmitReturn(Action):
    """The outside number `task` rang did not answer (`status`): the core takes the task back to its queue
    with its place (`Requeued`), or its queue would not take it now (`QueueRefused`)."""

    task: str
    status: int


@dataclass(frozen=True, slots=True)
class RequestCallback(Action):
    """The waiting caller's task becomes a call-back: answered by `CallbackBooked` or `CallbackRefused`."""

    task: str
    callback_task: str
    number: str


# ------------------------------------------------------------------------------ the call's flow


@dataclass(frozen=True, slots=True)
class StartFlow(Action):
    flow: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


@dataclass(frozen=True, slots=True)
class TellFlow(Action):
    note: FlowNote
    detail: str = ""  # the queue's reason, the transfer's status


@dataclass(frozen=True, slots=True)
class StopFlow(Action):
    pass


# ---------------------------------------------------------------------------------------- the end


@dataclass(frozen=True, slots=True)
class EndCall(Action):
    """The call is over and holds nothing any more: logged `why`, forgotten after a while (a repeated BYE
    or a late ACK still finds it)."""

    why: str

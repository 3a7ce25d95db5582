"""What call control holds for each call: plain records, legs named by id, nothing with a socket."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from media.control.actions import Role
from media.errors import MediaError


class CallState(StrEnum):
    SETTING_UP = "setting_up"  # the INVITE came: the caller's port is opening
    QUEUEING = "queueing"  # the call's task was submitted: the core's answer is awaited
    IVR = "ivr"  # answered, in an IVR flow: no task in a queue (not yet, or no more)
    WAITING = "waiting"  # answered, in queue, hearing music (the agent's phone may be ringing)
    ANSWERING = "answering"  # the agent's phone answered: the core is asked to accept the offer
    TALKING = "talking"  # bridged to an agent
    HELD = "held"  # the agent put the caller on hold: music again
    CONSULTING = "consulting"  # the agent talks to a colleague or an office; the caller hears music
    TRANSFERRING = "transferring"  # leaving its task for a queue or a number; the caller hears music
    BOOKING = "booking"  # the caller asked for a call-back: the core's answer is awaited
    OUTSIDE = "outside"  # bridged to an outside party: the agent's part is over, the call has no task
    ENDED = "ended"


class Awaiting(StrEnum):
    """An answer the call waits for: an ended call is forgotten only once it came (a task queued after the
    caller left is then cancelled, an accepted offer completed: none is left waiting for nobody)."""

    PORT = "port"
    QUEUE = "queue"
    ACCEPT = "accept"
    TRANSFER = "transfer"
    CALLBACK = "callback"


class CallControlError(MediaError):
    """Call control was fed something it cannot take."""

    status = 500


class UnknownCall(CallControlError):
    status = 481


class DuplicateCall(CallControlError):
    status = 482


class UnknownLeg(CallControlError):
    pass


class CallStateError(CallControlError):
    """An event the call's state does not take: a programming error, or a request (a transfer asked by the
    API or by REFER) that does not apply now. Raised before anything changed."""

    status = 409

    def __init__(self, state: CallState, event: object, detail: str = "") -> None:
        name = type(event).__name__
        super().__init__(f"a call {state.value} cannot take {name}" + (f" ({detail})" if detail else ""))
        self.state = state
        self.event = name


def task_id_for(call_id: str) -> str:
    """The task of an inbound call: a Call-ID can be long and hold any character, the id is short and safe."""
    return "call-" + hashlib.sha256(call_id.encode()).hexdigest()[:20]


@dataclass(slots=True)
class LegRecord:
    id: str
    role: Role
    target: str  # the agent rung, or the agent or number called
    answered: bool = False
    outside: bool = False  # a number through the trunk, not an agent's phone


@dataclass(frozen=True, slots=True)
class PendingTransfer:
    """A transfer or overflow asked of the core, its answer awaited: the caller is still where it was."""

    before: CallState  # where the call stays if the core refuses: with its agent, or waiting
    new_task: str  # the task the caller becomes if the core takes it
    refer_leg: str | None = None  # the leg whose phone asked it (REFER): told the outcome, it hangs up itself


@dataclass(frozen=True, slots=True)
class Deferred:
    """An offer the core made before the call could ring it (its task being queued or transferred)."""

    task: str
    agent: str


@dataclass(frozen=True, slots=True)
class Referral:
    """A REFER accepted from the agent's phone (`leg`) to `to`, before the core took the agent's answer."""

    leg: str
    to: str


@dataclass(slots=True)
class CallRecord:
    """One call as call control sees it. `task` is the call's current task (it changes with a transfer)."""

    call: str
    task: str
    queue: str
    flow: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    state: CallState = CallState.SETTING_UP
    awaiting: Awaiting | None = Awaiting.PORT
    answered: bool = False  # the INVITE got its 200
    port: bool = False  # the caller's RTP port is open
    music: bool = False
    bridge: tuple[str, str] | None = None
    recording: bool = False
    flow_running: bool = False
    task_live: bool = False  # the core holds the call's task and has not ended it: the call must
    agent_leg: LegRecord | None = None  # the agent's phone: ringing, then the agent's side
    other_leg: LegRecord | None = None  # the consulted party, or the number the call went out to
    agent: str | None = None  # whose task it is, once the core accepted the answer
    deferred: Deferred | None = None  # an offer made before the call was WAITING: rung once it is, or refused
    transfer: PendingTransfer | None = None  # asked of the core, its answer awaited (Awaiting.TRANSFER)
    overflow: str | None = None  # the flow's overflow, held while an agent's phone rings for the call
    referral: Referral | None = None  # a REFER the phone sent as it answered, carried out once the core took it
    back_to_flow: bool = False  # a transfer out that fails goes back to the flow (else to the queue)
    transfers: int = 0
    legs: int = 0  # legs placed so far: the next one's id
    gone_legs: set[str] = field(default_factory=set)  # legs let go: what they still say is ignored
    ended_because: str = ""
    over: bool = False  # EndCall was said

    def leg(self, leg_id: str) -> LegRecord | None:
        for leg in (self.agent_leg, self.other_leg):
            if leg is not None and leg.id == leg_id:
                return leg
        return None

    @property
    def live_legs(self) -> tuple[LegRecord, ...]:
        return tuple(leg for leg in (self.agent_leg, self.other_leg) if leg is not None)

"""What the switchboard holds for each call: the sockets' side of what call control decides.

Call control (media.control) keeps the call's state; a `Call` here keeps what carries it out: the
dialog with the caller and its INVITE transaction, the caller's RTP, the legs placed by id, the bridge,
the recording, the session timer. A call is one task of the queue core at a time (its id is derived from
the caller's Call-ID, `task_id_for`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from media.control import CallRecord, CallState, task_id_for
from media.outbound import Leg
from media.rtp.bridge import Bridge, Side
from media.rtp.recording import Recording
from media.sdp import Origin
from media.sip.dialog import Dialog
from media.sip.session_timer import SessionTimer
from media.sip.transactions import InviteServer

__all__ = ["Call", "CallState", "Destination", "FlowEntry", "task_id_for"]


@dataclass(frozen=True, slots=True)
class FlowEntry:
    """A number whose calls enter an IVR flow, with the attributes the number gives them."""

    flow: str
    attributes: Mapping[str, str] = field(default_factory=dict)


#: Where a dialled number leads: a queue (its id) or an IVR flow.
Destination = str | FlowEntry


@dataclass(eq=False, slots=True)
class Call:
    """An inbound call from the trunk: its dialog with the caller and what the switchboard opened for it."""

    record: CallRecord  # call control's: the state, the task, the legs' roles (read here, written there)
    dialog: Dialog
    invite: InviteServer
    side: Side | None = None  # the caller's RTP, once its port is open
    answer: bytes = b""  # the ACD's last SDP to the caller: what its own refresh re-INVITE offers again
    legs: dict[str, Leg] = field(default_factory=dict)  # the legs placed, by call control's ids
    bridge: Bridge | None = None
    recording: Recording | None = None
    timer: SessionTimer | None = None  # the session timer agreed with the caller (RFC 4028)
    refreshed_at: float = 0.0  # when the caller's dialog was last refreshed (monotonic clock)
    # The o= line of the ACD's descriptions to the caller: one session, a version that grows (RFC 4566).
    origin: Origin = field(default_factory=lambda: Origin(secrets.randbelow(2**31)))
    flow: Any = None  # the IVR flow running on the call (media.attendant.FlowRun), if any

    @property
    def task(self) -> str:
        return self.record.task

    @property
    def queue(self) -> str:
        return self.record.queue

    @property
    def state(self) -> CallState:
        return self.record.state

    @property
    def agent(self) -> str | None:
        return self.record.agent

    @property
    def consult(self) -> Leg | None:
        """The consulted party, or the outside number the call was handed to."""
        other = self.record.other_leg
        return self.legs.get(other.id) if other is not None else None

    @property
    def media(self) -> Side:
        """The caller's RTP: every call past its set-up has it."""
        assert self.side is not None, f"call {self.task} is {self.state.value}, its RTP is not open yet"
        return self.side

    @property
    def live(self) -> bool:
        """Answered and not ended: what the calls' API shows and acts on."""
        return self.record.answered and self.state is not CallState.ENDED

"""What the switchboard knows of each call: the caller's leg, the agent's phone being rung, their state.

Pure records; `media.switchboard` moves them. A call is one task of the queue core (its id is derived
from the caller's Call-ID), and at most one phone rings for it at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from media.outbound import Leg
from media.rtp.bridge import Bridge, Side
from media.rtp.recording import Recording
from media.sdp import Origin
from media.sip.checks import Request
from media.sip.dialog import Dialog
from media.sip.session_timer import SessionTimer


class CallState(StrEnum):
    SETTING_UP = "setting_up"  # the INVITE is being answered: the task is being queued
    IVR = "ivr"  # answered, in an IVR flow: no task in a queue (not yet, or no more)
    WAITING = "waiting"  # answered, in queue, hearing music (a phone may be ringing)
    TALKING = "talking"  # bridged to an agent
    HELD = "held"  # the agent put the caller on hold: music again
    CONSULTING = "consulting"  # the agent talks to a colleague or an office; the caller hears music
    TRANSFERRING = "transferring"  # handed to an outside number that rings; the caller hears music
    OUTSIDE = "outside"  # bridged to an outside party: the agent's part is over, the call has no task
    ENDED = "ended"


def task_id_for(call_id: str) -> str:
    """The task of an inbound call: a Call-ID can be long and hold any character, the id is short and safe."""
    return "call-" + hashlib.sha256(call_id.encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class FlowEntry:
    """A number whose calls enter an IVR flow, with the attributes the number gives them."""

    flow: str
    attributes: Mapping[str, str] = field(default_factory=dict)


#: Where a dialled number leads: a queue (its id) or an IVR flow.
Destination = str | FlowEntry


@dataclass(eq=False, slots=True)
class Call:
    """An inbound call from the trunk: its dialog with the caller and where it stands."""

    task: str
    queue: str
    dialog: Dialog
    invite: Request
    side: Side | None = None  # the caller's RTP, once its port is open
    state: CallState = CallState.SETTING_UP
    final: bytes | None = None  # the final response to the INVITE, repeated until the ACK over UDP
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False  # CANCEL came before the INVITE was answered
    ring: Leg | None = None  # the agent's phone: ringing, then the agent's leg once answered
    consult: Leg | None = None  # the colleague or office the agent consults, or the outside party
    transfers: int = 0  # how many times the call was put back in a queue (each time a new task)
    agent: str | None = None  # the agent talking to the caller (after answer)
    bridge: Bridge | None = None
    recording: Recording | None = None
    timer: SessionTimer | None = None  # the session timer agreed with the caller (RFC 4028)
    refreshed_at: float = 0.0  # when the caller's dialog was last refreshed (monotonic clock)
    answer: bytes = b""  # the ACD's last SDP to the caller: what its own refresh re-INVITE offers again
    # The o= line of the ACD's descriptions to the caller: one session, a version that grows (RFC 4566).
    origin: Origin = field(default_factory=lambda: Origin(secrets.randbelow(2**31)))
    ended_because: str | None = None
    flow: Any = None  # the IVR flow running on the call (media.attendant.FlowRun), if any

    @property
    def media(self) -> Side:
        """The caller's RTP: every call past its set-up has it."""
        assert self.side is not None, f"call {self.task} is {self.state.value}, its RTP is not open yet"
        return self.side

    @property
    def talking(self) -> bool:
        """An agent is on the call (talking, holding, or consulting with the caller on hold)."""
        return self.state in (CallState.TALKING, CallState.HELD, CallState.CONSULTING)

    @property
    def live(self) -> bool:
        return self.state not in (CallState.SETTING_UP, CallState.ENDED)

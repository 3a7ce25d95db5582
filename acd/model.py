"""The queue core's vocabulary: channels, places, agent states and the mutable records of tasks and agents.

Pure data, no I/O. The router mutates these records; the store keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    VOICE = "voice"
    WEBRTC = "webrtc"
    VIDEO = "video"
    CHAT = "chat"
    EMAIL = "email"
    VOICEMAIL = "voicemail"  # a message left in the IVR: handled like an e-mail, its recording attached
    COBROWSE = "cobrowse"
    CALLBACK = "callback"
    WORKITEM = "workitem"


#: Channels where somebody is waiting live on the other end: refused when the queue is closed.
LIVE_CHANNELS = frozenset({Channel.VOICE, Channel.WEBRTC, Channel.VIDEO, Channel.CHAT, Channel.COBROWSE})

#: Channels that ring the agent's phone.
PHONE_CHANNELS = frozenset({Channel.VOICE, Channel.CALLBACK})

#: Channels a caller can be handed to an outside number on (through the SIP trunk).
OUTSIDE_CHANNELS = frozenset({Channel.VOICE, Channel.WEBRTC, Channel.CALLBACK})

#: An agent's capacity is 60 units; a task of a channel whose limit is n costs 60 // n units.
#: 60 divides evenly by 1..6, so "3 chats" or "2 e-mails" fill it exactly, and a voice call (limit 1)
#: fills it alone: a voice task blocks new chats, and open chats block a voice offer.
CAPACITY_UNITS = 60

DEFAULT_CAPACITY: dict[Channel, int] = {
    Channel.VOICE: 1,
    Channel.WEBRTC: 1,
    Channel.VIDEO: 1,
    Channel.CALLBACK: 1,
    Channel.COBROWSE: 1,
    Channel.CHAT: 3,
    Channel.EMAIL: 2,
    Channel.VOICEMAIL: 2,
    Channel.WORKITEM: 2,
}


class Place(StrEnum):
    """Where a task is. A task is in exactly one place at any time.

    `new` only exists inside the processing of one event (between leaving a queue and entering the next,
    or ending): no task is left there once the event is processed.
    """

    NEW = "new"
    SCHEDULED = "scheduled"  # a scheduled call-back, not yet in its queue
    QUEUED = "queued"
    RESERVED = "reserved"  # offered to one agent, waiting for accept / refuse / timeout
    ASSIGNED = "assigned"
    WRAP_UP = "wrap_up"
    OUTSIDE = "outside"  # handed to an outside number that rings (a second-level office through the trunk)
    ENDED = "ended"


class Presence(StrEnum):
    """What the agent asked for; the displayed state also depends on the work in hand."""

    OFFLINE = "offline"
    READY = "ready"
    NOT_READY = "not_ready"


class AgentState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    NOT_READY = "not_ready"


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    BEST_SKILL = "best_skill"
    LEAST_OCCUPIED = "least_occupied"
    ROUND_ROBIN = "round_robin"


class Outcome(StrEnum):
    """Why a task ended."""

    COMPLETED = "completed"
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"
    REJECTED_CLOSED = "rejected_closed"
    REJECTED_FULL = "rejected_full"
    MAX_WAIT = "max_wait"
    CALLBACK = "callback"  # the caller left and a call-back task took its place
    TRANSFERRED = "transferred"  # handed in one step to a new task (another queue, or an outside number)
    ANSWERED_OUTSIDE = "answered_outside"  # the outside number it was handed to answered


@dataclass(slots=True)
class Task:
    """Any interaction of any channel, from arrival to its end."""

    id: str
    channel: Channel
    queue: str
    priority: int
    attributes: dict[str, str]
    required_skills: dict[str, int]
    created_at: float
    #: The time that orders service: kept when a refused offer puts the task back, and when a call-back
    #: replaces a waiting call.
    entered_at: float
    #: When the task entered its current queue; overflow steps and maximum wait count from here.
    queued_at: float
    seq: int
    place: Place = Place.NEW
    step: int = 0
    aging: int = 0
    agent: str | None = None
    offered_at: float | None = None
    offer_expires_at: float | None = None
    answered_at: float | None = None
    wrap_up_at: float | None = None
    ended_at: float | None = None
    outcome: Outcome | None = None
    not_before: float | None = None
    #: Agents that refused or missed this task: it is not offered to them again.
    refused_by: set[str] = field(default_factory=set)
    #: New at every change of place (a number the store never gave before), so that stale timers recognise
    #: themselves, even those of an earlier task of the same id.
    version: int = 0
    #: Where an agent transferred the caller: the task then ends `transferred`, not `completed`, when the
    #: agent's wrap-up ends. Set by the core alone (an attribute could be forged by whoever creates a task).
    transferred_to: str | None = None

    @property
    def effective_priority(self) -> int:
        return self.priority + self.aging


@dataclass(slots=True)
class Agent:
    """An agent's live record; its definition (skills, team, capacity) comes from the deployment."""

    id: str
    name: str
    team: str
    site: str
    skills: dict[str, int]
    unit_cost: dict[Channel, int]
    ordinal: int
    presence: Presence = Presence.OFFLINE
    reason: str | None = None
    state: AgentState = AgentState.OFFLINE
    #: When the agent entered its state; None while it never changed state since the start (offline).
    state_since: float | None = None
    used_units: int = 0
    reservation: str | None = None
    tasks: set[str] = field(default_factory=set)  # assigned or in wrap-up
    wrap_ups: set[str] = field(default_factory=set)
    missed_offers: int = 0
    idle_since: float = 0.0
    handled: int = 0
    busy_seconds: float = 0.0
    logged_in_at: float | None = None
    #: Queue id -> first overflow step at which this agent serves the queue.
    queue_steps: dict[str, int] = field(default_factory=dict)
    #: The node the agent's session goes through, where several share the state; its offers die with it.
    node: str | None = None
    #: Whether the agent's phone is registered: None where nothing says (no SIP endpoint); a phone
    #: that unregistered or whose registration lapsed (False) cannot be rung, so no call is offered.
    phone: bool | None = None
    #: Whether the agent's headset is plugged in: None where nothing says (no softphone reports it); an
    #: agent whose headset is unplugged (False) cannot hear a call, so none is offered.
    headset: bool | None = None

    def can_take(self, channel: Channel) -> bool:
        cost = self.unit_cost.get(channel, 0)
        if channel in PHONE_CHANNELS and (self.phone is False or self.headset is False):
            return False
        return cost > 0 and self.used_units + cost <= CAPACITY_UNITS

    @property
    def offerable(self) -> bool:
        """Ready, no offer pending and some capacity left: may be offered a task it can take."""
        return self.presence is Presence.READY and self.reservation is None and self.used_units < CAPACITY_UNITS

    def derived_state(self) -> AgentState:
        if self.presence is Presence.OFFLINE:
            return AgentState.OFFLINE
        if self.reservation is not None:
            return AgentState.RESERVED
        if len(self.tasks) > len(self.wrap_ups):
            return AgentState.BUSY
        if self.wrap_ups:
            return AgentState.WRAP_UP
        if self.presence is Presence.NOT_READY:
            return AgentState.NOT_READY
        return AgentState.AVAILABLE


def unit_costs(capacity: dict[Channel, int]) -> dict[Channel, int]:
    """Units one task of each channel costs, from the per-channel limits (0 = channel not handled)."""
    return {channel: (CAPACITY_UNITS // limit if limit else 0) for channel, limit in capacity.items()}

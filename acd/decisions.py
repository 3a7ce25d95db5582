"""What the queue core decides, one record per change: the drivers act on them and the journal keeps them.

Like Asterisk's queue_log, each record says what happened to which task, in which queue, with which
agent, when, and the wait and talk durations where they apply. The same record is the row that durable
history will store, so it carries only plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Mapping


class Kind(StrEnum):
    TASK_QUEUED = "task_queued"
    TASK_SCHEDULED = "task_scheduled"
    TASK_REJECTED = "task_rejected"
    TASK_MOVED = "task_moved"  # overflow to another queue (maximum wait or size, closed queue)
    TASK_OVERFLOW_STEP = "task_overflow_step"  # the set of eligible agents widened
    TASK_PRIORITY_AGED = "task_priority_aged"
    OFFERED = "offered"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_REFUSED = "offer_refused"
    OFFER_TIMED_OUT = "offer_timed_out"
    OFFER_REVOKED = "offer_revoked"  # the caller left, or the agent went not ready while offered
    TASK_COMPLETED = "task_completed"  # handled; wrap-up starts
    TASK_ENDED = "task_ended"
    CALLBACK_CREATED = "callback_created"
    AGENT_STATE = "agent_state"


#: Decisions a driver must carry out (ring a phone, stop ringing, tell the caller).
ACTIONS = frozenset({Kind.OFFERED, Kind.OFFER_REVOKED, Kind.OFFER_TIMED_OUT, Kind.TASK_REJECTED, Kind.TASK_ENDED})


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Kind
    at: float
    task: str | None = None
    queue: str | None = None
    agent: str | None = None
    channel: str | None = None
    #: Seconds the task waited (from its entry time) when answered, abandoned or rejected.
    wait: float | None = None
    #: Seconds from the answer: to completion on task_completed (talk time); to the end of wrap-up on a
    #: completed task_ended (handle time, talk + wrap-up, what the average handle time averages).
    talk: float | None = None
    reason: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict copies recursively and costs ten times as much, once per decision.
        return {
            "kind": self.kind.value,
            "at": self.at,
            "task": self.task,
            "queue": self.queue,
            "agent": self.agent,
            "channel": self.channel,
            "wait": self.wait,
            "talk": self.talk,
            "reason": self.reason,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Decision:
        """The decision `as_dict` gave (read back from a shared event stream)."""
        fields = dict(record)
        fields["kind"] = Kind(fields["kind"])
        return cls(**fields)

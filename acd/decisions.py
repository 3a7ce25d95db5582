"""What the queue core decides, one record per change: the drivers act on them and the journal keeps them.

Like Asterisk's queue_log, each record says what happened to which task, in which queue, with which
agent, when, and the wait and talk durations where they apply. The same record is the row that durable
history will store, so it carries only plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
    TASK_TRANSFERRED = "task_transferred"  # handed in one step to a new task (data: to, new_task)
    TASK_DIALLING = "task_dialling"  # a new task rings an outside number (data: number, transferred_from)
    TASK_NOTED = "task_noted"  # a key pressed, a recording, a call's media lost: nothing moves
    AGENT_STATE = "agent_state"
    LOGIN_FAILED = "login_failed"  # the API refused a log-in: wrong user or password (data: user, address)
    LOGIN_REFUSED = "login_refused"  # too many failures (reason: user or address limit); once per window


#: Decisions a driver must carry out (ring a phone, stop ringing, tell the caller).
ACTIONS = frozenset(
    {
        Kind.OFFERED,
        Kind.OFFER_REVOKED,
        Kind.OFFER_TIMED_OUT,
        Kind.TASK_REJECTED,
        Kind.TASK_ENDED,
        Kind.TASK_TRANSFERRED,
        Kind.TASK_DIALLING,
        Kind.TASK_QUEUED,
    }
)


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
        return dict(zip(_FIELDS, self.as_row()))

    def as_row(self) -> list[Any]:
        """The values in the order of the fields: how a shared change stream carries the decision (a
        third of the bytes of `as_dict`, and cheaper to build and to encode, once per decision). By hand:
        dataclasses.astuple copies recursively and costs ten times as much."""
        return [
            self.kind.value, self.at, self.task, self.queue, self.agent, self.channel, self.wait, self.talk,
            self.reason, dict(self.data),
        ]  # fmt: skip

    @classmethod
    def from_row(cls, row: list[Any]) -> Decision:
        """The decision `as_row` gave (read back from a shared change stream)."""
        if not isinstance(row, list) or len(row) != len(_FIELDS):
            raise ValueError(f"a decision is a list of {len(_FIELDS)} values")
        kind, *rest = row
        return cls(Kind(kind), *rest)


_FIELDS = tuple(Decision.__dataclass_fields__)

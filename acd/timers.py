"""Timers as data: what is due when, kept in the store so that whoever processes the store fires them.

A timer names its subject and the subject's version when it was set; a timer whose subject has moved on
since (answered, abandoned, re-queued) is stale and firing it does nothing. Cancelling is therefore free.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TimerKind(StrEnum):
    OFFER_TIMEOUT = "offer_timeout"
    WRAP_UP_END = "wrap_up_end"
    OVERFLOW_STEP = "overflow_step"
    AGING = "aging"
    MAX_WAIT = "max_wait"
    SCHEDULED_ENTRY = "scheduled_entry"
    OUTSIDE_RING_TIMEOUT = "outside_ring_timeout"  # nobody said how the outside number's ringing ended
    FORGET = "forget"  # an ended task leaves the live state; its history stays in the event log


@dataclass(frozen=True, slots=True, order=True)
class Timer:
    due: float
    seq: int
    kind: TimerKind
    task_id: str
    version: int

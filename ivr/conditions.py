"""What a branch asks of the centre (`Facts`) and whether a branch's condition holds, at a given time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ivr.flow import Condition, fill


class Facts(Protocol):
    """What a branch may ask of the centre, at `now` (seconds since the epoch)."""

    def is_open(self, calendar: str, now: float) -> bool: ...

    def is_holiday(self, calendar: str, now: float) -> bool: ...

    def estimated_wait(self, queue: str, now: float) -> float | None: ...

    def agents_logged_in(self, queue: str, now: float) -> int: ...


def holds(
    condition: Condition, facts: Facts, attributes: Mapping[str, str], values: Mapping[str, str], now: float
) -> bool:
    """Whether every part of `condition` holds for a call with `attributes` at `now`; queue names are
    filled from `values` (the dialled number's attributes)."""
    checks: list[bool] = []
    if condition.open is not None:
        checks.append(facts.is_open(condition.open, now))
    if condition.closed is not None:
        checks.append(not facts.is_open(condition.closed, now))
    if condition.holiday is not None:
        checks.append(facts.is_holiday(condition.holiday, now))
    for name, wanted in (condition.attribute or {}).items():
        value = attributes.get(name)
        checks.append(value in wanted if isinstance(wanted, list) else value == wanted)
    if condition.wait_above is not None:
        wait = facts.estimated_wait(fill(condition.wait_above.queue, values), now)
        checks.append(wait is None or wait > condition.wait_above.seconds)
    if condition.agents_below is not None:
        logged_in = facts.agents_logged_in(fill(condition.agents_below.queue, values), now)
        checks.append(logged_in < condition.agents_below.count)
    return all(checks)

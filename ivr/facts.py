"""What a flow's branches ask of the centre, answered from small queries on the queue core (no I/O here).

ivr/ does not know the core's service: `CentreFacts` takes what it needs as a `QueueQueries` and the
calendars as opening-hours objects, both built by the composition root. `CentreFacts.of_service` adapts
any object with the service's two queries (`acd.service.AcdService` is one) without importing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class QueueQueries(Protocol):
    """The two questions a branch asks about a queue, as the core answers them now."""

    def estimated_wait(self, queue: str) -> float | None:
        """Seconds a caller arriving now would wait; None when nobody serves the queue."""
        ...

    def agents_serving(self, queue: str) -> int:
        """Agents logged in who serve the queue."""
        ...


class Calendar(Protocol):
    """Opening hours (acd.calendar.OpeningHours is one): open at `now`, or why closed."""

    def is_open(self, now: float) -> bool: ...

    def closed_reason(self, now: float) -> str | None: ...


class Estimate(Protocol):
    @property
    def seconds(self) -> float | None: ...


class ArrivalEstimates(Protocol):
    """What the core's service answers (acd.service.AcdService): the estimate of a task entering a queue
    now, and the agents serving it."""

    def estimate_arrival(self, queue: str) -> Estimate: ...

    def agents_serving(self, queue: str) -> int: ...


@dataclass(frozen=True, slots=True)
class ServiceQueries:
    """`QueueQueries` answered by the core's service."""

    service: ArrivalEstimates

    def estimated_wait(self, queue: str) -> float | None:
        return self.service.estimate_arrival(queue).seconds

    def agents_serving(self, queue: str) -> int:
        return self.service.agents_serving(queue)


class CentreFacts:
    """The interpreter's `Facts` for a running centre: `calendars` by id, and the queues' `queues`."""

    def __init__(self, queues: QueueQueries, calendars: Mapping[str, Calendar]) -> None:
        self.queues = queues
        self.calendars = dict(calendars)

    @classmethod
    def of_service(cls, service: ArrivalEstimates, calendars: Mapping[str, Calendar]) -> CentreFacts:
        """Facts answered by the core's service (the composition root passes it, with the calendars)."""
        return cls(ServiceQueries(service), calendars)

    def is_open(self, calendar: str, now: float) -> bool:
        return self.calendars[calendar].is_open(now)

    def is_holiday(self, calendar: str, now: float) -> bool:
        return (self.calendars[calendar].closed_reason(now) or "").startswith("holiday:")

    def estimated_wait(self, queue: str, now: float) -> float | None:
        return self.queues.estimated_wait(queue)

    def agents_logged_in(self, queue: str, now: float) -> int:
        return self.queues.agents_serving(queue)

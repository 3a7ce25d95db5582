"""What a flow's branches ask of the centre, read from the queue core's state (no I/O)."""

from __future__ import annotations

from acd.calendar import OpeningHours
from acd.service import AcdService
from acd.topology import opening_hours


class CentreFacts:
    """The interpreter's `Facts` for a running centre: its calendars, estimated waits and agents."""

    def __init__(self, service: AcdService) -> None:
        self.service = service
        settings = service.deployment.settings
        self.calendars: dict[str, OpeningHours] = {
            calendar.id: opening_hours(calendar, settings.timezone) for calendar in service.deployment.calendars
        }

    def is_open(self, calendar: str, now: float) -> bool:
        return self.calendars[calendar].is_open(now)

    def is_holiday(self, calendar: str, now: float) -> bool:
        return (self.calendars[calendar].closed_reason(now) or "").startswith("holiday:")

    def estimated_wait(self, queue: str, now: float) -> float | None:
        return self.service.estimate_arrival(queue).seconds

    def agents_logged_in(self, queue: str, now: float) -> int:
        return self.service.agents_serving(queue)

"""Opening hours and French public holidays. Pure: every time is passed in as POSIX seconds."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Interval = tuple[time, time]
SEARCH_DAYS = 400
_INTERVAL = re.compile(r"^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$")  # ASCII digits only


class CalendarError(ValueError):
    """A calendar that cannot be: bad interval, unknown time zone."""


def easter_sunday(year: int) -> date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return date(year, month, day)


@lru_cache(maxsize=64)
def french_public_holidays(year: int) -> dict[date, str]:
    """The eleven public holidays of metropolitan France; the Easter-based ones computed.

    Two may fall on one date (Ascension on 1 May in 2008, on 8 May in 1997): that date names both.
    """
    easter = easter_sunday(year)
    holidays: dict[date, str] = {}
    for day, name in (
        (date(year, 1, 1), "Jour de l'an"),
        (easter + timedelta(days=1), "Lundi de Pâques"),
        (date(year, 5, 1), "Fête du Travail"),
        (date(year, 5, 8), "Victoire 1945"),
        (easter + timedelta(days=39), "Ascension"),
        (easter + timedelta(days=50), "Lundi de Pentecôte"),
        (date(year, 7, 14), "Fête nationale"),
        (date(year, 8, 15), "Assomption"),
        (date(year, 11, 1), "Toussaint"),
        (date(year, 11, 11), "Armistice"),
        (date(year, 12, 25), "Noël"),
    ):
        holidays[day] = f"{holidays[day]} et {name}" if day in holidays else name
    return holidays


def parse_interval(text: str) -> Interval:
    """ "08:30-18:00" -> (08:30, 18:00); "24:00" is allowed as a closing time (end of day)."""
    match = _INTERVAL.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise CalendarError(f"interval {text!r} is not of the form HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise CalendarError(f"interval {text!r} has a time out of range")
    opening = time(h1, m1)
    closing = time.max if h2 == 24 else time(h2, m2)
    if closing <= opening:
        raise CalendarError(f"interval {text!r} closes before it opens")
    return opening, closing


def _check(intervals: Sequence[Interval], where: str) -> tuple[Interval, ...]:
    ordered = tuple(sorted(intervals))
    for (o1, c1), (o2, _) in itertools.pairwise(ordered):
        if o2 < c1:
            raise CalendarError(f"{where}: intervals overlap")
    for opening, closing in ordered:
        if closing <= opening:
            raise CalendarError(f"{where}: an interval closes before it opens")
    return ordered


@dataclass(frozen=True)
class OpeningHours:
    weekly: Mapping[int, Sequence[Interval]]
    timezone: str
    public_holidays: bool = True
    closed_dates: frozenset[date] = frozenset()
    open_dates: Mapping[date, Sequence[Interval]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {self.timezone!r}") from exc
        object.__setattr__(self, "_zone", zone)
        weekly = {day: _check(v, f"weekday {day}") for day, v in self.weekly.items() if 0 <= day <= 6}
        if len(weekly) != len(self.weekly):
            raise CalendarError("weekdays are numbered 0 (Monday) to 6 (Sunday)")
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "open_dates", {d: _check(v, str(d)) for d, v in self.open_dates.items()})

    def _local(self, now: float) -> datetime:
        return datetime.fromtimestamp(now, self._zone)  # type: ignore[attr-defined]

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        if day in self.open_dates:
            return tuple(self.open_dates[day])
        if day in self.closed_dates:
            return ()
        if self.public_holidays and day in french_public_holidays(day.year):
            return ()
        return tuple(self.weekly.get(day.weekday(), ()))

    def is_open(self, now: float) -> bool:
        local = self._local(now)
        moment = local.time().replace(tzinfo=None)
        # "24:00" is stored as time.max (23:59:59.999999): that last microsecond is still open.
        return any(o <= moment and (moment < c or c == time.max) for o, c in self.intervals_on(local.date()))

    def closed_reason(self, now: float) -> str | None:
        if self.is_open(now):
            return None
        day = self._local(now).date()
        if day in self.open_dates:
            return "outside_hours"
        if day in self.closed_dates:
            return "closed_date"
        if self.public_holidays and day in french_public_holidays(day.year):
            return "holiday:" + french_public_holidays(day.year)[day]
        return "outside_hours"

    def _instants(self, day: date, wall: time) -> list[float]:
        """Every instant the local clock may cross `wall` on `day`: once on an ordinary day; on a DST day
        also the clock change itself, when `wall` is skipped (spring) or repeated (autumn)."""
        if wall == time.max:
            return self._instants(day + timedelta(days=1), time(0))
        zone = self._zone  # type: ignore[attr-defined]
        early, late = sorted(datetime.combine(day, wall.replace(fold=f), zone).timestamp() for f in (0, 1))
        if early == late:
            return [early]
        # The UTC offset changes between the two readings; tz transitions fall on whole seconds.
        after = self._local(late).utcoffset()
        low, high = int(early), int(late)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if self._local(middle).utcoffset() == after else (middle, high)
        return [early, float(high), late]

    def _edges(self, day: date) -> list[float]:
        edges: list[float] = []
        for opening, closing in self.intervals_on(day):
            edges += self._instants(day, opening) + self._instants(day, closing)
        return sorted(edges)

    def next_change(self, now: float) -> float | None:
        """The next moment, strictly after now, when open turns closed or closed turns open."""
        state = self.is_open(now)
        start = self._local(now).date()
        for offset in range(SEARCH_DAYS):
            for edge in self._edges(start + timedelta(days=offset)):
                if edge > now and self.is_open(edge) != state:
                    return edge
        return None

    def next_opening(self, now: float) -> float | None:
        if self.is_open(now):
            return now
        return self.next_change(now)


class OpenNow:
    """Whether some opening hours are open, computed once per opening or closing: an arrival then costs
    no calendar work (finding the next change scans days and clock changes)."""

    def __init__(self, hours: OpeningHours) -> None:
        self.hours = hours
        self._since, self._until, self._open = float("inf"), float("-inf"), False

    def is_open(self, now: float) -> bool:
        if not self._since <= now < self._until:
            self._open = self.hours.is_open(now)
            until = self.hours.next_change(now)
            self._since, self._until = now, until if until is not None else float("inf")
        return self._open

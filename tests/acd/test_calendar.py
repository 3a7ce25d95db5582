"""Opening hours and French public holidays on their pure interface: instants in, answers out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.calendar import (
    CalendarError,
    Interval,
    OpeningHours,
    OpenNow,
    easter_sunday,
    french_public_holidays,
    parse_interval,
)

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS_0830_1800 = {day: [parse_interval("08:30-18:00")] for day in range(5)}


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """POSIX seconds of a wall-clock reading in Paris (fold=0: the first of a repeated hour)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS).timestamp()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def office(**overrides: Any) -> OpeningHours:
    """Monday to Friday, 08:30-18:00 in Paris, French public holidays closed."""
    return OpeningHours(**{"weekly": WEEKDAYS_0830_1800, "timezone": "Europe/Paris", **overrides})


# --- Easter and the public holidays -----------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (1818, date(1818, 3, 22)),  # earliest possible Easter
        (1997, date(1997, 3, 30)),
        (2008, date(2008, 3, 23)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),  # latest possible Easter
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter_sunday(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected
    assert expected.weekday() == 6


def test_french_public_holidays_2026() -> None:
    assert french_public_holidays(2026) == {
        date(2026, 1, 1): "Jour de l'an",
        date(2026, 4, 6): "Lundi de Pâques",
        date(2026, 5, 1): "Fête du Travail",
        date(2026, 5, 8): "Victoire 1945",
        date(2026, 5, 14): "Ascension",
        date(2026, 5, 25): "Lundi de Pentecôte",
        date(2026, 7, 14): "Fête nationale",
        date(2026, 8, 15): "Assomption",
        date(2026, 11, 1): "Toussaint",
        date(2026, 11, 11): "Armistice",
        date(2026, 12, 25): "Noël",
    }


def test_easter_based_holidays_fall_on_their_weekdays() -> None:
    for year in range(1900, 2100):
        holidays = {name: day for day, names in french_public_holidays(year).items() for name in names.split(" et ")}
        assert holidays["Lundi de Pâques"].weekday() == 0
        assert holidays["Lundi de Pentecôte"].weekday() == 0
        assert holidays["Ascension"].weekday() == 3


def test_ascension_on_labour_day_is_still_a_closed_day() -> None:
    # 2008: Easter 23 March, so Ascension is 1 May: one date, both names; 1997: Ascension on 8 May.
    assert french_public_holidays(2008)[date(2008, 5, 1)] == "Fête du Travail et Ascension"
    assert french_public_holidays(1997)[date(1997, 5, 8)] == "Victoire 1945 et Ascension"
    hours = office()
    assert not hours.is_open(paris(2008, 5, 1, 10, 0))
    assert hours.closed_reason(paris(2008, 5, 1, 10, 0)) == "holiday:Fête du Travail et Ascension"


# --- parse_interval ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:30-18:00", (time(8, 30), time(18, 0))),
        ("00:00-00:01", (time(0, 0), time(0, 1))),
        ("13:30-24:00", (time(13, 30), time.max)),  # "24:00": the end of the day
        ("00:00-24:00", (time(0, 0), time.max)),
        ("  09:00-12:00\n", (time(9, 0), time(12, 0))),
    ],
)
def test_parse_interval(text: str, expected: Interval) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8:30-18:00", "interval '8:30-18:00' is not of the form HH:MM-HH:MM"),
        ("08:30 - 18:00", "interval '08:30 - 18:00' is not of the form HH:MM-HH:MM"),
        ("08h30-18h00", "interval '08h30-18h00' is not of the form HH:MM-HH:MM"),
        ("08:30", "interval '08:30' is not of the form HH:MM-HH:MM"),
        ("", "interval '' is not of the form HH:MM-HH:MM"),
        ("08:30-25:00", "interval '08:30-25:00' has a time out of range"),
        ("08:60-18:00", "interval '08:60-18:00' has a time out of range"),
        ("08:00-18:60", "interval '08:00-18:60' has a time out of range"),
        ("24:00-24:00", "interval '24:00-24:00' has a time out of range"),
        ("08:00-24:30", "interval '08:00-24:30' has a time out of range"),
        ("\u0660\u0668:30-18:00", "interval '\u0660\u0668:30-18:00' is not of the form HH:MM-HH:MM"),  # Arabic-Indic
        ("18:00-08:30", "interval '18:00-08:30' closes before it opens"),
        ("08:30-08:30", "interval '08:30-08:30' closes before it opens"),
    ],
)
def test_parse_interval_refuses(text: str, message: str) -> None:
    with pytest.raises(CalendarError) as info:
        parse_interval(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (830, "interval 830 is not of the form HH:MM-HH:MM"),
        (None, "interval None is not of the form HH:MM-HH:MM"),
        (b"08:30-18:00", "interval b'08:30-18:00' is not of the form HH:MM-HH:MM"),
    ],
)
def test_parse_interval_refuses_what_is_not_a_string(value: object, message: str) -> None:
    with pytest.raises(CalendarError) as info:
        parse_interval(cast(str, value))
    assert str(info.value) == message


def test_calendar_error_is_a_value_error() -> None:
    assert issubclass(CalendarError, ValueError)


# --- OpeningHours: building -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Europe/Lons-le-Saunier"}, "unknown time zone 'Europe/Lons-le-Saunier'"),
        ({"timezone": ""}, "unknown time zone ''"),
        ({"timezone": "../etc/passwd"}, "unknown time zone '../etc/passwd'"),
        ({"weekly": {7: [parse_interval("08:30-18:00")]}}, "weekdays are numbered 0 (Monday) to 6 (Sunday)"),
        ({"weekly": {-1: []}}, "weekdays are numbered 0 (Monday) to 6 (Sunday)"),
        (
            {"weekly": {2: [parse_interval("08:00-12:00"), parse_interval("11:30-14:00")]}},
            "weekday 2: intervals overlap",
        ),
        ({"weekly": {0: [(time(18), time(8))]}}, "weekday 0: an interval closes before it opens"),
        (
            {"open_dates": {date(2026, 12, 24): [parse_interval("09:00-12:00"), parse_interval("08:00-10:00")]}},
            "2026-12-24: intervals overlap",
        ),
    ],
)
def test_opening_hours_refuses(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(CalendarError) as info:
        office(**fields)
    assert str(info.value) == message


def test_unknown_time_zone_keeps_the_zoneinfo_cause() -> None:
    with pytest.raises(CalendarError) as info:
        office(timezone="Mars/Olympus_Mons")
    assert info.value.__cause__ is not None


def test_intervals_are_kept_sorted_and_adjacent_ones_allowed() -> None:
    hours = office(weekly={0: [parse_interval("14:00-18:00"), parse_interval("08:30-14:00")]})
    assert hours.intervals_on(date(2026, 11, 23)) == (
        (time(8, 30), time(14, 0)),
        (time(14, 0), time(18, 0)),
    )
    assert hours.is_open(paris(2026, 11, 23, 14, 0))
    assert hours.next_change(paris(2026, 11, 23, 9, 0)) == paris(2026, 11, 23, 18, 0)


# --- OpeningHours: is_open and closed_reason --------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "is_open", "reason"),
    [
        (paris(2026, 11, 23, 8, 29, 59), False, "outside_hours"),  # Monday, just before opening
        (paris(2026, 11, 23, 8, 30), True, None),  # half-open interval: the opening minute is in
        (paris(2026, 11, 23, 12, 0), True, None),
        (paris(2026, 11, 23, 17, 59, 59), True, None),
        (paris(2026, 11, 23, 18, 0), False, "outside_hours"),  # and the closing one out
        (paris(2026, 11, 28, 10, 0), False, "outside_hours"),  # Saturday: a weekend is outside hours
        (paris(2026, 11, 29, 10, 0), False, "outside_hours"),  # Sunday
        (paris(2026, 5, 14, 10, 0), False, "holiday:Ascension"),
        (paris(2026, 4, 6, 10, 0), False, "holiday:Lundi de Pâques"),
        (paris(2026, 12, 25, 10, 0), False, "holiday:Noël"),
        (paris(2026, 11, 11, 10, 0), False, "holiday:Armistice"),
        (paris(2026, 11, 1, 10, 0), False, "holiday:Toussaint"),  # a Sunday: named for the holiday
    ],
)
def test_is_open_and_closed_reason(instant: float, is_open: bool, reason: str | None) -> None:
    hours = office()
    assert hours.is_open(instant) is is_open
    assert hours.closed_reason(instant) == reason


def test_half_open_to_the_microsecond() -> None:
    hours = office()
    assert not hours.is_open(paris(2026, 11, 23, 8, 30) - 1e-6)
    assert hours.is_open(paris(2026, 11, 23, 18, 0) - 1e-6)


def test_hours_are_read_in_the_calendar_time_zone() -> None:
    # 08:30 in Paris is 07:30 UTC in winter; the same instant is 02:30 in New York (closed there).
    instant = utc(2026, 11, 23, 7, 30)
    assert office().is_open(instant)
    assert not office(timezone="America/New_York").is_open(instant)
    assert office(timezone="America/New_York").is_open(utc(2026, 11, 23, 13, 30))


def test_without_public_holidays_a_holiday_is_an_ordinary_day() -> None:
    hours = office(public_holidays=False)
    assert hours.is_open(paris(2026, 5, 14, 10, 0))
    assert hours.closed_reason(paris(2026, 5, 14, 20, 0)) == "outside_hours"


def test_closed_dates() -> None:
    hours = office(closed_dates=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    assert not hours.is_open(paris(2026, 12, 24, 10, 0))
    assert hours.closed_reason(paris(2026, 12, 24, 10, 0)) == "closed_date"
    assert hours.closed_reason(paris(2026, 12, 25, 10, 0)) == "closed_date"  # the closure wins the name
    assert hours.closed_reason(paris(2026, 12, 23, 10, 0)) is None


def test_open_dates_override_weekends_holidays_and_closures() -> None:
    hours = office(
        closed_dates=frozenset({date(2026, 5, 14)}),
        open_dates={date(2026, 5, 14): [parse_interval("09:00-12:00")], date(2026, 11, 28): []},
    )
    assert hours.is_open(paris(2026, 5, 14, 9, 0))
    assert not hours.is_open(paris(2026, 5, 14, 12, 0))
    assert hours.closed_reason(paris(2026, 5, 14, 12, 0)) == "outside_hours"
    assert hours.intervals_on(date(2026, 11, 28)) == ()
    assert hours.next_opening(paris(2026, 5, 13, 18, 30)) == paris(2026, 5, 14, 9, 0)
    assert hours.next_change(paris(2026, 5, 14, 9, 0)) == paris(2026, 5, 14, 12, 0)


def test_24_00_is_open_until_midnight_to_the_last_microsecond() -> None:
    every_day = OpeningHours({day: [parse_interval("00:00-24:00")] for day in range(7)}, "Europe/Paris")
    last = paris(2026, 6, 3, 23, 59, 59) + 0.999999
    assert every_day.is_open(last)
    assert every_day.closed_reason(last) is None
    # Open without a break until Bastille Day, 00:00 in Paris (22:00 UTC the day before).
    assert every_day.next_change(last) == utc(2026, 7, 13, 22, 0)
    evenings = OpeningHours({0: [parse_interval("18:00-24:00")]}, "Europe/Paris")
    assert evenings.is_open(paris(2026, 11, 23, 23, 59, 59) + 0.999999)
    assert not evenings.is_open(paris(2026, 11, 24, 0, 0))
    assert evenings.next_change(paris(2026, 11, 23, 20, 0)) == paris(2026, 11, 24, 0, 0)


# --- next_change and next_opening -------------------------------------------------------------


def test_next_change_is_strictly_after_now() -> None:
    hours = office()
    assert hours.next_change(paris(2026, 11, 23, 8, 30)) == paris(2026, 11, 23, 18, 0)
    assert hours.next_change(paris(2026, 11, 23, 18, 0)) == paris(2026, 11, 24, 8, 30)
    assert hours.next_change(paris(2026, 11, 23, 7, 0)) == paris(2026, 11, 23, 8, 30)


def test_next_opening_is_now_when_open() -> None:
    hours = office()
    now = paris(2026, 11, 23, 10, 0) + 0.25
    assert hours.next_opening(now) == now


def test_friday_evening_to_monday_morning() -> None:
    # Friday 20 November 2026, 18:30 -> Monday 23 November 08:30 (CET, UTC+1).
    assert office().next_opening(paris(2026, 11, 20, 18, 30)) == utc(2026, 11, 23, 7, 30)


def test_across_ascension_thursday() -> None:
    hours = office()
    # Wednesday 13 May 2026 closes at 18:00 CEST; Thursday 14 is Ascension; Friday 15 opens.
    assert hours.next_change(paris(2026, 5, 13, 10, 0)) == utc(2026, 5, 13, 16, 0)
    assert hours.next_opening(paris(2026, 5, 13, 18, 30)) == utc(2026, 5, 15, 6, 30)
    assert hours.next_opening(paris(2026, 5, 14, 10, 0)) == utc(2026, 5, 15, 6, 30)
    # Thursday 7 May 18:30 -> Friday 8 May is Victoire 1945 -> Monday 11 May.
    assert hours.next_opening(paris(2026, 5, 7, 18, 30)) == utc(2026, 5, 11, 6, 30)


def test_across_the_spring_clock_change() -> None:
    hours = office()
    # Friday 27 March 2026 closes at 18:00 CET = 17:00 UTC; clocks go forward on Sunday 29;
    # Monday 30 March opens at 08:30 CEST = 06:30 UTC.
    assert hours.next_change(paris(2026, 3, 27, 10, 0)) == utc(2026, 3, 27, 17, 0)
    assert hours.next_opening(paris(2026, 3, 27, 18, 30)) == utc(2026, 3, 30, 6, 30)


def test_across_the_autumn_clock_change() -> None:
    hours = office()
    # Friday 23 October 2026 closes at 18:00 CEST = 16:00 UTC; clocks go back on Sunday 25;
    # Monday 26 October opens at 08:30 CET = 07:30 UTC.
    assert hours.next_change(paris(2026, 10, 23, 10, 0)) == utc(2026, 10, 23, 16, 0)
    assert hours.next_opening(paris(2026, 10, 23, 18, 30)) == utc(2026, 10, 26, 7, 30)


def test_a_day_open_around_the_clock_on_the_clock_changes() -> None:
    sundays = OpeningHours({6: [parse_interval("00:00-24:00")]}, "Europe/Paris")
    # 29 March 2026 lasts 23 hours: 00:00 CET (23:00 UTC) to 00:00 CEST (22:00 UTC).
    assert sundays.next_opening(paris(2026, 3, 28, 12, 0)) == utc(2026, 3, 28, 23, 0)
    assert sundays.next_change(utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 29, 22, 0)
    # 25 October 2026 lasts 25 hours: 00:00 CEST (22:00 UTC) to 00:00 CET (23:00 UTC).
    assert sundays.next_opening(paris(2026, 10, 24, 12, 0)) == utc(2026, 10, 24, 22, 0)
    assert sundays.next_change(utc(2026, 10, 25, 1, 0)) == utc(2026, 10, 25, 23, 0)


def test_an_opening_in_the_skipped_spring_hour_happens_when_the_clock_jumps() -> None:
    # 29 March 2026: 02:00 CET (01:00 UTC) becomes 03:00 CEST, so 02:30 never shows on the clock;
    # a queue opening at 02:30 is open from the jump on.
    hours = OpeningHours({6: [parse_interval("02:30-05:00")]}, "Europe/Paris")
    assert not hours.is_open(utc(2026, 3, 29, 0, 59, 59))
    assert hours.is_open(utc(2026, 3, 29, 1, 0))
    assert hours.next_change(utc(2026, 3, 29, 0, 0)) == utc(2026, 3, 29, 1, 0)
    assert hours.next_opening(utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 0)
    assert hours.next_change(utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 29, 3, 0)  # 05:00 CEST


def test_a_closing_in_the_skipped_spring_hour_happens_when_the_clock_jumps() -> None:
    hours = OpeningHours({6: [parse_interval("01:00-02:30")]}, "Europe/Paris")
    assert hours.is_open(utc(2026, 3, 29, 0, 59, 59))
    assert not hours.is_open(utc(2026, 3, 29, 1, 0))
    assert hours.next_change(utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 1, 0)


def test_the_repeated_autumn_hour_opens_twice() -> None:
    # 25 October 2026: 03:00 CEST (01:00 UTC) becomes 02:00 CET, so 02:00-02:59 shows twice.
    hours = OpeningHours({6: [parse_interval("01:00-02:30")]}, "Europe/Paris")
    opens, closes, reopens, closes_again = (
        utc(2026, 10, 24, 23, 0),  # 01:00 CEST
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 1, 0),  # 02:00 CET, the clock going back
        utc(2026, 10, 25, 1, 30),  # 02:30 CET
    )
    assert hours.next_opening(utc(2026, 10, 24, 12, 0)) == opens
    assert hours.next_change(opens) == closes
    assert hours.next_change(closes) == reopens
    assert hours.is_open(reopens)
    assert hours.next_change(reopens) == closes_again
    assert hours.next_opening(closes_again) == paris(2026, 11, 8, 1, 0)  # 1 November is Toussaint


def test_never_open_gives_none() -> None:
    never = OpeningHours({}, "Europe/Paris")
    assert never.next_change(paris(2026, 1, 1)) is None
    assert never.next_opening(paris(2026, 1, 1)) is None
    assert never.closed_reason(paris(2026, 1, 2, 10, 0)) == "outside_hours"


# --- Properties against a naive recomputation -------------------------------------------------

#: Independent of easter_sunday: the Easter Sundays of the years the property visits.
EASTERS = {
    2023: date(2023, 4, 9),
    2024: date(2024, 3, 31),
    2025: date(2025, 4, 20),
    2026: date(2026, 4, 5),
    2027: date(2027, 3, 28),
    2028: date(2028, 4, 16),
    2029: date(2029, 4, 1),
    2030: date(2030, 4, 21),
    2031: date(2031, 4, 13),
}
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
HOLIDAYS = {date(year, month, day) for year in EASTERS for month, day in FIXED_HOLIDAYS} | {
    easter + timedelta(days=shift)
    for easter in EASTERS.values()
    for shift in (1, 39, 50)  # Monday, Ascension, Whit
}
ZONES = ("Europe/Paris", "America/New_York", "UTC")
SLOT = 1800  # every boundary is on a half hour, and these zones' offsets and clock changes too
FIRST, LAST = int(utc(2024, 1, 1)), int(utc(2030, 12, 31, 12))


@cache
def clock_changes(zone: str) -> tuple[int, ...]:
    """The instants the zone's clocks changed, 2024-2030 (on the hour, in these zones)."""
    tz = ZoneInfo(zone)
    start = datetime(2024, 1, 1, tzinfo=UTC)

    def offset(hours: int) -> timedelta | None:
        return (start + timedelta(hours=hours)).astimezone(tz).utcoffset()

    days = [day for day in range(7 * 366) if offset(24 * day) != offset(24 * day + 24)]
    return tuple(
        int((start + timedelta(hours=hour)).timestamp())
        for day in days
        for hour in range(24 * day + 1, 24 * day + 25)
        if offset(hour) != offset(hour - 1)
    )


Slots = tuple[tuple[int, int], ...]  # half-open intervals in half hours since midnight, 48 = 24:00


@dataclass(frozen=True)
class Case:
    zone: str
    now: float
    weekly: Mapping[int, Slots]
    public_holidays: bool
    closed_dates: frozenset[date]
    open_dates: Mapping[date, Slots]

    def hours(self) -> OpeningHours:
        return OpeningHours(
            weekly={day: _intervals(slots) for day, slots in self.weekly.items()},
            timezone=self.zone,
            public_holidays=self.public_holidays,
            closed_dates=self.closed_dates,
            open_dates={day: _intervals(slots) for day, slots in self.open_dates.items()},
        )

    def naive_is_open(self, instant: float) -> bool:
        local = datetime.fromtimestamp(instant, ZoneInfo(self.zone))
        day = local.date()
        if day in self.open_dates:
            slots: Sequence[tuple[int, int]] = self.open_dates[day]
        elif day in self.closed_dates or (self.public_holidays and day in HOLIDAYS):
            slots = ()
        else:
            slots = self.weekly.get(day.weekday(), ())
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return any(start * SLOT <= second < end * SLOT for start, end in slots)


def _text(slot: int) -> str:
    return f"{slot // 2:02d}:{slot % 2 * 30:02d}"


def _intervals(slots: Slots) -> list[Interval]:
    return [parse_interval(f"{_text(start)}-{_text(end)}") for start, end in slots]


@st.composite
def day_slots(draw: st.DrawFn) -> Slots:
    """Sorted half-hour cuts paired up: never overlapping, sometimes adjacent, sometimes 24:00,
    often in 01:30-03:00, where the clocks change."""
    cuts = sorted(draw(st.lists(st.one_of(st.integers(0, 48), st.integers(3, 6)), max_size=6)))
    return tuple((a, b) for a, b in zip(cuts[::2], cuts[1::2]) if a < b)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    near_a_clock_change = st.builds(
        lambda change, shift: change + shift,
        st.sampled_from(clock_changes(zone) or (FIRST,)),
        st.integers(-12 * 3600, 2 * 3600),
    )
    second = draw(st.one_of(st.integers(FIRST, LAST), near_a_clock_change))
    now = second + draw(st.sampled_from((0, 0, 999_999, draw(st.integers(0, 999_999))))) / 1e6
    today = datetime.fromtimestamp(now, ZoneInfo(zone)).date()
    nearby = st.builds(lambda shift: today + timedelta(days=shift), st.integers(-1, 6))
    return Case(
        zone=zone,
        now=now,
        weekly={day: draw(day_slots()) for day in draw(st.sets(st.integers(0, 6)))},
        public_holidays=draw(st.booleans()),
        closed_dates=frozenset(draw(st.sets(nearby, max_size=3))),
        open_dates=draw(st.dictionaries(nearby, day_slots(), max_size=2)),
    )


def _midpoints(start: float, end: float) -> range:
    """The middle of every half hour (UTC grid) that overlaps (start, end)."""
    first = int(start // SLOT) * SLOT + SLOT // 2
    return range(first if first > start else first + SLOT, int(end), SLOT)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_is_open_agrees_with_a_naive_recomputation(case: Case) -> None:
    hours = case.hours()
    expected = case.naive_is_open(case.now)
    assert hours.is_open(case.now) is expected
    assert (hours.closed_reason(case.now) is None) is expected


@settings(max_examples=300, deadline=None)
@given(cases())
def test_next_change_and_next_opening(case: Case) -> None:
    hours = case.hours()
    state = case.naive_is_open(case.now)
    change = hours.next_change(case.now)
    if change is None:
        # Nothing changes within the search horizon: check the next fortnight stays as it is.
        assert all(case.naive_is_open(m) is state for m in _midpoints(case.now, case.now + 14 * 86400))
    else:
        assert change > case.now
        assert change % SLOT == 0  # an exact edge, not somewhere after it
        assert case.naive_is_open(change) is not state
        assert all(case.naive_is_open(m) is state for m in _midpoints(case.now, change))
    opening = hours.next_opening(case.now)
    if state:
        assert opening == case.now  # the API promises "now" when already open
    else:
        assert opening == change
        assert opening is None or hours.is_open(opening)


class CountingHours:
    """Answers as some hours do, and counts the costly question."""

    def __init__(self, hours: OpeningHours) -> None:
        self.hours, self.asked = hours, 0

    def is_open(self, now: float) -> bool:
        return self.hours.is_open(now)

    def next_change(self, now: float) -> float | None:
        self.asked += 1
        return self.hours.next_change(now)


def test_open_now_answers_as_the_hours_do_and_asks_them_once_per_change() -> None:
    hours = CountingHours(office())
    open_now = OpenNow(hours)  # type: ignore[arg-type]
    moments = [
        paris(2026, 11, 23, 9),
        paris(2026, 11, 23, 12),
        paris(2026, 11, 23, 17, 59),
        paris(2026, 11, 23, 18),
        paris(2026, 11, 24, 8, 30),
        paris(2026, 11, 23, 10),
    ]  # the last one: the clock went back
    assert [open_now.is_open(t) for t in moments] == [True, True, True, False, True, True]
    assert hours.asked == 4  # 9:00 (good until 18:00), 18:00, Tuesday 8:30, and the step back

"""Real-time statistics, computed from the decisions of a real router on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from acd.events import (
    AgentLoggedIn,
    OfferAccepted,
    OutsideFailed,
    TaskArrived,
    TaskCancelled,
    TaskCompleted,
    TaskTransferred,
    WrapUpEnded,
)
from acd.model import Channel
from acd.service import AcdService
from tests.acd import builders

T0 = builders.MONDAY_9AM


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


def at(service: AcdService, clock: Clock, seconds: float, event: object) -> None:
    clock.now = T0 + seconds
    asyncio.run(service.submit(event))  # type: ignore[arg-type]


@pytest.fixture
def morning() -> tuple[AcdService, Clock]:
    """One agent, idle 20 s, then three calls: answered in 5 s, abandoned after 30 s, answered in 30 s (past the
    20 s target)."""
    clock = Clock(T0)
    service = AcdService(builders.deployment(), clock=clock)
    at(service, clock, -20, AgentLoggedIn("ana"))
    at(service, clock, 0, TaskArrived("t1", Channel.VOICE, "lons-tva", attributes={"department": "69"}))
    at(service, clock, 5, OfferAccepted("t1", "ana"))
    at(service, clock, 10, TaskArrived("t2", Channel.VOICE, "lons-tva", attributes={"department": "69"}))
    at(service, clock, 40, TaskCancelled("t2"))
    at(service, clock, 50, TaskArrived("t3", Channel.VOICE, "lons-tva", attributes={"department": "33"}))
    at(service, clock, 65, TaskCompleted("t1", "ana"))
    at(service, clock, 75, WrapUpEnded("t1", "ana"))  # t3 is offered at once
    at(service, clock, 80, OfferAccepted("t3", "ana"))
    return service, clock


def test_queue_figures(morning: tuple[AcdService, Clock]) -> None:
    service, _ = morning
    figures = service.stats.get("queue", "lons-tva").figures()
    assert figures["entered"] == 3
    assert figures["answered"] == 2
    assert figures["abandoned"] == 1
    assert figures["service_level"] == pytest.approx(1 / 3)  # t1 only, of three closed (answered or abandoned)
    assert figures["abandon_rate"] == pytest.approx(1 / 3)
    assert figures["average_speed_of_answer"] == pytest.approx((5 + 30) / 2)
    assert figures["completed"] == 1
    assert figures["average_handle_time"] == pytest.approx(60 + 10)  # talk, then wrap-up


def test_department_and_team_figures(morning: tuple[AcdService, Clock]) -> None:
    service, _ = morning
    assert service.stats.get("department", "69").figures()["entered"] == 2
    assert service.stats.get("department", "69").figures()["abandoned"] == 1
    assert service.stats.get("department", "33").figures()["answered"] == 1
    team = service.stats.get("team", "lons-a").figures()
    assert team["answered"] == 2 and team["abandoned"] == 0  # an abandon in queue belongs to no team
    # ana: available from -20 s to 0, then reserved, busy, in wrap-up, reserved again until 80 s.
    assert team["occupancy"] == pytest.approx(80 / 100)


def test_no_figure_is_invented_before_anything_happened() -> None:
    service = AcdService(builders.deployment(), clock=Clock(T0))
    figures = service.stats.get("queue", "lons-tva").figures()
    assert figures["entered"] == 0
    assert figures["service_level"] is None
    assert figures["average_handle_time"] is None
    assert figures["occupancy"] is None


def test_counters_start_again_at_local_midnight(morning: tuple[AcdService, Clock]) -> None:
    service, clock = morning
    at(service, clock, 15 * 3600 + 1, TaskArrived("t4", Channel.EMAIL, "cfe-email"))  # 00:00:01 on Tuesday
    assert service.stats.get("queue", "lons-tva").figures()["entered"] == 0
    assert service.stats.get("queue", "cfe-email").figures()["entered"] == 1


def test_a_clock_stepping_back_never_makes_a_wait_negative() -> None:
    clock = Clock(T0)
    service = AcdService(builders.deployment(), clock=clock)
    at(service, clock, 0, TaskArrived("t", Channel.VOICE, "lons-tva"))
    at(service, clock, -30, AgentLoggedIn("ana"))  # the wall clock was corrected back by 30 s
    at(service, clock, -28, OfferAccepted("t", "ana"))
    assert service.stats.get("queue", "lons-tva").figures()["average_speed_of_answer"] == 0


def test_transfers_count_as_definitions_say() -> None:
    """A task handed to another queue is offered again there and answered there with its first entry time;
    the queue it left counts it transferred, neither answered nor abandoned; an agent's transfer counts
    its handling (talk + wrap-up) in the handle time; one sent back from outside is offered again."""
    clock = Clock(T0)
    service = AcdService(builders.deployment(sip_trunk="127.0.0.1:5070"), clock=clock)
    at(service, clock, 0, TaskArrived("t1", Channel.VOICE, "lons-tva", attributes={"department": "69"}))
    at(service, clock, 30, TaskTransferred("t1", "pau-tva", "t1b", reason="max_wait"))
    at(service, clock, 30, AgentLoggedIn("fay"))
    at(service, clock, 40, OfferAccepted("t1b", "fay"))
    at(service, clock, 100, TaskTransferred("t1b", "+33559000000", "t1c"))
    at(service, clock, 110, OutsideFailed("t1c", 486))
    lons, pau = (service.stats.get("queue", q).figures() for q in ("lons-tva", "pau-tva"))
    assert (lons["entered"], lons["transferred"], lons["answered"], lons["abandoned"]) == (1, 1, 0, 0)
    assert (pau["entered"], pau["answered"], pau["transferred"], pau["abandoned"]) == (2, 1, 1, 0)
    assert pau["average_speed_of_answer"] == 40  # from the caller's entry in lons-tva
    assert (pau["completed"], pau["average_handle_time"]) == (1, 60)
    assert service.router.store.task("t1c").queue == "pau-tva"


def test_a_caller_back_from_outside_is_offered_again_and_one_who_leaves_while_it_rings_did_not_abandon() -> None:
    """Each offer has one answer at most: a task the outside number sends back enters its queue again (offered
    again there, as a transferred one is), so its answer is not a second answer of one offer; a caller who
    hangs up while the outside number rings was answered already, and is no abandon of the queue."""
    clock = Clock(T0)
    service = AcdService(builders.deployment(sip_trunk="127.0.0.1:5070"), clock=clock)
    at(service, clock, -20, AgentLoggedIn("ana"))
    at(service, clock, 0, TaskArrived("t1", Channel.VOICE, "lons-tva", attributes={"department": "69"}))
    at(service, clock, 5, OfferAccepted("t1", "ana"))
    at(service, clock, 60, TaskTransferred("t1", "+33559000000", "t1b"))
    at(service, clock, 70, OutsideFailed("t1b", 486))  # back in lons-tva while ana wraps t1 up
    at(service, clock, 85, WrapUpEnded("t1", "ana"))
    at(service, clock, 95, OfferAccepted("t1b", "ana"))
    at(service, clock, 100, TaskTransferred("t1b", "+33559000000", "t1c"))
    at(service, clock, 110, TaskCancelled("t1c"))  # the caller hangs up while the outside number rings
    lons = service.stats.get("queue", "lons-tva").figures()
    assert (lons["entered"], lons["answered"], lons["transferred"], lons["abandoned"]) == (2, 2, 2, 0)
    assert lons["abandon_rate"] == 0

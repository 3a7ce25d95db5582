"""The table of a task's places (acd/routing/places.py): allowed moves renew the version, others are refused."""

from __future__ import annotations

from typing import get_args

import pytest

from acd.errors import InvalidEvent, TransitionError
from acd.events import OutsideFailed, TaskTransferred
from acd.model import Channel, Place, Task
from acd.routing.places import ACCEPTS, MOVES, TaskEvent, move, require


def task(place: Place) -> Task:
    return Task("t", Channel.VOICE, "q", 0, {}, {}, 0.0, 0.0, 0.0, 1, place=place, version=3)


def test_an_allowed_move_changes_the_place_and_stamps_the_version() -> None:
    moved = task(Place.QUEUED)
    move(moved, Place.RESERVED, "OfferAccepted", lambda: 41)
    assert (moved.place, moved.version) == (Place.RESERVED, 41)


def never() -> int:
    raise AssertionError("a refused move asks for no version")


@pytest.mark.parametrize(
    ("place", "to"),
    [(p, to) for p in Place for to in Place if to not in MOVES[p]],
)
def test_every_move_outside_the_table_is_refused_naming_place_and_event(place: Place, to: Place) -> None:
    stuck = task(place)
    with pytest.raises(TransitionError) as caught:
        move(stuck, to, "TaskTransferred", never)
    assert caught.value.message == f"task 't' cannot go from {place.value} to {to.value} on TaskTransferred"
    assert caught.value.details == {"task": "t", "state": place.value, "event": "TaskTransferred"}
    assert (stuck.place, stuck.version) == (place, 3)


def test_an_ended_task_goes_nowhere_and_every_place_can_end() -> None:
    assert MOVES[Place.ENDED] == frozenset()
    assert all(Place.ENDED in MOVES[p] for p in Place if p is not Place.ENDED)


def test_an_event_is_refused_where_the_task_is_not_in_a_place_it_accepts() -> None:
    with pytest.raises(TransitionError, match=r"^cannot bring back task 't': it is assigned \(OutsideFailed\)$"):
        require(task(Place.ASSIGNED), OutsideFailed("t", 486), "bring back")
    require(task(Place.OUTSIDE), OutsideFailed("t", 486), "bring back")  # accepted: no error
    assert ACCEPTS[TaskTransferred] == {Place.QUEUED, Place.RESERVED, Place.ASSIGNED}


def test_the_new_events_validate_when_built() -> None:
    with pytest.raises(InvalidEvent, match="new_task_id must differ from task_id"):
        TaskTransferred("t", "q", "t")
    with pytest.raises(InvalidEvent, match="to must be a non-empty string"):
        TaskTransferred("t", "", "t2")
    with pytest.raises(InvalidEvent, match="status must be a SIP final failure status, 300 to 699"):
        OutsideFailed("t", 200)
    with pytest.raises(InvalidEvent, match="status must be a SIP final failure status"):
        OutsideFailed("t", True)  # type: ignore[arg-type]
    assert OutsideFailed("t", 486).status == 486


def test_every_event_that_acts_on_a_task_from_some_places_says_which() -> None:
    assert set(ACCEPTS) == set(get_args(TaskEvent))

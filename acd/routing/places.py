"""A task's places, the moves allowed between them, and the one function that moves a task.

Every change of place goes through `move`, which gives the task a new `version`: a timer set in one place
recognises itself as stale once the task has moved on. A version is a number the store never gave before (its
next sequence number), not the last one plus one: a timer left by a task that ended and was forgotten never
matches a later task given the same id. `require` checks, before anything changes, that an event may act on
a task where it is.
"""

from __future__ import annotations

from collections.abc import Callable

from acd.errors import TransitionError
from acd.events import CallbackRequested, OutsideAnswered, OutsideFailed, TaskCancelled, TaskTransferred
from acd.model import Place, Task

#: The events that name a task and may act on it only from some places.
TaskEvent = TaskCancelled | CallbackRequested | TaskTransferred | OutsideAnswered | OutsideFailed

#: Where a task may go from each place. `new` is only the place of a record being built within one event.
MOVES: dict[Place, frozenset[Place]] = {
    Place.NEW: frozenset({Place.SCHEDULED, Place.QUEUED, Place.OUTSIDE, Place.ENDED}),
    Place.SCHEDULED: frozenset({Place.QUEUED, Place.ENDED}),
    # queued -> new: out of its queue for another (maximum wait), admitted there within the same event.
    Place.QUEUED: frozenset({Place.RESERVED, Place.NEW, Place.ENDED}),
    # reserved -> queued: refused, timed out or revoked, back with its place.
    Place.RESERVED: frozenset({Place.ASSIGNED, Place.QUEUED, Place.ENDED}),
    Place.ASSIGNED: frozenset({Place.WRAP_UP, Place.ENDED}),
    Place.WRAP_UP: frozenset({Place.ENDED}),
    # outside -> queued: the outside number did not answer, back with its place.
    Place.OUTSIDE: frozenset({Place.QUEUED, Place.ENDED}),
    Place.ENDED: frozenset(),
}

#: The places from which each event that names a task may act on it (events that name an agent too
#: check the agent's part themselves).
ACCEPTS: dict[type[TaskEvent], frozenset[Place]] = {
    TaskCancelled: frozenset({Place.QUEUED, Place.RESERVED, Place.SCHEDULED, Place.OUTSIDE}),
    CallbackRequested: frozenset({Place.QUEUED, Place.RESERVED}),
    TaskTransferred: frozenset({Place.QUEUED, Place.RESERVED, Place.ASSIGNED}),
    # queued or reserved: taken back by the ring timeout as the number's word came (`acd.routing.transfers`)
    OutsideAnswered: frozenset({Place.OUTSIDE, Place.QUEUED, Place.RESERVED}),
    OutsideFailed: frozenset({Place.OUTSIDE, Place.QUEUED, Place.RESERVED}),
}


def require(task: Task, event: TaskEvent, what: str) -> None:
    """Refuse `event` (doing `what` to the task) unless the task is in a place it accepts."""
    if task.place not in ACCEPTS[type(event)]:
        raise refusal(task, event, f"cannot {what} task {task.id!r}")


def refusal(task: Task, event: TaskEvent, why: str) -> TransitionError:
    """The error that refuses `event` on `task` where it is, `why` first."""
    name = type(event).__name__
    return TransitionError(
        f"{why}: it is {task.place.value} ({name})", task=task.id, state=task.place.value, event=name
    )


def move(task: Task, to: Place, cause: str, stamp: Callable[[], int]) -> None:
    """Put the task in place `to` with the new version `stamp()` (the store's next sequence number, asked once
    the move is allowed); a move the table does not allow is refused and changes nothing."""
    if to not in MOVES[task.place]:
        raise TransitionError(
            f"task {task.id!r} cannot go from {task.place.value} to {to.value} on {cause}",
            task=task.id,
            state=task.place.value,
            event=cause,
        )
    task.place = to
    task.version = stamp()

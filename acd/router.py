"""The routing core: events in, decisions out, no I/O and no clock of its own.

`Router.process(event, now)` first fires the timers due by `now` (at most `TIMERS_PER_EVENT` of them, in
order: a mass expiry is worked off by the ticks that follow, each its own bounded change, instead of
delaying one event by all of it), then applies the event. Every handler checks everything before it
changes anything, so a refused event (an `AcdError`) leaves the state as it was. `Router.apply` says both
what was decided (the timers fired before a refused event did change the state, and their decisions stand)
and the refusal, if any, as an `Applied`; `process` returns the decisions or raises the refusal.

Invariants kept after every call:
- a task is in exactly one place (`acd.routing.places`: queued, reserved, assigned, wrap-up, scheduled,
  outside, ended), and only `places.move` changes it, giving the task a version never used before;
- nothing is lost: a task leaves only by ending, and a task handed elsewhere (`TaskTransferred`) ends in
  the same step as its successor is created, or neither happens (the transfer is refused); a task ringing
  an outside number comes back to its queue when the number fails or nobody says (`outside_ring_timeout`);
- an agent that is ready, has no offer pending and has room for a waiting task it is eligible for is never
  left idle; and the task it is offered is the best (priority, then entry time) of all the tasks it is
  eligible for, whatever queue they wait in.

The work is split by concept under `acd.routing` (tasks, offers, handling, transfers, presence, timers);
this module dispatches each event to its handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from acd.decisions import Decision
from acd.errors import AcdError, InvalidEvent
from acd.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    CallbackRequested,
    ClockTicked,
    Event,
    HeadsetChanged,
    LoginFailed,
    NodeLost,
    OfferAccepted,
    OfferRefused,
    OutsideAnswered,
    OutsideFailed,
    PhoneChanged,
    TaskArrived,
    TaskCancelled,
    TaskCompleted,
    TaskNoted,
    TaskTransferred,
    WrapUpEnded,
)
from acd.routing import handling, offers, presence, tasks, transfers
from acd.routing.state import State
from acd.routing.timers import fire_due

__all__ = ["TIMERS_PER_EVENT", "Applied", "Router"]

#: Due timers an event fires before it is applied, unless it is a tick that says how many.
TIMERS_PER_EVENT = 200


@dataclass(frozen=True, slots=True)
class Applied:
    """What one event made: its decisions (those of the timers fired before it included), and its refusal,
    if it was refused (then only the timers' decisions are there, and the event changed nothing)."""

    decisions: list[Decision]
    refusal: AcdError | None = None


class Router(State):
    """The queue core of one centre: applies events to the store and says what follows."""

    def process(self, event: Event, now: float) -> list[Decision]:
        """The event's decisions; its refusal raised (the decisions of the timers fired first are lost to the
        caller: a driver that records decisions uses `apply`)."""
        applied = self.apply(event, now)
        if applied.refusal is not None:
            raise applied.refusal
        return applied.decisions

    def apply(self, event: Event, now: float) -> Applied:
        if type(event) not in _EVENTS:
            return Applied([], InvalidEvent(f"unknown event {type(event).__name__}"))
        self.out = []
        now = max(now, self.clock)
        budget = event.max_timers if isinstance(event, ClockTicked) else TIMERS_PER_EVENT
        self.timer_budget = float("inf") if budget is None else budget
        fire_due(self, now)
        self.clock = now
        self.cause = type(event).__name__
        try:
            self._apply(event, now)
        except AcdError as refusal:
            return Applied(self.out, refusal)
        fire_due(self, now)  # timers set by the event that are already due (a re-queued task's step)
        return Applied(self.out)

    def _apply(self, event: Event, now: float) -> None:
        """The event's handler, by its type."""
        # The commonest events first: a class pattern is an isinstance check, tried in order.
        match event:
            case TaskArrived():
                tasks.task_arrived(self, event, now)
            case OfferAccepted():
                offers.offer_accepted(self, event, now)
            case TaskCompleted():
                handling.task_completed(self, event, now)
            case ClockTicked():
                pass  # the due timers were the point
            case WrapUpEnded():
                handling.wrap_up_ended(self, event, now)
            case TaskCancelled():
                tasks.task_cancelled(self, event, now)
            case OfferRefused():
                offers.offer_refused(self, event, now)
            case TaskNoted():
                tasks.task_noted(self, event, now)
            case TaskTransferred():
                transfers.task_transferred(self, event, now)
            case OutsideAnswered():
                transfers.outside_answered(self, event, now)
            case OutsideFailed():
                transfers.outside_failed(self, event, now)
            case CallbackRequested():
                tasks.callback_requested(self, event, now)
            case AgentLoggedIn():
                presence.agent_logged_in(self, event, now)
            case AgentLoggedOut():
                presence.agent_logged_out(self, event, now)
            case AgentReady():
                presence.agent_ready(self, event, now)
            case AgentNotReady():
                presence.agent_not_ready(self, event, now)
            case PhoneChanged():
                presence.phone_changed(self, event, now)
            case HeadsetChanged():
                presence.headset_changed(self, event, now)
            case NodeLost():
                presence.node_lost(self, event, now)
            case LoginFailed():
                presence.login_failed(self, event, now)
            case _:
                assert_never(event)  # mypy proves every event of `Event` has its case


#: Every event class `_apply` handles: anything else is refused before the timers fire.
_EVENTS: frozenset[type] = frozenset(
    {
        TaskArrived,
        TaskCancelled,
        CallbackRequested,
        TaskNoted,
        TaskTransferred,
        OutsideAnswered,
        OutsideFailed,
        OfferAccepted,
        OfferRefused,
        TaskCompleted,
        WrapUpEnded,
        AgentLoggedIn,
        AgentLoggedOut,
        AgentReady,
        AgentNotReady,
        PhoneChanged,
        HeadsetChanged,
        NodeLost,
        LoginFailed,
        ClockTicked,
    }
)

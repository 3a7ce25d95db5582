"""Real-time statistics per queue, team, site and department, kept up to date from the decisions.

Counters start at local midnight (the wallboard's "today"); live figures (waiting tasks, longest wait,
agents by state) are read from the state when asked, so they are never stale.

Transfers, as ../shared/DEFINITIONS.md counts them: a task handed to another queue is offered (entered)
again there, its successor's `task_queued` flagged `transferred_from`, and counts as `transferred` in the
queue it left, neither answered nor abandoned there. A task its agent transferred was answered; its agent's
part (talk + wrap-up) counts in the handle time like a completed task's. A task the outside number sends
back enters its queue again (`task_queued` flagged `outside`) and is offered again there, so that no offer
has two answers; a caller who hangs up while the outside number rings (`task_ended` flagged `outside`) was
answered already or counted transferred by the queue it left: no abandon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from acd.decisions import Decision, Kind
from acd.model import AgentState

#: States in which an agent's time counts as occupied; available time counts as idle.
OCCUPIED = frozenset({AgentState.RESERVED.value, AgentState.BUSY.value, AgentState.WRAP_UP.value})


@dataclass(slots=True)
class Counters:
    entered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    rejected: int = 0
    transferred: int = 0
    completed: int = 0
    wait_answered: float = 0.0
    handle: float = 0.0
    occupied_seconds: float = 0.0
    available_seconds: float = 0.0

    def figures(self) -> dict[str, float | int | None]:
        closed = self.answered + self.abandoned
        worked = self.occupied_seconds + self.available_seconds
        return {
            "entered": self.entered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "rejected": self.rejected,
            "transferred": self.transferred,
            "completed": self.completed,
            "service_level": self.answered_in_time / closed if closed else None,
            "abandon_rate": self.abandoned / closed if closed else None,
            "average_speed_of_answer": self.wait_answered / self.answered if self.answered else None,
            "average_handle_time": self.handle / self.completed if self.completed else None,
            "occupancy": self.occupied_seconds / worked if worked else None,
        }


@dataclass(frozen=True, slots=True)
class Lookups:
    """How to place a decision: a task's department, an agent's team and site, a queue's site and SLA."""

    department: Callable[[str], str | None]
    agent_team_site: Callable[[str], tuple[str, str] | None]
    queue_site: Callable[[str], str | None]
    service_level: Callable[[str], float]


@dataclass(slots=True)
class Statistics:
    lookups: Lookups
    timezone: str
    day: str | None = None
    counters: dict[tuple[str, str], Counters] = field(default_factory=dict)
    #: The current day's bounds in POSIX seconds (the local day, 23 or 25 hours long on a clock change).
    _today: tuple[float, float] = (0.0, 0.0)

    def get(self, dimension: str, name: str) -> Counters:
        return self.counters.get((dimension, name)) or Counters()

    def _targets(self, decision: Decision) -> list[Counters]:
        keys = []
        if decision.queue:
            keys.append(("queue", decision.queue))
            site = self.lookups.queue_site(decision.queue)
            if site:
                keys.append(("site", site))
        if decision.task:
            department = self.lookups.department(decision.task)
            if department:
                keys.append(("department", department))
        if decision.agent:
            placed = self.lookups.agent_team_site(decision.agent)
            if placed:
                keys.append(("team", placed[0]))
                if ("site", placed[1]) not in keys:
                    keys.append(("site", placed[1]))
        return [self.counters.setdefault(key, Counters()) for key in keys]

    def apply(self, decisions: Iterable[Decision]) -> None:
        for decision in decisions:
            if not self._today[0] <= decision.at < self._today[1]:
                local = datetime.fromtimestamp(decision.at, ZoneInfo(self.timezone))
                day = local.date().isoformat()
                if day != self.day:
                    self.day, self.counters = day, {}
                midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
                following = datetime.combine(midnight.date() + timedelta(days=1), time(), midnight.tzinfo)
                self._today = (midnight.timestamp(), following.timestamp())
            self._apply(decision)

    def _apply(self, d: Decision) -> None:
        kind = d.kind
        if kind is Kind.AGENT_STATE:
            # seconds None: the agent was offline since the start, nothing to count.
            previous, seconds = d.data.get("previous"), float(d.data.get("seconds") or 0.0)
            for counters in self._targets(d):
                if previous in OCCUPIED:
                    counters.occupied_seconds += seconds
                elif previous == AgentState.AVAILABLE.value:
                    counters.available_seconds += seconds
            return
        if kind not in _COUNTED:
            return
        for counters in self._targets(d):
            if kind is Kind.TASK_QUEUED:
                counters.entered += 1
            elif kind is Kind.TASK_TRANSFERRED:
                counters.transferred += 1
            elif kind is Kind.TASK_REJECTED:
                counters.rejected += 1
            elif kind is Kind.OFFER_ACCEPTED:
                wait = d.wait or 0.0
                counters.answered += 1
                counters.wait_answered += wait
                if d.queue and wait <= self.lookups.service_level(d.queue):
                    counters.answered_in_time += 1
            elif d.reason == "abandoned" and "outside" not in d.data:
                counters.abandoned += 1
            elif d.reason in _HANDLED and d.talk is not None:
                counters.completed += 1
                counters.handle += d.talk or 0.0


_COUNTED = frozenset(
    {Kind.TASK_QUEUED, Kind.OFFER_ACCEPTED, Kind.TASK_ENDED, Kind.TASK_REJECTED, Kind.TASK_TRANSFERRED}
)
#: How a task ends once an agent's handling of it is over (its handle time known).
_HANDLED = frozenset({"completed", "transferred"})

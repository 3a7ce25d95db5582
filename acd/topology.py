"""The deployment compiled for routing: who serves which queue at which overflow step.

A queue's steps widen its set of agents over time. Step 0 is the queue's own selector (skills with
minimum levels, teams or sites); each later step may lower the minimum level and add teams or sites.
Steps are cumulative, so an agent serves a queue from the first step whose selector it matches: that
number, per queue, is the agent's `queue_steps` entry and the tier it is indexed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from acd.calendar import OpeningHours, parse_interval
from acd.deployment.models import CalendarConfig, Deployment, QueueConfig, Weekday
from acd.model import LIVE_CHANNELS, Agent, Channel, Strategy, unit_costs

WEEKDAYS = list(Weekday)


@dataclass(frozen=True, slots=True)
class Selector:
    """Agents that match: every skill at its level, and a listed team or a listed site."""

    skills: tuple[tuple[str, int], ...]
    teams: frozenset[str]
    sites: frozenset[str]

    def matches(self, skills: dict[str, int], team: str, site: str) -> bool:
        if team not in self.teams and site not in self.sites:
            return False
        return all(skills.get(skill, 0) >= level for skill, level in self.skills)


@dataclass(frozen=True, slots=True)
class Step:
    after: float
    selector: Selector
    #: Task-level required skills are capped at this level from this step on (None: as required).
    level_cap: int | None


@dataclass(frozen=True, slots=True)
class QueueRoute:
    id: str
    site: str
    channels: frozenset[Channel]
    strategy: Strategy
    priority: int
    wrap_up: float
    offer_timeout: float
    handle_time: float
    steps: tuple[Step, ...]
    primary_skill: str | None
    aging_every: float | None
    aging_step: int
    aging_max: int
    max_wait: float | None
    max_wait_target: str | None
    max_size: int | None
    max_size_target: str | None
    hours: OpeningHours
    #: "reject", "accept" or "redirect"; None: reject live channels, accept the others.
    when_closed: str | None
    when_closed_target: str | None
    service_level: float

    def closed_action(self, channel: Channel) -> str:
        if self.when_closed is not None:
            return self.when_closed
        return "reject" if channel in LIVE_CHANNELS else "accept"


def _intervals(texts: list[str]) -> tuple[tuple[time, time], ...]:
    return tuple(parse_interval(text) for text in texts)


def opening_hours(calendar: CalendarConfig, timezone: str) -> OpeningHours:
    weekly = {WEEKDAYS.index(day): _intervals(texts) for day, texts in calendar.hours.items()}
    open_dates: dict[date, tuple[tuple[time, time], ...]] = {
        day: _intervals(texts) for day, texts in calendar.open_dates.items()
    }
    return OpeningHours(
        weekly=weekly,
        timezone=timezone,
        public_holidays=calendar.public_holidays,
        closed_dates=frozenset(calendar.closed_dates),
        open_dates=open_dates,
    )


def _steps(deployment: Deployment, queue: QueueConfig) -> tuple[Step, ...]:
    skills = dict(queue.skills)
    if queue.teams or queue.sites:
        teams, sites = set(queue.teams), set(queue.sites)
    else:
        teams, sites = set(), {queue.site}
    steps = [Step(0.0, Selector(tuple(sorted(skills.items())), frozenset(teams), frozenset(sites)), None)]
    cap: int | None = None
    for step in queue.steps:
        if step.min_level is not None:
            cap = step.min_level if cap is None else min(cap, step.min_level)
            skills = {skill: min(level, cap) for skill, level in skills.items()}
        teams |= set(step.add_teams)
        sites |= set(step.add_sites)
        selector = Selector(tuple(sorted(skills.items())), frozenset(teams), frozenset(sites))
        steps.append(Step(step.after, selector, cap))
    return tuple(steps)


def compile_queue(deployment: Deployment, queue: QueueConfig) -> QueueRoute:
    settings = deployment.settings
    calendar_id = queue.calendar or deployment.site(queue.site).calendar
    calendar = next(c for c in deployment.calendars if c.id == calendar_id)
    primary = max(queue.skills.items(), key=lambda item: item[1])[0] if queue.skills else None
    return QueueRoute(
        id=queue.id,
        site=queue.site,
        channels=frozenset(queue.channels),
        strategy=queue.strategy,
        priority=queue.priority,
        wrap_up=queue.wrap_up,
        offer_timeout=queue.offer_timeout or settings.offer_timeout,
        handle_time=queue.handle_time or settings.default_handle_time,
        steps=_steps(deployment, queue),
        primary_skill=primary,
        aging_every=queue.aging.every if queue.aging else None,
        aging_step=queue.aging.step if queue.aging else 0,
        aging_max=queue.aging.max if queue.aging else 0,
        max_wait=queue.max_wait.seconds if queue.max_wait else None,
        max_wait_target=queue.max_wait.target if queue.max_wait else None,
        max_size=queue.max_size.tasks if queue.max_size else None,
        max_size_target=queue.max_size.target if queue.max_size else None,
        hours=opening_hours(calendar, settings.timezone),
        when_closed=queue.when_closed.action if queue.when_closed else None,
        when_closed_target=queue.when_closed.target if queue.when_closed else None,
        service_level=(
            queue.service_level_seconds if queue.service_level_seconds is not None else settings.service_level_seconds
        ),
    )


def queue_steps_of(skills: dict[str, int], team: str, site: str, queues: dict[str, QueueRoute]) -> dict[str, int]:
    """Queue id -> the first step at which an agent with these skills, team and site serves it."""
    result = {}
    for queue in queues.values():
        for index, step in enumerate(queue.steps):
            if step.selector.matches(skills, team, site):
                result[queue.id] = index
                break
    return result


@dataclass(frozen=True, slots=True)
class Topology:
    queues: dict[str, QueueRoute]
    missed_offers_limit: int
    #: Weight of the newest handle time in the exponential average (Asterisk uses 1/2; we smooth more).
    handle_time_weight: float = 0.2
    #: Seconds an ended task stays in the live state (readable by id) before only the log has it.
    ended_task_retention: float = 3600.0

    @classmethod
    def compile(cls, deployment: Deployment) -> Topology:
        queues = {queue.id: compile_queue(deployment, queue) for queue in deployment.queues}
        return cls(
            queues=queues,
            missed_offers_limit=deployment.settings.missed_offers_limit,
            ended_task_retention=deployment.settings.ended_task_retention,
        )


def build_agents(deployment: Deployment, topology: Topology) -> list[Agent]:
    """Fresh, logged-out agent records for every agent of the deployment."""
    agents = []
    for ordinal, config in enumerate(deployment.agents):
        site = deployment.team(config.team).site
        capacity = dict(deployment.settings.capacity)
        if config.capacity:
            capacity.update(config.capacity)
        agents.append(
            Agent(
                id=config.id,
                name=config.name,
                team=config.team,
                site=site,
                skills=dict(config.skills),
                unit_cost=unit_costs(capacity),
                ordinal=ordinal,
                queue_steps=queue_steps_of(config.skills, config.team, site, topology.queues),
            )
        )
    return agents

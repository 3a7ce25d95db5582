"""The deployment compiled for routing: the validated configuration turned into `acd.routing.topology`'s
plain records (queues and their steps, numbers, trunk), and the agents' fresh records.

The only module of the queue core that reads the configuration's models; the router does not import it.
"""

from __future__ import annotations

from datetime import date, time

from acd.calendar import OpeningHours, parse_interval
from acd.deployment.models import CalendarConfig, Deployment, QueueConfig, Weekday
from acd.model import Agent, unit_costs
from acd.routing.topology import QueueRoute, Selector, Step, ToOutside, Topology, ToQueue, queue_steps_of

__all__ = [
    "QueueRoute",
    "Selector",
    "Step",
    "ToOutside",
    "ToQueue",
    "Topology",
    "build_agents",
    "compile_queue",
    "compile_topology",
    "opening_hours",
    "queue_steps_of",
]

WEEKDAYS = list(Weekday)


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


def compile_topology(deployment: Deployment) -> Topology:
    """The plain data the router reads, from the validated deployment."""
    settings = deployment.settings
    return Topology(
        queues={queue.id: compile_queue(deployment, queue) for queue in deployment.queues},
        missed_offers_limit=settings.missed_offers_limit,
        ended_task_retention=settings.ended_task_retention,
        # Numbers whose calls enter an IVR flow are the media's business, not a queue's.
        numbers={n.number: n.queue for n in deployment.numbers if n.queue is not None},
        trunk=settings.sip_trunk is not None,
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

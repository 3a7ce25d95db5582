"""References between the files of a configuration: each problem as (location, message)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from acd.calendar import CalendarError, parse_interval
from acd.deployment.models import CalendarConfig, Deployment, Role
from acd.model import Channel

Found = list[tuple[tuple[Any, ...], str]]


def _known(found: Found, loc: tuple[Any, ...], value: str | None, known: set[str], what: str) -> None:
    if value is not None and value not in known:
        found.append((loc, f"unknown {what} {value!r}"))


def _check_hours(found: Found, index: int, calendar: CalendarConfig) -> None:
    """Every interval well-formed and no two overlapping, on each weekday and each specially opened date.

    The same rules as acd.calendar.OpeningHours, checked here so that `_unserved`, which compiles the topology,
    never meets a calendar it refuses.
    """
    days = [(("hours", day.value), texts) for day, texts in calendar.hours.items()]
    days += [(("open_dates", day.isoformat()), texts) for day, texts in calendar.open_dates.items()]
    for where, texts in days:
        intervals = []
        for j, text in enumerate(texts):
            try:
                intervals.append(parse_interval(text))
            except CalendarError as exc:
                found.append((("calendars", index, *where, j), str(exc)))
        ordered = sorted(intervals)
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered)):
            found.append((("calendars", index, *where), "intervals overlap"))


def check_references(deployment: Deployment) -> Found:
    found: Found = []
    calendars = {c.id for c in deployment.calendars}
    sites = {s.id for s in deployment.sites}
    skills = {s.id for s in deployment.skills}
    teams = {t.id for t in deployment.teams}
    queues = {q.id for q in deployment.queues}
    agents = {a.id for a in deployment.agents}
    users = {u.id: u for u in deployment.users}
    try:
        ZoneInfo(deployment.settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        found.append((("settings", "timezone"), f"unknown time zone {deployment.settings.timezone!r}"))
    for i, calendar in enumerate(deployment.calendars):
        _check_hours(found, i, calendar)
    for i, site in enumerate(deployment.sites):
        _known(found, ("sites", i, "calendar"), site.calendar, calendars, "calendar")
    for i, team in enumerate(deployment.teams):
        _known(found, ("teams", i, "site"), team.site, sites, "site")
        if team.supervisor is not None:
            user = users.get(team.supervisor)
            if user is None or user.role is not Role.SUPERVISOR:
                found.append((("teams", i, "supervisor"), f"{team.supervisor!r} is not a supervisor in users.yaml"))
    for i, agent in enumerate(deployment.agents):
        _known(found, ("agents", i, "team"), agent.team, teams, "team")
        for skill in agent.skills:
            _known(found, ("agents", i, "skills", skill), skill, skills, "skill")
    _check_users(found, deployment, agents, teams)
    _check_queues(found, deployment, Known(calendars, sites, skills, teams, queues))
    _check_numbers(found, deployment, queues)
    _check_phones(found, deployment, agents)
    if not found:
        found.extend(_unserved(deployment))
    return found


@dataclass(frozen=True, slots=True)
class Known:
    """The ids a queue may name."""

    calendars: set[str]
    sites: set[str]
    skills: set[str]
    teams: set[str]
    queues: set[str]


def _check_users(found: Found, deployment: Deployment, agents: set[str], teams: set[str]) -> None:
    linked: dict[str, str] = {}
    for i, user in enumerate(deployment.users):
        _known(found, ("users", i, "agent"), user.agent, agents, "agent")
        if user.agent is not None:
            if user.agent in linked:
                found.append(
                    (("users", i, "agent"), f"agent {user.agent!r} is linked to user {linked[user.agent]!r} already")
                )
            linked[user.agent] = user.id
        for j, team_id in enumerate(user.teams):
            _known(found, ("users", i, "teams", j), team_id, teams, "team")


def _check_queues(found: Found, deployment: Deployment, known: Known) -> None:
    for i, queue in enumerate(deployment.queues):
        _known(found, ("queues", i, "site"), queue.site, known.sites, "site")
        _known(found, ("queues", i, "calendar"), queue.calendar, known.calendars, "calendar")
        for skill in queue.skills:
            _known(found, ("queues", i, "skills", skill), skill, known.skills, "skill")
        for j, team_id in enumerate(queue.teams):
            _known(found, ("queues", i, "teams", j), team_id, known.teams, "team")
        for j, site_id in enumerate(queue.sites):
            _known(found, ("queues", i, "sites", j), site_id, known.sites, "site")
        for j, step in enumerate(queue.steps):
            for k, team_id in enumerate(step.add_teams):
                _known(found, ("queues", i, "steps", j, "add_teams", k), team_id, known.teams, "team")
            for k, site_id in enumerate(step.add_sites):
                _known(found, ("queues", i, "steps", j, "add_sites", k), site_id, known.sites, "site")
        for name in ("max_wait", "max_size", "when_closed"):
            section = getattr(queue, name)
            if section is not None and section.target is not None:
                if section.target == queue.id:
                    found.append((("queues", i, name, "target"), "a queue cannot overflow to itself"))
                _known(found, ("queues", i, name, "target"), section.target, known.queues, "queue")


def _check_phones(found: Found, deployment: Deployment, agents: set[str]) -> None:
    users: dict[str, int] = {}
    phones: dict[str, int] = {}
    for i, phone in enumerate(deployment.phones):
        _known(found, ("phones", i, "agent"), phone.agent, agents, "agent")
        if phone.user in users:
            found.append(
                (("phones", i, "user"), f"user {phone.user!r} is given twice (also entry {users[phone.user]})")
            )
        if phone.agent in phones:
            found.append(
                (("phones", i, "agent"), f"agent {phone.agent!r} has a phone already (entry {phones[phone.agent]})")
            )
        users.setdefault(phone.user, i)
        phones.setdefault(phone.agent, i)
        if not deployment.digest_algorithms(phone):
            offered = ", ".join(deployment.settings.sip_digest_algorithms)
            why = f"no HA1 for settings.sip_digest_algorithms ({offered}): name digest_algorithms, or add one"
            found.append((("phones", i, "ha1"), why))


def _check_numbers(found: Found, deployment: Deployment, queues: set[str]) -> None:
    first: dict[str, int] = {}
    for i, entry in enumerate(deployment.numbers):
        if entry.number in first:
            found.append(
                (("numbers", i, "number"), f"number {entry.number!r} is given twice (also entry {first[entry.number]})")
            )
        first.setdefault(entry.number, i)
        _known(found, ("numbers", i, "queue"), entry.queue, queues, "queue")
        if (
            entry.queue is not None
            and entry.queue in queues
            and Channel.VOICE not in deployment.queue(entry.queue).channels
        ):
            found.append((("numbers", i, "queue"), f"queue {entry.queue!r} takes no voice calls"))


def _unserved(deployment: Deployment) -> Found:
    """A queue nobody can ever serve is a configuration mistake, not a quiet black hole."""
    from acd.topology import Topology, build_agents

    found: Found = []
    topology = Topology.compile(deployment)
    served = {q for agent in build_agents(deployment, topology) for q in agent.queue_steps}
    for i, queue in enumerate(deployment.queues):
        if queue.id not in served:
            found.append((("queues", i, "id"), "no agent can serve this queue"))
    return found

"""A small deployment built in code, for the router's tests: two centres, three teams, eight agents."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from acd.deployment.models import (
    AgentConfig,
    CalendarConfig,
    Deployment,
    NumberConfig,
    QueueConfig,
    Settings,
    SiteConfig,
    SkillConfig,
    TeamConfig,
)
from acd.router import Router
from acd.store import MemoryStore
from acd.topology import Topology, build_agents

PARIS = ZoneInfo("Europe/Paris")
#: Monday 23 November 2026, 09:00 in Paris: an ordinary open day.
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS).timestamp()

AGENTS = [
    # id, team, skills
    ("ana", "lons-a", {"tva": 5, "lang_fr": 5}),
    ("bob", "lons-a", {"tva": 2, "cfe": 3, "lang_fr": 5, "lang_en": 3}),
    ("cat", "lons-a", {"cfe": 4, "lang_fr": 5}),
    ("dan", "lons-b", {"tva": 3, "cfe": 1, "lang_fr": 5}),
    ("eve", "lons-b", {"tva": 1, "lang_fr": 4, "lang_en": 5}),
    ("fay", "pau-a", {"tva": 4, "cfe": 4, "lang_fr": 5}),
    ("gus", "pau-a", {"tva": 2, "lang_fr": 5, "lang_en": 2}),
    ("hal", "pau-a", {"cfe": 2, "lang_fr": 3}),
]


def queues(strategy: str = "longest_idle") -> list[dict[str, Any]]:
    return [
        {
            "id": "lons-tva",
            "name": "TVA (Lons)",
            "site": "lons",
            "channels": ["voice", "callback"],
            "skills": {"tva": 3},
            "strategy": strategy,
            "wrap_up": 30,
            "offer_timeout": 15,
            "steps": [
                {"after": 60, "min_level": 2},
                {"after": 120, "add_teams": ["lons-b"]},
                {"after": 180, "add_sites": ["pau"], "min_level": 1},
            ],
            "max_wait": {"seconds": 600, "target": "pau-tva"},
        },
        {
            "id": "pau-tva",
            "name": "TVA (Pau)",
            "site": "pau",
            "channels": ["voice", "callback"],
            "skills": {"tva": 2},
            "strategy": "best_skill",
            "wrap_up": 0,
            "aging": {"every": 90, "step": 1, "max": 3},
            "max_size": {"tasks": 6},
        },
        {
            "id": "lons-chat",
            "name": "Chat",
            "site": "lons",
            "channels": ["chat"],
            "skills": {"lang_fr": 4},
            "teams": ["lons-a", "lons-b"],
            "strategy": "least_occupied",
            "wrap_up": 10,
            "steps": [{"after": 90, "add_sites": ["pau"], "min_level": 3}],
        },
        {
            "id": "cfe-email",
            "name": "CFE e-mails",
            "site": "lons",
            "channels": ["email"],
            "skills": {"cfe": 2},
            "sites": ["lons", "pau"],
            "strategy": "round_robin",
            "wrap_up": 5,
            "priority": -1,
        },
    ]


def deployment(
    strategy: str = "longest_idle",
    *,
    hours: str = "08:00-20:00",
    pau_tva_hours: str | None = None,
    numbers: dict[str, str] | None = None,
    **settings: Any,
) -> Deployment:
    """`pau_tva_hours`: the Pau TVA queue's own opening hours (else those of every queue); `numbers`: numbers
    callers dial -> the queue their calls enter."""
    week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    calendars = [CalendarConfig(id="always", hours={day: [hours] for day in week}, public_holidays=False)]
    configs = queues(strategy)
    if pau_tva_hours is not None:
        calendars.append(CalendarConfig(id="pau-tva", hours={d: [pau_tva_hours] for d in week}, public_holidays=False))
        next(q for q in configs if q["id"] == "pau-tva")["calendar"] = "pau-tva"
    return Deployment(
        settings=Settings(**settings),
        calendars=calendars,
        sites=[
            SiteConfig(id="lons", name="Lons-le-Saunier", departments=["69"], calendar="always"),
            SiteConfig(id="pau", name="Pau", departments=["33", "31"], calendar="always"),
        ],
        skills=[SkillConfig(id=s, name=s) for s in ("tva", "cfe", "lang_fr", "lang_en")],
        teams=[
            TeamConfig(id="lons-a", name="Plateau A", site="lons"),
            TeamConfig(id="lons-b", name="Plateau B", site="lons"),
            TeamConfig(id="pau-a", name="Plateau Pau", site="pau"),
        ],
        agents=[AgentConfig(id=i, name=i.title(), team=t, skills=s) for i, t, s in AGENTS],
        queues=[QueueConfig(**q) for q in configs],
        numbers=[NumberConfig(number=n, queue=q) for n, q in (numbers or {}).items()],
    )


def router(config: Deployment | None = None) -> Router:
    config = config or deployment()
    topology = Topology.compile(config)
    store = MemoryStore()
    for agent in build_agents(config, topology):
        store.put_agent(agent)
    return Router(topology, store, skills=frozenset(s.id for s in config.skills))

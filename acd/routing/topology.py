"""The deployment as the router reads it: plain frozen data, and the one resolver of transfer targets.

A queue's steps widen its set of agents over time. Step 0 is the queue's own selector (skills with
minimum levels, teams or sites); each later step may lower the minimum level and add teams or sites.
Steps are cumulative, so an agent serves a queue from the first step whose selector it matches: that
number, per queue, is the agent's `queue_steps` entry and the tier it is indexed in.

Nothing here reads the configuration's models: `acd.topology` compiles them into these records, and the
router imports only this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.calendar import OpeningHours
from acd.errors import NoRoute
from acd.model import LIVE_CHANNELS, Channel, Strategy

if TYPE_CHECKING:
    from acd.deployment.models import Deployment

#: An outside number: digits with an optional leading +, as the deployment's own numbers are written.
OUTSIDE_NUMBER = re.compile(r"\+?[0-9]{2,20}")


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
class ToQueue:
    """A transfer target that is one of the deployment's queues."""

    queue: str


@dataclass(frozen=True, slots=True)
class ToOutside:
    """A transfer target that is an outside number, dialled through the trunk."""

    number: str


Target = ToQueue | ToOutside


@dataclass(frozen=True, slots=True)
class Topology:
    queues: dict[str, QueueRoute]
    missed_offers_limit: int
    #: Weight of the newest handle time in the exponential average (Asterisk uses 1/2; we smooth more).
    handle_time_weight: float = 0.2
    #: Seconds an ended task stays in the live state (readable by id) before only the log has it.
    ended_task_retention: float = 3600.0
    #: The deployment's numbers whose calls enter a queue (number -> queue id): a transfer may name them.
    numbers: Mapping[str, str] = field(default_factory=dict)
    #: Whether calls can leave through a SIP trunk: without one, no outside number is a target.
    trunk: bool = False
    #: Seconds an outside number may ring before the task goes back to its queue, when nobody said how it
    #: ended (the node that dialled it died): nothing waits for ever.
    outside_ring_timeout: float = 120.0

    @classmethod
    def compile(cls, deployment: Deployment) -> Topology:
        """The deployment's topology (`acd.topology.compile_topology`, kept apart from this plain data)."""
        from acd.topology import compile_topology  # the configuration's models stay out of the router's imports

        return compile_topology(deployment)

    def resolve(self, target: str) -> Target:
        """Where a transfer to `target` goes: a queue (its id, or a number leading to it) or, with a trunk,
        an outside number; anything else raises `NoRoute`."""
        if target in self.queues:
            return ToQueue(target)
        queue = self.numbers.get(target)
        if queue is not None and queue in self.queues:
            return ToQueue(queue)
        if OUTSIDE_NUMBER.fullmatch(target):
            if self.trunk:
                return ToOutside(target)
            raise NoRoute(f"no trunk to call the outside number {target!r}", target=target)
        raise NoRoute(f"{target!r} is neither a queue, a queue's number nor an outside number", target=target)

"""Who may take what, and who goes first: eligibility and the two searches of the router.

`best_agent_for` looks from a task at the idle agents of its queue (tiers 0 to the task's step, each kept
in the queue's strategy order); `best_task_for` looks from an agent at the waiting tasks of every queue
it serves and keeps the best by priority, then entry time, whatever the queue (fair across queues).
Both stop at the first eligible entry of each sorted list, so a decision costs about one look per queue.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping

from acd.model import Agent, Strategy, Task
from acd.routing.topology import QueueRoute
from acd.store import AgentKey, Store, TaskKey


def task_key(task: Task) -> TaskKey:
    return (-(task.priority + task.aging), task.entered_at, task.seq, task.id)


def agent_key(agent: Agent, queue: QueueRoute) -> AgentKey:
    """The agent's place among the idle agents of a queue, by the queue's strategy (lower first).

    Agents with fewer open tasks come first in every strategy but round robin, so that a chat goes to
    an agent with no chat open before it goes to one who already has two.
    """
    strategy = queue.strategy
    if strategy is Strategy.LONGEST_IDLE:
        return (agent.used_units, agent.idle_since, agent.ordinal, agent.id)
    if strategy is Strategy.BEST_SKILL:
        level = agent.skills.get(queue.primary_skill, 0) if queue.primary_skill else 0
        return (-level, agent.used_units, agent.idle_since, agent.ordinal, agent.id)
    if strategy is Strategy.LEAST_OCCUPIED:
        return (agent.used_units, agent.busy_seconds, agent.idle_since, agent.ordinal, agent.id)
    return (agent.ordinal, agent.id)


def index(agent: Agent, queues: Mapping[str, QueueRoute], store: Store) -> None:
    """Put an idle agent among the idle agents of each queue it serves, at its place by the queue's strategy."""
    entries = []
    for queue_id, tier in agent.queue_steps.items():
        key = agent_key(agent, queues[queue_id])
        store.add_idle(queue_id, tier, key)
        entries.append((queue_id, tier, key))
    store.set_idle_entries(agent.id, entries)


def unindex(agent: Agent, store: Store) -> None:
    """Take the agent out of the idle agents of every queue (it was offered work, or left)."""
    entries = store.idle_entries(agent.id)
    if entries:
        for queue_id, tier, key in entries:
            store.remove_idle(queue_id, tier, key)
        store.set_idle_entries(agent.id, [])


def skills_suffice(agent: Agent, task: Task, queue: QueueRoute) -> bool:
    """The task's own required skills, capped by the overflow step it has reached."""
    if not task.required_skills:
        return True
    cap = queue.steps[task.step].level_cap
    skills = agent.skills
    for skill, level in task.required_skills.items():
        if cap is not None and level > cap:
            level = cap
        if skills.get(skill, 0) < level:
            return False
    return True


def eligible(agent: Agent, task: Task, queue: QueueRoute) -> bool:
    """May this agent be offered this task now (its load, skills, step and past refusals)?"""
    tier = agent.queue_steps.get(task.queue)
    return (
        tier is not None
        and tier <= task.step
        and agent.offerable
        and agent.can_take(task.channel)
        and agent.id not in task.refused_by
        and skills_suffice(agent, task, queue)
    )


def best_agent_for(task: Task, queue: QueueRoute, store: Store, round_robin_last: float) -> Agent | None:
    best: Agent | None = None
    best_rank: tuple[object, ...] | None = None
    for tier in range(task.step + 1):
        candidates = store.idle(queue.id, tier)
        if not candidates:
            continue
        found = _first_eligible(task, queue, store, candidates, round_robin_last)
        if found is None:
            continue
        agent, key = found
        rank = _rank(queue, key, round_robin_last)
        if best_rank is None or rank < best_rank:
            best, best_rank = agent, rank
    return best


def _rank(queue: QueueRoute, key: AgentKey, round_robin_last: float) -> tuple[object, ...]:
    if queue.strategy is Strategy.ROUND_ROBIN:
        # Next after the last agent offered, wrapping around: those at or before it come last.
        ordinal = key[0]
        return (ordinal <= round_robin_last, ordinal)  # type: ignore[operator]
    return key


def _first_eligible(
    task: Task, queue: QueueRoute, store: Store, candidates: list[AgentKey], round_robin_last: float
) -> tuple[Agent, AgentKey] | None:
    if queue.strategy is Strategy.ROUND_ROBIN:
        start = bisect_right(candidates, (round_robin_last, "\U0010ffff"))
        ordered = candidates[start:] + candidates[:start]
    else:
        ordered = candidates
    for key in ordered:
        agent = store.peek_agent(key[-1])  # type: ignore[arg-type]
        if agent is not None and eligible(agent, task, queue):
            return agent, key
    return None


def best_task_for(agent: Agent, queues: dict[str, QueueRoute], store: Store) -> Task | None:
    best: Task | None = None
    best_key: TaskKey | None = None
    for queue_id, tier in agent.queue_steps.items():
        waiting = store.waiting(queue_id)
        if not waiting or (best_key is not None and waiting[0] >= best_key):
            continue
        queue = queues[queue_id]
        for key in waiting:
            if best_key is not None and key >= best_key:
                break
            task = store.peek_task(key[3])
            if task is not None and task.step >= tier and eligible(agent, task, queue):
                best, best_key = task, key
                break
    return best

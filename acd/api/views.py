"""How tasks, agents and queues look in the API's answers."""

from __future__ import annotations

from typing import Any

from acd.model import Agent, AgentState, Task
from acd.service import AcdService


def task_view(service: AcdService, task: Task) -> dict[str, Any]:
    estimate = service.estimate(task)
    return {
        "id": task.id,
        "channel": task.channel.value,
        "queue": task.queue,
        "state": task.place.value,
        "priority": task.priority + task.aging,
        "attributes": task.attributes,
        "required_skills": task.required_skills,
        "agent": task.agent,
        "entered_at": task.entered_at,
        "queued_at": task.queued_at,
        "not_before": task.not_before,
        "offered_at": task.offered_at,
        "offer_expires_at": task.offer_expires_at,
        "answered_at": task.answered_at,
        "ended_at": task.ended_at,
        "outcome": task.outcome.value if task.outcome else None,
        "overflow_step": task.step,
        "position": estimate.position if estimate else None,
        "estimated_wait": estimate.seconds if estimate else None,
        "estimate_method": "position x average handle time / effective agents" if estimate else None,
    }


def agent_view(service: AcdService, agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "team": agent.team,
        "site": agent.site,
        "state": agent.state.value,
        "reason": agent.reason,
        "state_since": agent.state_since,
        # None for an agent offline since the start: not the seconds since 1970.
        "seconds_in_state": None if agent.state_since is None else max(0.0, service.clock.time() - agent.state_since),
        "reservation": agent.reservation,
        "tasks": sorted(agent.tasks),
        "wrap_ups": sorted(agent.wrap_ups),
        "skills": agent.skills,
        "missed_offers": agent.missed_offers,
        "handled": agent.handled,
        "queues": sorted(agent.queue_steps),
        # Whether the agent's phone can be rung: registered, unregistered, or null where no SIP endpoint says.
        "phone": None if agent.phone is None else ("registered" if agent.phone else "unregistered"),
        # Whether its headset is plugged in, as its softphone says over MQTT; null where nothing says.
        "headset": None if agent.headset is None else ("connected" if agent.headset else "disconnected"),
    }


def agents_by_state(agents: list[Agent]) -> dict[str, int]:
    counts = {state.value: 0 for state in AgentState}
    for agent in agents:
        counts[agent.state.value] += 1
    return counts


def queue_view(service: AcdService, queue_id: str) -> dict[str, Any]:
    route = service.topology.queues[queue_id]
    config = service.deployment.queue(queue_id)
    now = service.clock.time()
    waiting = service.store.waiting(queue_id)
    entered = [key[1] for key in waiting]
    members = [a for a in service.store.agents() if a.queue_steps.get(queue_id) == 0]
    return {
        "id": queue_id,
        "name": config.name,
        "site": route.site,
        "channels": sorted(c.value for c in route.channels),
        "strategy": route.strategy.value,
        "open": route.hours.is_open(now),
        "closed_reason": route.hours.closed_reason(now),
        "waiting": len(waiting),
        "longest_wait": (now - min(entered)) if entered else 0.0,
        "agents": agents_by_state(members),
        "handle_time_average": service.store.queue_value(queue_id, "handle_time", route.handle_time),
        "today": service.stats.get("queue", queue_id).figures(),
    }

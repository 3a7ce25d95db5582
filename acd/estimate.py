"""Position in queue and estimated wait.

Method: the queue's exponential average handle time (talk + wrap-up, as Asterisk keeps its holdtime)
divided among the agents who actually serve the queue now. Each ready agent who serves it counts as
1/k of an agent when k of the queues it serves have tasks waiting, since it is shared among them.
A task at position p then waits about p x AHT / N: with N = 4 agents and AHT = 240 s, the 8th waits
about 8 minutes, where Asterisk's floor (p x holdtime) would say 32.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.model import Agent, Presence


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    position: int  # 1 = next to be served in this queue
    seconds: float | None  # None: nobody serves the queue now
    agents: float  # effective agents serving the queue
    handle_time: float


def effective_agents(queue_id: str, agents: list[Agent], busy_queues: set[str]) -> float:
    total = 0.0
    for agent in agents:
        if agent.presence is not Presence.READY or queue_id not in agent.queue_steps:
            continue
        shared = sum(1 for q in agent.queue_steps if q in busy_queues) or 1
        total += 1 / shared
    return total


def estimate_wait(position: int, handle_time: float, agents: float) -> WaitEstimate:
    seconds = position * handle_time / agents if agents > 0 else None
    return WaitEstimate(position, seconds, agents, handle_time)

"""Where the queue core's state lives: the `Store` interface and its in-memory implementation.

The router reads and changes state only through this interface, so that another implementation (Redis,
for several nodes) holds the same state without the routing logic being written twice. Orderings are
kept as sorted keys so that the head of a queue and the best idle agent are found without a scan.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Protocol

from acd.model import Agent, Task
from acd.timers import Timer

#: A waiting task's place: (-priority, entry time, arrival sequence, task id).
TaskKey = tuple[int, float, int, str]
#: An idle agent's place in one queue tier: the strategy's sort key, ending with the agent id.
AgentKey = tuple[object, ...]


class Store(Protocol):
    """State of one centre's queue core."""

    def next_seq(self) -> int: ...

    # Records. `peek_*` for a look that changes nothing (matching): a store that records changes skips it.
    def task(self, task_id: str) -> Task | None: ...
    def peek_task(self, task_id: str) -> Task | None: ...
    def peek_agent(self, agent_id: str) -> Agent | None: ...
    def put_task(self, task: Task) -> None: ...
    def delete_task(self, task_id: str) -> None: ...
    def agent(self, agent_id: str) -> Agent | None: ...
    def put_agent(self, agent: Agent) -> None: ...
    def agents(self) -> Iterator[Agent]: ...
    def tasks(self) -> Iterator[Task]: ...

    # Waiting tasks per queue, best first.
    def enqueue(self, queue_id: str, key: TaskKey) -> None: ...
    def dequeue(self, queue_id: str, key: TaskKey) -> None: ...
    def waiting(self, queue_id: str) -> list[TaskKey]: ...
    def position(self, queue_id: str, key: TaskKey) -> int: ...

    # Idle agents per (queue, tier), best first by the queue's strategy.
    def add_idle(self, queue_id: str, tier: int, key: AgentKey) -> None: ...
    def remove_idle(self, queue_id: str, tier: int, key: AgentKey) -> None: ...
    def idle(self, queue_id: str, tier: int) -> list[AgentKey]: ...
    def idle_entries(self, agent_id: str) -> list[tuple[str, int, AgentKey]]: ...
    def set_idle_entries(self, agent_id: str, entries: list[tuple[str, int, AgentKey]]) -> None: ...

    # Timers.
    def add_timer(self, timer: Timer) -> None: ...
    def pop_due(self, now: float) -> Timer | None: ...
    def next_due(self) -> float | None: ...

    # Per-queue values kept between events (handle-time average, round-robin position).
    def queue_value(self, queue_id: str, name: str, default: float) -> float: ...
    def set_queue_value(self, queue_id: str, name: str, value: float) -> None: ...


class MemoryStore:
    """The embedded default: everything in this process's memory."""

    def __init__(self) -> None:
        self._seq = 0
        self._tasks: dict[str, Task] = {}
        self._agents: dict[str, Agent] = {}
        self._waiting: dict[str, list[TaskKey]] = {}
        self._idle: dict[tuple[str, int], list[AgentKey]] = {}
        self._idle_entries: dict[str, list[tuple[str, int, AgentKey]]] = {}
        # Heap entries (due, seq, timer): tuples of a float and an int compare in C; the timer's own
        # ordering (a dataclass's) builds two tuples at each of the heap's many comparisons.
        self._timers: list[tuple[float, int, Timer]] = []
        self._queue_values: dict[tuple[str, str], float] = {}

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def task(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)

    def put_task(self, task: Task) -> None:
        self._tasks[task.id] = task

    peek_task = task

    def agent(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    def put_agent(self, agent: Agent) -> None:
        self._agents[agent.id] = agent

    peek_agent = agent

    def agents(self) -> Iterator[Agent]:
        return iter(self._agents.values())

    def tasks(self) -> Iterator[Task]:
        return iter(self._tasks.values())

    def enqueue(self, queue_id: str, key: TaskKey) -> None:
        insort(self._waiting.setdefault(queue_id, []), key)

    def dequeue(self, queue_id: str, key: TaskKey) -> None:
        _remove_sorted(self._waiting, queue_id, key)

    def waiting(self, queue_id: str) -> list[TaskKey]:
        return self._waiting.get(queue_id) or _EMPTY

    def position(self, queue_id: str, key: TaskKey) -> int:
        return bisect_left(self._waiting.get(queue_id, _EMPTY), key)

    def add_idle(self, queue_id: str, tier: int, key: AgentKey) -> None:
        insort(self._idle.setdefault((queue_id, tier), []), key)

    def remove_idle(self, queue_id: str, tier: int, key: AgentKey) -> None:
        _remove_sorted(self._idle, (queue_id, tier), key)

    def idle(self, queue_id: str, tier: int) -> list[AgentKey]:
        return self._idle.get((queue_id, tier)) or _EMPTY

    def idle_entries(self, agent_id: str) -> list[tuple[str, int, AgentKey]]:
        return self._idle_entries.get(agent_id) or _EMPTY

    def set_idle_entries(self, agent_id: str, entries: list[tuple[str, int, AgentKey]]) -> None:
        if entries:
            self._idle_entries[agent_id] = entries
        else:
            self._idle_entries.pop(agent_id, None)

    def add_timer(self, timer: Timer) -> None:
        heapq.heappush(self._timers, (timer.due, timer.seq, timer))

    def pop_due(self, now: float) -> Timer | None:
        if self._timers and self._timers[0][0] <= now:
            return heapq.heappop(self._timers)[2]
        return None

    def next_due(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def queue_value(self, queue_id: str, name: str, default: float) -> float:
        return self._queue_values.get((queue_id, name), default)

    def set_queue_value(self, queue_id: str, name: str, value: float) -> None:
        self._queue_values[(queue_id, name)] = value

    # What replaying or undoing a change needs beyond the router's interface.

    @property
    def seq(self) -> int:
        return self._seq

    @seq.setter
    def seq(self, value: int) -> None:
        self._seq = value

    def delete_task(self, task_id: str) -> None:
        del self._tasks[task_id]

    def delete_agent(self, agent_id: str) -> None:
        del self._agents[agent_id]

    def remove_timer(self, timer: Timer) -> None:
        entry = (timer.due, timer.seq, timer)
        if self._timers and self._timers[0] == entry:  # the usual case: the timer just fired
            heapq.heappop(self._timers)
            return
        self._timers.remove(entry)  # ValueError if absent: a replica out of step must not go unnoticed
        heapq.heapify(self._timers)

    def timers(self) -> list[Timer]:
        return [timer for _, _, timer in sorted(self._timers)]

    def queue_values(self) -> dict[tuple[str, str], float]:
        return dict(self._queue_values)

    def clear_queue_value(self, queue_id: str, name: str) -> None:
        self._queue_values.pop((queue_id, name), None)


_EMPTY: list = []  # type: ignore[type-arg]  # shared read-only empty list; never mutated


def _remove_sorted(lists: dict, name: object, key: object) -> None:  # type: ignore[type-arg]
    items = lists[name]
    index = bisect_left(items, key)
    if index == len(items) or items[index] != key:
        raise KeyError(key)
    del items[index]
    if not items:  # no empty lists left behind: two stores with the same content compare equal
        del lists[name]

"""What the processing of one event shares: the store, the topology, the decisions made, the clock.

The concept modules (`offers`, `tasks`, `transfers`, `presence`, `timers`) are functions of this state;
`acd.router.Router` is this state with the entry point `process(event, now)`.
"""

from __future__ import annotations

from typing import Any

from acd import matching
from acd.calendar import OpenNow
from acd.decisions import Decision, Kind
from acd.errors import UnknownAgent, UnknownQueue, UnknownTask
from acd.model import Agent, Outcome, Place, Task
from acd.routing.places import move
from acd.routing.topology import QueueRoute, Topology
from acd.store import Store
from acd.timers import Timer, TimerKind


class State:
    """The queue core's state behind its store, with the lookups and bookkeeping every concept uses."""

    def __init__(self, topology: Topology, store: Store, *, skills: frozenset[str] | None = None) -> None:
        self.topology = topology
        self.queues = topology.queues
        self.store = store
        self.skills = skills
        self.clock = float("-inf")
        #: The decisions of the event being processed, in order.
        self.out: list[Decision] = []
        #: While timers fire: agents and tasks to route once they all have (None: route at once).
        self.deferred: tuple[list[Agent], list[Task]] | None = None
        #: What is being processed (an event's or a timer's name): impossible moves name it.
        self.cause = ""
        self._open = {queue_id: OpenNow(queue.hours) for queue_id, queue in self.queues.items()}
        self.timer_budget = float("inf")  # timers this event may still fire

    # ----------------------------------------------------------------------------------- lookups

    def queue(self, queue_id: str) -> QueueRoute:
        queue = self.queues.get(queue_id)
        if queue is None:
            raise UnknownQueue(f"unknown queue {queue_id!r}", queue=queue_id)
        return queue

    def task(self, task_id: str) -> Task:
        task = self.store.task(task_id)
        if task is None:
            raise UnknownTask(f"unknown task {task_id!r}", task=task_id)
        return task

    def agent(self, agent_id: str) -> Agent:
        agent = self.store.agent(agent_id)
        if agent is None:
            raise UnknownAgent(f"unknown agent {agent_id!r}", agent=agent_id)
        return agent

    def is_open(self, queue: QueueRoute, now: float) -> bool:
        return self._open[queue.id].is_open(now)

    # ------------------------------------------------------------------------------ bookkeeping

    def emit(self, kind: Kind, at: float, task: Task | None = None, **fields: Any) -> None:
        if task is not None:
            fields.setdefault("task", task.id)
            fields.setdefault("queue", task.queue)
            fields.setdefault("channel", task.channel.value)
        self.out.append(Decision(kind, at, **fields))

    def add_timer(self, due: float, kind: TimerKind, task: Task) -> None:
        """A timer for the task in its current place: it is stale once the task moves (its version)."""
        self.store.add_timer(Timer(due, self.store.next_seq(), kind, task.id, task.version))

    # --------------------------------------------------------------------------------- queues

    def leave_queue(self, task: Task) -> None:
        """Take a waiting task out of its queue's order (its place changes next, by `places.move`)."""
        if task.place is Place.QUEUED:
            self.store.dequeue(task.queue, matching.task_key(task))

    def enqueue(self, task: Task, queue: QueueRoute, now: float) -> None:
        """Into the queue's order (a waiting task has left its former queue's order first)."""
        move(task, Place.QUEUED, self.cause, self.store.next_seq)
        task.agent = None
        self.store.enqueue(queue.id, matching.task_key(task))
        self.set_queue_timers(task, queue, now)

    def set_queue_timers(self, task: Task, queue: QueueRoute, now: float) -> None:
        """Timers count from the entry in this queue, so a task put back keeps its schedule."""
        self.set_step_timer(task, queue)
        self.set_aging_timer(task, queue)
        if queue.max_wait is not None:
            self.add_timer(task.queued_at + queue.max_wait, TimerKind.MAX_WAIT, task)

    def set_aging_timer(self, task: Task, queue: QueueRoute) -> None:
        if queue.aging_every is not None and task.aging < queue.aging_max:
            rounds = task.aging // queue.aging_step + 1
            self.add_timer(task.queued_at + rounds * queue.aging_every, TimerKind.AGING, task)

    def set_step_timer(self, task: Task, queue: QueueRoute) -> None:
        if task.step + 1 < len(queue.steps):
            self.add_timer(task.queued_at + queue.steps[task.step + 1].after, TimerKind.OVERFLOW_STEP, task)

    def end(self, task: Task, outcome: Outcome, now: float, kind: Kind = Kind.TASK_ENDED, **fields: Any) -> None:
        """The task ends: out of its queue if it waited, kept readable until its retention is over."""
        self.leave_queue(task)
        move(task, Place.ENDED, self.cause, self.store.next_seq)
        task.outcome = outcome
        task.ended_at = now
        fields.setdefault("reason", outcome.value)
        if task.answered_at is None:
            fields.setdefault("wait", now - task.entered_at)
        self.emit(kind, now, task, **fields)
        self.add_timer(now + self.topology.ended_task_retention, TimerKind.FORGET, task)

"""An agent's handling of a task once answered: its end (wrap-up starts), the wrap-up's end, the figures.

The task's part with the agent ends the same way whether the agent completes it or transfers it: talk
time recorded, wrap-up for the queue's seconds (the agent keeps the task's capacity meanwhile), then the
task ends with its handle time, `completed`, or `transferred` when the core recorded where it went
(`Task.transferred_to`, set by the transfer alone, never by a task's attributes).
"""

from __future__ import annotations

from acd.decisions import Kind
from acd.errors import TransitionError
from acd.events import TaskCompleted, WrapUpEnded
from acd.model import Agent, Outcome, Place, Task
from acd.routing.offers import agent_changed, sync_state
from acd.routing.places import move
from acd.routing.state import State
from acd.timers import TimerKind


def assigned_to(st: State, task_id: str, agent_id: str, place: Place, what: str) -> tuple[Task, Agent]:
    task, agent = st.task(task_id), st.agent(agent_id)
    if task.agent != agent.id or task.place is not place:
        raise TransitionError(
            f"cannot {what} task {task.id!r}: it is {task.place.value}"
            + ("" if task.agent == agent.id else f" and not with agent {agent.id!r}"),
            task=task.id,
            state=task.place.value,
        )
    return task, agent


def task_completed(st: State, event: TaskCompleted, now: float) -> None:
    task, agent = assigned_to(st, event.task_id, event.agent_id, Place.ASSIGNED, "complete")
    end_handling(st, task, agent, now)


def end_handling(st: State, task: Task, agent: Agent, now: float) -> None:
    """The agent's part of an assigned task ends: wrap-up starts, or the task ends at once."""
    queue = st.queues[task.queue]
    talk = now - (task.answered_at or now)
    st.emit(Kind.TASK_COMPLETED, now, task, agent=agent.id, talk=talk)
    if queue.wrap_up <= 0:
        finish(st, task, agent, now)
        return
    move(task, Place.WRAP_UP, st.cause, st.store.next_seq)
    task.wrap_up_at = now
    agent.wrap_ups.add(task.id)
    st.add_timer(now + queue.wrap_up, TimerKind.WRAP_UP_END, task)
    sync_state(st, agent, now)


def wrap_up_ended(st: State, event: WrapUpEnded, now: float) -> None:
    task, agent = assigned_to(st, event.task_id, event.agent_id, Place.WRAP_UP, "end the wrap-up of")
    finish(st, task, agent, now)


def finish(st: State, task: Task, agent: Agent, now: float) -> None:
    """The task ends with its handle time (talk + wrap-up); the agent's capacity is free again."""
    outcome = Outcome.TRANSFERRED if task.transferred_to is not None else Outcome.COMPLETED
    handle = now - (task.answered_at or now)
    agent.tasks.discard(task.id)
    agent.wrap_ups.discard(task.id)
    agent.used_units -= agent.unit_cost[task.channel]
    agent.handled += 1
    agent.busy_seconds += handle
    if not agent.tasks:
        agent.idle_since = now
    weight = st.topology.handle_time_weight
    queue = st.queues[task.queue]
    average = st.store.queue_value(queue.id, "handle_time", queue.handle_time)
    st.store.set_queue_value(queue.id, "handle_time", (1 - weight) * average + weight * handle)
    st.end(task, outcome, now, agent=agent.id, talk=handle)
    agent_changed(st, agent, now)

"""Changes of the queue core's state as data: recorded while the router works, replayed or undone after.

A node that shares its state with others (the Redis store) runs the router on its own copy of the state
(a `MemoryStore`, the replica) through a `ChangeRecorder`. The recorder lets the router read and write as
usual and notes what changed, as stored items: each item of the state has an address (a collection and a
field: a task, an agent, a place in a queue, a timer...) and a text. A `Change` holds the items an event
left different, each with its text after the event (None: removed); the node commits them to the shared
store and the other nodes replay them on their replicas. Only the net result is kept: a timer set and
fired within one event, a seq counter moved twice, is written once or not at all. If the commit is
refused (another node committed first), `rollback` puts the replica back exactly as it was, and the
event is processed again on fresh state.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from acd.codec import (
    decode_key,
    decode_timer,
    dumps,
    encode_agent,
    encode_key,
    encode_task,
    encode_timer,
)
from acd.model import Agent, Task
from acd.store import AgentKey, MemoryStore, TaskKey
from acd.timers import Timer

#: An undo operation, as a list: ["enqueue", queue, key-text], ["seq", before], ...
Op = list[Any]
IdleEntry = tuple[str, int, AgentKey]
#: Where an item of the state is stored: its collection and its field in it.
#:   tasks, agents     task or agent id -> its record (JSON; an agent's live state only)
#:   waiting           "<queue>SEP<key>" -> "1": a waiting task's place (its key orders the queue)
#:   idle              "<queue>SEP<tier>SEP<key>" -> "1": an idle agent's place
#:   idle_entries      agent id -> the agent's idle places (JSON)
#:   timers            the timer (JSON) -> its due time: the score it is ordered by
#:   queue_values      "<queue>SEP<name>" -> the value (JSON)
#:   counters          "seq" -> the last sequence number given
Address = tuple[str, str]
SEP = "\x1f"  # a unit separator: in no queue id, no number, and escaped by JSON inside keys


@dataclass(frozen=True, slots=True)
class Change:
    """The items one processed event changed, with their text after it (None: removed); empty if none."""

    items: dict[Address, str | None]
    latest: float  # the core's time after the event: no node's later event may carry an earlier time

    def __bool__(self) -> bool:
        return bool(self.items)


class ChangeRecorder:
    """The `Store` the router uses on a replica: passes everything through and records it."""

    def __init__(self, base: MemoryStore) -> None:
        self.base = base
        # Copies of the records as they were when first read: the router changes records in place.
        self._tasks_before: dict[str, Task | None] = {}
        self._agents_before: dict[str, Agent | None] = {}
        self._items: dict[Address, str | None] = {}  # the items written, with their latest text
        self._was_there: dict[Address, bool] = {}  # places: whether each was there before the change
        self._undo: list[Op] = []

    # ------------------------------------------------------------------ the change in progress

    def change(self, latest: float) -> Change:
        """What changed since the last `forget` or `rollback`: places and values, then changed records."""
        was_there = self._was_there
        items = {
            address: text
            for address, text in self._items.items()
            if was_there.get(address, text is None) != (text is not None)  # for a place: there before != now
        }
        for task_id, task_before in self._tasks_before.items():
            task = self.base.task(task_id)
            if task != task_before:
                items["tasks", task_id] = None if task is None else encode_task(task)
        for agent_id, agent_before in self._agents_before.items():
            agent = self.base.agent(agent_id)
            if agent != agent_before:
                items["agents", agent_id] = None if agent is None else encode_agent(agent)
        return Change(items, latest)

    def forget(self) -> None:
        """The change is committed: start the next one."""
        self._tasks_before.clear()
        self._agents_before.clear()
        self._items.clear()
        self._was_there.clear()
        self._undo.clear()

    def rollback(self) -> None:
        """Put the replica back as it was before the change, records and indexes."""
        for op in reversed(self._undo):
            _undo(self.base, op)
        for task_id, task in self._tasks_before.items():
            if task is not None:
                self.base.put_task(task)
            elif self.base.task(task_id) is not None:
                self.base.delete_task(task_id)
        for agent_id, agent in self._agents_before.items():
            if agent is not None:
                self.base.put_agent(agent)
            elif self.base.agent(agent_id) is not None:
                self.base.delete_agent(agent_id)
        self.forget()

    def _set(self, address: Address, text: str | None, undo: Op) -> None:
        self._items[address] = text
        self._undo.append(undo)

    def _place(self, address: Address, text: str | None, undo: Op) -> None:
        # The first write of a place tells whether it was there: one adds what was not there, and the reverse.
        self._was_there.setdefault(address, text is None)
        self._set(address, text, undo)

    def _touch_task(self, task_id: str) -> None:
        if task_id not in self._tasks_before:
            task = self.base.task(task_id)
            self._tasks_before[task_id] = None if task is None else copy_task(task)

    def _touch_agent(self, agent_id: str) -> None:
        if agent_id not in self._agents_before:
            agent = self.base.agent(agent_id)
            self._agents_before[agent_id] = None if agent is None else copy_agent(agent)

    # --------------------------------------------------------------------------- Store interface

    def next_seq(self) -> int:
        before = self.base.seq
        value = self.base.next_seq()
        self._set(("counters", "seq"), str(value), ["seq", before])
        return value

    def task(self, task_id: str) -> Task | None:
        self._touch_task(task_id)  # the router may change what it reads: note it as it was
        return self.base.task(task_id)

    def put_task(self, task: Task) -> None:
        self._touch_task(task.id)
        self.base.put_task(task)

    def peek_task(self, task_id: str) -> Task | None:
        return self.base.task(task_id)  # not noted: whoever changes it reads it with `task` first

    def peek_agent(self, agent_id: str) -> Agent | None:
        return self.base.agent(agent_id)

    def delete_task(self, task_id: str) -> None:
        self._touch_task(task_id)
        self.base.delete_task(task_id)

    def agent(self, agent_id: str) -> Agent | None:
        self._touch_agent(agent_id)
        return self.base.agent(agent_id)

    def put_agent(self, agent: Agent) -> None:
        self._touch_agent(agent.id)
        self.base.put_agent(agent)

    def agents(self) -> Iterator[Agent]:
        for agent in list(self.base.agents()):
            self._touch_agent(agent.id)
            yield agent

    def tasks(self) -> Iterator[Task]:
        for task in list(self.base.tasks()):
            self._touch_task(task.id)
            yield task

    def enqueue(self, queue_id: str, key: TaskKey) -> None:
        self.base.enqueue(queue_id, key)
        text = encode_key(key)
        self._place(("waiting", queue_id + SEP + text), "1", ["dequeue", queue_id, text])

    def dequeue(self, queue_id: str, key: TaskKey) -> None:
        self.base.dequeue(queue_id, key)
        text = encode_key(key)
        self._place(("waiting", queue_id + SEP + text), None, ["enqueue", queue_id, text])

    def waiting(self, queue_id: str) -> list[TaskKey]:
        return self.base.waiting(queue_id)

    def position(self, queue_id: str, key: TaskKey) -> int:
        return self.base.position(queue_id, key)

    def add_idle(self, queue_id: str, tier: int, key: AgentKey) -> None:
        self.base.add_idle(queue_id, tier, key)
        text = encode_key(key)
        self._place(("idle", f"{queue_id}{SEP}{tier}{SEP}{text}"), "1", ["remove_idle", queue_id, tier, text])

    def remove_idle(self, queue_id: str, tier: int, key: AgentKey) -> None:
        self.base.remove_idle(queue_id, tier, key)
        text = encode_key(key)
        self._place(("idle", f"{queue_id}{SEP}{tier}{SEP}{text}"), None, ["add_idle", queue_id, tier, text])

    def idle(self, queue_id: str, tier: int) -> list[AgentKey]:
        return self.base.idle(queue_id, tier)

    def idle_entries(self, agent_id: str) -> list[IdleEntry]:
        return self.base.idle_entries(agent_id)

    def set_idle_entries(self, agent_id: str, entries: list[IdleEntry]) -> None:
        before = _entries_text(self.base.idle_entries(agent_id))
        self.base.set_idle_entries(agent_id, entries)
        after = _entries_text(entries)
        self._set(("idle_entries", agent_id), dumps(after) if after else None, ["idle_entries", agent_id, before])

    def add_timer(self, timer: Timer) -> None:
        self.base.add_timer(timer)
        text = encode_timer(timer)
        self._place(("timers", text), _due(text), ["remove_timer", text])

    def pop_due(self, now: float) -> Timer | None:
        timer = self.base.pop_due(now)
        if timer is not None:
            text = encode_timer(timer)
            self._place(("timers", text), None, ["add_timer", text])
        return timer

    def next_due(self) -> float | None:
        return self.base.next_due()

    def queue_value(self, queue_id: str, name: str, default: float) -> float:
        return self.base.queue_value(queue_id, name, default)

    def set_queue_value(self, queue_id: str, name: str, value: float) -> None:
        before = self.base.queue_values().get((queue_id, name))
        self.base.set_queue_value(queue_id, name, value)
        self._set(("queue_values", queue_id + SEP + name), dumps(value), ["queue_value", queue_id, name, before])


def copy_task(t: Task) -> Task:
    """A copy that no change of `t` reaches. Fields by hand, in order: `copy.copy` costs twice as much, and
    this runs for every record the router reads. Attributes and required skills are never changed."""
    return Task(
        t.id, t.channel, t.queue, t.priority, t.attributes, t.required_skills, t.created_at, t.entered_at,
        t.queued_at, t.seq, t.place, t.step, t.aging, t.agent, t.offered_at, t.offer_expires_at, t.answered_at,
        t.wrap_up_at, t.ended_at, t.outcome, t.not_before, set(t.refused_by), t.version, t.transferred_to,
    )  # fmt: skip


def copy_agent(a: Agent) -> Agent:
    """As `copy_task`; the agent's definition (skills, capacity, queues) is never changed, so shared."""
    return Agent(
        a.id, a.name, a.team, a.site, a.skills, a.unit_cost, a.ordinal, a.presence, a.reason, a.state,
        a.state_since, a.used_units, a.reservation, set(a.tasks), set(a.wrap_ups), a.missed_offers, a.idle_since,
        a.handled, a.busy_seconds, a.logged_in_at, a.queue_steps, a.node, a.phone, a.headset,
    )  # fmt: skip


def _due(timer_text: str) -> str:
    # A timer's text is canonical JSON "[due,seq,...]": its first element, as written there, is the score.
    return timer_text[1 : timer_text.index(",")]


def _entries_text(entries: list[IdleEntry]) -> list[list[Any]]:
    return [[queue_id, tier, encode_key(key)] for queue_id, tier, key in entries]


def _undo(store: MemoryStore, op: Op) -> None:
    """Carry out one undo operation of an index (records are put back whole by `rollback`).

    Other nodes replay a committed change from its items as Redis wrote them (`redisstore.schema`), not
    from these operations: they only serve to take back a change that was refused.
    """
    what = op[0]
    if what == "enqueue":
        store.enqueue(op[1], decode_key(op[2]))  # type: ignore[arg-type]
    elif what == "dequeue":
        store.dequeue(op[1], decode_key(op[2]))  # type: ignore[arg-type]
    elif what == "add_idle":
        store.add_idle(op[1], op[2], decode_key(op[3]))
    elif what == "remove_idle":
        store.remove_idle(op[1], op[2], decode_key(op[3]))
    elif what == "idle_entries":
        store.set_idle_entries(op[1], [(q, tier, decode_key(key)) for q, tier, key in op[2]])
    elif what == "add_timer":
        store.add_timer(decode_timer(op[1]))
    elif what == "remove_timer":
        store.remove_timer(decode_timer(op[1]))
    elif what == "queue_value":
        _, queue_id, name, value = op
        if value is None:
            store.clear_queue_value(queue_id, name)
        else:
            store.set_queue_value(queue_id, name, value)  # as JSON kept it, int or float
    elif what == "seq":
        store.seq = int(op[1])
    else:
        raise ValueError(f"unknown change operation {what!r}")

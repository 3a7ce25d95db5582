"""Where one deployment's state lives in Redis, and how a recorded change becomes Redis writes.

Every key starts with `acd:{<deployment>}:`; the braces are a Redis Cluster hash tag, so all the keys of
one deployment fall in one slot and one Lua script may touch them all. Several deployments spread over
the slots of a cluster.

    counters      hash: n (changes committed), epoch, seq, latest, events
    changes       stream: entry "<n>-1" holds change n: its writes (w) and its decisions (c)
    tasks         hash: task id -> task record (JSON)
    agents        hash: agent id -> the agent's live state (JSON; its definition is the configuration's)
    waiting       hash: "<queue>\\x1f<key>" -> "1" (a waiting task's place; the key orders the queue)
    idle          hash: "<queue>\\x1f<tier>\\x1f<key>" -> "1"
    idle_entries  hash: agent id -> the agent's idle places (JSON)
    timers        sorted set: timer record (JSON) scored by its due time
    queue_values  hash: "<queue>\\x1f<name>" -> value (JSON)
    nodes         hash: node id -> when it joined; node:<id> is the node's lease (expires unless renewed)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from collections.abc import Mapping

from acd.changes import Change
from acd.codec import decode_agent, decode_key, decode_task, decode_timer
from acd.model import Agent
from acd.store import AgentKey, MemoryStore, TaskKey

SEP = "\x1f"  # a unit separator: in no queue id, no number, and escaped by JSON inside keys
RS = "\x1e"  # separates the writes of a change in one argument and one stream field (JSON escapes it too)
DATA = ("counters", "changes", "tasks", "agents", "waiting", "idle", "idle_entries", "timers", "queue_values")
_INDEX = {name: str(i) for i, name in enumerate(DATA, start=1)}  # Lua's KEYS[i] of each


@dataclass(frozen=True, slots=True)
class Keys:
    deployment: str

    @property
    def tag(self) -> str:
        return f"acd:{{{self.deployment}}}:"

    def __getattr__(self, name: str) -> str:
        if name in DATA or name == "nodes":
            return self.tag + name
        raise AttributeError(name)

    def data(self) -> list[str]:
        return [self.tag + name for name in DATA]

    def lease(self, node: str) -> str:
        return f"{self.tag}node:{node}"


def redis_writes(change: Change, next_event: int) -> list[str]:
    """The flat argument list the commit script carries out: h/d (hash set/delete), z/r (zset add/remove)."""
    out: list[str] = []
    for op in change.ops:
        what = op[0]
        if what in ("task", "agent"):
            name = "tasks" if what == "task" else "agents"
            if op[2] is None:
                out += ("d", _INDEX[name], op[1])
            else:
                out += ("h", _INDEX[name], op[1], op[2])
        elif what == "enqueue":
            out += ("h", _INDEX["waiting"], op[1] + SEP + op[2], "1")
        elif what == "dequeue":
            out += ("d", _INDEX["waiting"], op[1] + SEP + op[2])
        elif what == "add_idle":
            out += ("h", _INDEX["idle"], f"{op[1]}{SEP}{op[2]}{SEP}{op[3]}", "1")
        elif what == "remove_idle":
            out += ("d", _INDEX["idle"], f"{op[1]}{SEP}{op[2]}{SEP}{op[3]}")
        elif what == "idle_entries":
            if op[2]:
                out += ("h", _INDEX["idle_entries"], op[1], json.dumps(op[2], separators=(",", ":")))
            else:
                out += ("d", _INDEX["idle_entries"], op[1])
        elif what == "add_timer":
            out += ("z", _INDEX["timers"], _due(op[1]), op[1])
        elif what == "remove_timer":
            out += ("r", _INDEX["timers"], op[1])
        elif what == "queue_value":
            field = op[1] + SEP + op[2]
            if op[3] is None:
                out += ("d", _INDEX["queue_values"], field)
            else:
                out += ("h", _INDEX["queue_values"], field, json.dumps(op[3]))
        elif what == "seq":
            out += ("h", _INDEX["counters"], "seq", str(op[1]))
        else:
            raise ValueError(f"unknown change operation {what!r}")
    out += ("h", _INDEX["counters"], "latest", repr(change.latest))
    out += ("h", _INDEX["counters"], "events", str(next_event))
    return out


def _due(timer_text: str) -> str:
    # A timer's text is canonical JSON "[due,seq,...]": its first element is the score.
    return timer_text[1 : timer_text.index(",")]


def apply_writes(store: MemoryStore, writes: str, definitions: Mapping[str, Agent]) -> dict[str, str]:
    """Replay a change's writes (as the commit script carried them out) on a replica.

    Returns the counters the change set (latest, events): they belong to the node, not to the store.
    """
    counters: dict[str, str] = {}
    tokens = writes.split(RS) if writes else []
    i = 0
    while i < len(tokens):
        op, name = tokens[i], DATA[int(tokens[i + 1]) - 1]
        if op in ("h", "z"):
            set_field(store, name, tokens[i + 2], tokens[i + 3], definitions, counters)
            i += 4
        elif op in ("d", "r"):
            _delete(store, name, tokens[i + 2])
            i += 3
        else:
            raise ValueError(f"unknown write {op!r} at {i}")
    return counters


def set_field(
    store: MemoryStore, name: str, field: str, value: str, definitions: Mapping[str, Agent], counters: dict[str, str]
) -> None:
    """Set one stored item on a replica: hash `name`'s `field` to `value` (for timers: the timer twice)."""
    if name == "tasks":
        store.put_task(decode_task(value))
    elif name == "agents":
        definition = store.agent(field) or definitions.get(field)
        if definition is None:
            raise ValueError(f"agent {field!r} is in the shared state but not in this node's configuration")
        store.put_agent(decode_agent(value, definition))
    elif name == "waiting":
        store.enqueue(*_waiting_place(field))
    elif name == "idle":
        store.add_idle(*_idle_place(field))
    elif name == "idle_entries":
        store.set_idle_entries(field, [(q, t, decode_key(k)) for q, t, k in json.loads(value)])
    elif name == "timers":
        store.add_timer(decode_timer(value))  # a z write: field is the score, value the timer
    elif name == "queue_values":
        queue_id, value_name = field.split(SEP, 1)
        store.set_queue_value(queue_id, value_name, json.loads(value))
    elif field == "seq":
        store.seq = int(value)
    else:  # the other counters (n, epoch, latest, events) are the node's, not the store's
        counters[field] = value


def _waiting_place(field: str) -> tuple[str, TaskKey]:
    queue_id, key = field.split(SEP, 1)
    return queue_id, decode_key(key)  # type: ignore[return-value]


def _idle_place(field: str) -> tuple[str, int, AgentKey]:
    queue_id, tier, key = field.split(SEP, 2)
    return queue_id, int(tier), decode_key(key)


def _delete(store: MemoryStore, name: str, field: str) -> None:
    if name == "tasks":
        store.delete_task(field)
    elif name == "waiting":
        store.dequeue(*_waiting_place(field))
    elif name == "idle":
        store.remove_idle(*_idle_place(field))
    elif name == "idle_entries":
        store.set_idle_entries(field, [])
    elif name == "timers":
        store.remove_timer(decode_timer(field))
    elif name == "queue_values":
        queue_id, value_name = field.split(SEP, 1)
        store.clear_queue_value(queue_id, value_name)
    else:
        raise ValueError(f"no deletion in {name}")

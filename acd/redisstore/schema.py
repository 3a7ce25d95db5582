"""Where one deployment's state lives in Redis, and how a recorded change becomes Redis writes.

Every key starts with `acd:{<deployment>}:`; the braces are a Redis Cluster hash tag, so all the keys of
one deployment fall in one slot and one Lua script may touch them all. Several deployments spread over
the slots of a cluster.

    counters      hash: n (changes committed), epoch, seq, latest, events
    changes       stream: entry "<n>-1" holds change n: its writes (w) and its decisions (c)
    tasks, agents, waiting, idle, idle_entries, queue_values
                  hashes: one field per item of the state (`acd.changes.Address`); a task or an
                  agent is a JSON array of its values (`acd.codec`)
    timers        sorted set: timer record (JSON) scored by its due time
    nodes         hash: node id -> when it joined; node:<id> is the node's lease (expires unless renewed)
    session:<h>   string: the API session of the token whose SHA-256 is <h> (hex), JSON; expires with it
    login:user:<id>, login:address:<ip>
                  string: failed log-ins counted in the key's window, expiring when the window ends;
                  its :refused twin says the window's refusal was logged

A change goes to Redis as groups of writes, one Redis command each: "h" (HSET) key count field value...,
"d" (HDEL) key count field..., "z" (ZADD) key count score member..., "r" (ZREM) key count member...;
`key` is the number of the key in `DATA` (Lua's KEYS[i]). All joined by RS in one argument, which the
stream entry keeps for the other nodes to replay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from acd.changes import SEP, Change
from acd.codec import decode_agent, decode_key, decode_task, decode_timer
from acd.model import Agent
from acd.store import AgentKey, MemoryStore, TaskKey

RS = "\x1e"  # separates the writes of a change in one argument and one stream field (JSON escapes it too)
DATA = ("counters", "changes", "tasks", "agents", "waiting", "idle", "idle_entries", "timers", "queue_values")
_INDEX = {name: str(i) for i, name in enumerate(DATA, start=1)}  # Lua's KEYS[i] of each
_SORTED = frozenset({"timers"})  # the sorted sets; every other collection is a hash
#: Items per entry of each kind of write.
WIDTH = {"h": 2, "d": 1, "z": 2, "r": 1}


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

    def session(self, key: bytes) -> str:
        return f"{self.tag}session:{key.hex()}"

    def login(self, key: str) -> str:
        return f"{self.tag}login:{key}"


def redis_writes(change: Change, counters: Mapping[str, str]) -> list[str]:
    """The change's items, and the node's `counters` (latest, events), as the groups the commit script writes.

    The counters' group comes first: the script sets the change's number with it.
    """
    kept: dict[str, list[str]] = {"counters": []}  # field, text (for a sorted set: score, member)...
    removed: dict[str, list[str]] = {}
    for (collection, field), text in change.items.items():
        if text is None:
            removed.setdefault(collection, []).append(field)
        elif collection in _SORTED:
            kept.setdefault(collection, []).extend((text, field))
        else:
            kept.setdefault(collection, []).extend((field, text))
    for name, value in counters.items():
        kept["counters"].extend((name, value))
    out: list[str] = []
    for groups, hash_op, sorted_op in ((kept, "h", "z"), (removed, "d", "r")):
        for collection, items in groups.items():
            index = _INDEX.get(collection)
            if index is None or collection == "changes":
                raise ValueError(f"unknown collection {collection!r}")
            op = sorted_op if collection in _SORTED else hash_op
            if items:
                out += (op, index, str(len(items) // WIDTH[op]), *items)
    return out


def apply_writes(store: MemoryStore, writes: str, definitions: Mapping[str, Agent]) -> dict[str, str]:
    """Replay a change's writes (as the commit script carried them out) on a replica.

    Returns the counters the change set (latest, events): they belong to the node, not to the store.
    """
    counters: dict[str, str] = {}
    tokens = writes.split(RS) if writes else []
    i = 0
    while i < len(tokens):
        if i + 3 > len(tokens):
            raise ValueError(f"write at {i} is cut short")
        op, index, count = tokens[i : i + 3]
        width = WIDTH.get(op)
        if width is None or not index.isdigit() or not 1 <= int(index) <= len(DATA) or not count.isdigit():
            raise ValueError(f"unknown write {op!r} at {i}")
        name, first, end = DATA[int(index) - 1], i + 3, i + 3 + int(count) * width
        if end > len(tokens):
            raise ValueError(f"write {op!r} at {i} is cut short")
        if op == "h" or op == "z":
            for field, value in zip(tokens[first:end:2], tokens[first + 1 : end : 2]):
                set_field(store, name, field, value, definitions, counters)
        else:
            for field in tokens[first:end]:
                _delete(store, name, field)
        i = end
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

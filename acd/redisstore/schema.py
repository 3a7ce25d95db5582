"""Where one deployment's state lives in Redis, and how a recorded change becomes Redis writes.

Every key starts with `acd:{<deployment>}:`; the braces are a Redis Cluster hash tag, so all the keys of
one deployment fall in one slot and one Lua script may touch them all. Several deployments spread over
the slots of a cluster.

    counters      hash: n (changes committed), epoch, seq, latest, events
    changes       stream: entry "<n>-1" holds change n (its operations and its decisions)
    tasks         hash: task id -> task record (JSON)
    agents        hash: agent id -> agent record (JSON)
    waiting       hash: "<queue>\\x1f<key>" -> "" (a waiting task's place; the key orders the queue)
    idle          hash: "<queue>\\x1f<tier>\\x1f<key>" -> ""
    idle_entries  hash: agent id -> the agent's idle places (JSON)
    timers        sorted set: timer record (JSON) scored by its due time
    queue_values  hash: "<queue>\\x1f<name>" -> value (JSON)
    nodes         hash: node id -> when it joined; node:<id> is the node's lease (expires unless renewed)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from acd.changes import Change

SEP = "\x1f"  # a unit separator: in no queue id, no number, and escaped by JSON inside keys
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
            out += ("h", _INDEX["waiting"], op[1] + SEP + op[2], "")
        elif what == "dequeue":
            out += ("d", _INDEX["waiting"], op[1] + SEP + op[2])
        elif what == "add_idle":
            out += ("h", _INDEX["idle"], f"{op[1]}{SEP}{op[2]}{SEP}{op[3]}", "")
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

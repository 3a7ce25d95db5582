"""The queue core's records as JSON values, for a store that keeps them outside this process.

Encoding is canonical (the same record always gives the same text), so that a timer or a key written by
one node can be found and removed by another from its text alone. Decoding refuses what is not a record
of the expected shape with `CodecError`, naming the record; a store never trusts its own bytes blindly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from acd.model import Agent, AgentState, Channel, Outcome, Place, Presence, Task
from acd.timers import Timer, TimerKind

T = TypeVar("T")
_TASK_FIELDS = tuple(f.name for f in fields(Task))
_AGENT_FIELDS = tuple(f.name for f in fields(Agent))


class CodecError(ValueError):
    """Stored bytes that are not the record they should be."""


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _loads(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError(f"stored {what} is not JSON: {exc}") from exc


def _decoding(what: str, build: Callable[[Any], T], text: str | bytes) -> T:
    value = _loads(text, what)
    try:
        return build(value)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CodecError(f"stored {what} is malformed: {exc!r}") from exc


def encode_task(task: Task) -> str:
    value = {name: getattr(task, name) for name in _TASK_FIELDS}
    value["refused_by"] = sorted(task.refused_by)
    return dumps(value)


def _record(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return dict(value)


def _task(value: object) -> Task:
    value = _record(value)
    value["channel"] = Channel(value["channel"])
    value["place"] = Place(value["place"])
    value["outcome"] = None if value["outcome"] is None else Outcome(value["outcome"])
    value["refused_by"] = set(value["refused_by"])
    return Task(**value)


def decode_task(text: str | bytes) -> Task:
    return _decoding("task", _task, text)


def encode_agent(agent: Agent) -> str:
    value = {name: getattr(agent, name) for name in _AGENT_FIELDS}
    value["tasks"] = sorted(agent.tasks)
    value["wrap_ups"] = sorted(agent.wrap_ups)
    return dumps(value)


def _agent(value: object) -> Agent:
    value = _record(value)
    value["unit_cost"] = {Channel(channel): int(units) for channel, units in value["unit_cost"].items()}
    value["presence"] = Presence(value["presence"])
    value["state"] = AgentState(value["state"])
    value["tasks"] = set(value["tasks"])
    value["wrap_ups"] = set(value["wrap_ups"])
    return Agent(**value)


def decode_agent(text: str | bytes) -> Agent:
    return _decoding("agent", _agent, text)


def encode_timer(timer: Timer) -> str:
    return dumps([timer.due, timer.seq, timer.kind.value, timer.task_id, timer.version])


def _timer(value: list[Any]) -> Timer:
    due, seq, kind, task_id, version = value
    return Timer(float(due), int(seq), TimerKind(kind), str(task_id), int(version))


def decode_timer(text: str | bytes) -> Timer:
    return _decoding("timer", _timer, text)


def encode_key(key: tuple[object, ...]) -> str:
    """A waiting task's or an idle agent's sort key: a flat tuple of numbers and strings."""
    return dumps(list(key))


def _key(value: list[Any]) -> tuple[object, ...]:
    if not isinstance(value, list) or not all(isinstance(item, (int, float, str)) for item in value):
        raise ValueError("a key is a list of numbers and strings")
    return tuple(value)


def decode_key(text: str | bytes) -> tuple[object, ...]:
    return _decoding("key", _key, text)

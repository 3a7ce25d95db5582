"""The queue core's records as JSON values, for a store that keeps them outside this process.

Encoding is canonical (the same record always gives the same text), so that a timer or a key written by
one node can be found and removed by another from its text alone. Decoding refuses what is not a record
of the expected shape with `CodecError`, naming the record; a store never trusts its own bytes blindly.

A task or an agent is a JSON array of its values in the order of `TASK_FIELDS` or `AGENT_STATE_FIELDS`
(the dataclass's fields): without the names, a record costs half as much to encode and is half as long
to commit and to keep, and it is encoded for every record an event changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any, TypeVar

from acd.model import Agent, AgentState, Channel, Outcome, Place, Presence, Task
from acd.timers import Timer, TimerKind

T = TypeVar("T")
TASK_FIELDS = tuple(f.name for f in fields(Task))
#: What the configuration defines of an agent: the same on every node, so never stored.
AGENT_DEFINITION = ("id", "name", "team", "site", "skills", "unit_cost", "ordinal", "queue_steps")
AGENT_STATE_FIELDS = tuple(f.name for f in fields(Agent) if f.name not in AGENT_DEFINITION)
_agent_values = attrgetter(*AGENT_STATE_FIELDS)
_TASKS, _WRAP_UPS = AGENT_STATE_FIELDS.index("tasks"), AGENT_STATE_FIELDS.index("wrap_ups")


class CodecError(ValueError):
    """Stored bytes that are not the record they should be."""


#: One encoder made once: json.dumps with options builds a new one at every call, which costs more than
#: encoding a key.
dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode


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


#: Records are arrays in field order: the same record always gives the same text.
_record_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


_task_values = attrgetter(*TASK_FIELDS)
_REFUSED_BY = TASK_FIELDS.index("refused_by")


def encode_task(task: Task) -> str:
    values = list(_task_values(task))
    values[_REFUSED_BY] = sorted(task.refused_by)
    return _record_text(values)


def _row(value: object, size: int) -> list[Any]:
    if not isinstance(value, list) or len(value) != size:
        raise ValueError(f"not a list of {size} values")
    return value


#: Fields added to Task since records were first stored, with the value an older record stands for.
_LATER_TASK_FIELDS: tuple[object, ...] = (None,)  # transferred_to


def _task(value: object) -> Task:
    if isinstance(value, list) and len(TASK_FIELDS) - len(_LATER_TASK_FIELDS) <= len(value) < len(TASK_FIELDS):
        value = value + list(_LATER_TASK_FIELDS[len(value) - len(TASK_FIELDS) :])  # stored by an earlier version
    value = dict(zip(TASK_FIELDS, _row(value, len(TASK_FIELDS))))
    value["channel"] = Channel(value["channel"])
    value["place"] = Place(value["place"])
    value["outcome"] = None if value["outcome"] is None else Outcome(value["outcome"])
    value["refused_by"] = set(value["refused_by"])
    return Task(**value)


def decode_task(text: str | bytes) -> Task:
    return _decoding("task", _task, text)


def encode_agent(agent: Agent) -> str:
    """The agent's live state only; its definition (skills, team, capacity) comes from the configuration."""
    values = list(_agent_values(agent))
    values[_TASKS] = sorted(agent.tasks)
    values[_WRAP_UPS] = sorted(agent.wrap_ups)
    return _record_text(values)


def decode_agent(text: str | bytes, definition: Agent) -> Agent:
    """The agent `definition` (from the configuration) in the live state `text` holds."""

    def build(value: object) -> Agent:
        state = dict(zip(AGENT_STATE_FIELDS, _row(value, len(AGENT_STATE_FIELDS))))
        state["presence"] = Presence(state["presence"])
        state["state"] = AgentState(state["state"])
        state["tasks"] = set(state["tasks"])
        state["wrap_ups"] = set(state["wrap_ups"])
        return Agent(**{name: getattr(definition, name) for name in AGENT_DEFINITION}, **state)

    return _decoding("agent", build, text)


def encode_timer(timer: Timer) -> str:
    """`encode_key` of (due, seq, kind, task id, version), written out: two of these run for most events."""
    kind, task_id = encode_basestring(timer.kind), encode_basestring(timer.task_id)
    return f"[{timer.due!r},{timer.seq!r},{kind},{task_id},{timer.version!r}]"


def _timer(value: list[Any]) -> Timer:
    due, seq, kind, task_id, version = value
    return Timer(float(due), int(seq), TimerKind(kind), str(task_id), int(version))


def decode_timer(text: str | bytes) -> Timer:
    return _decoding("timer", _timer, text)


def encode_key(key: tuple[object, ...]) -> str:
    """A waiting task's or an idle agent's sort key: a flat tuple of numbers and strings.

    The JSON `dumps` would write, built directly: this runs for every index change of every event.
    """
    return "[" + ",".join(_KEY_ITEM[type(item)](item) for item in key) + "]"


_KEY_ITEM: dict[type, Callable[[Any], str]] = {int: int.__repr__, float: float.__repr__, str: encode_basestring}


def _key(value: list[Any]) -> tuple[object, ...]:
    if not isinstance(value, list) or not all(isinstance(item, (int, float, str)) for item in value):
        raise ValueError("a key is a list of numbers and strings")
    return tuple(value)


def decode_key(text: str | bytes) -> tuple[object, ...]:
    return _decoding("key", _key, text)

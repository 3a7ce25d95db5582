"""Recorded changes: replayed on another replica they give the same state; rolled back, the state as before.

The router's own random sequences drive it (the state machine of test_router_properties), with every
event's change replayed on a follower replica, and some events rolled back and processed again as
a node does when another node committed first.
"""

from __future__ import annotations

import copy
import json
from dataclasses import fields
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant

from acd.changes import Change, ChangeRecorder
from acd.codec import (
    CodecError,
    decode_agent,
    decode_key,
    decode_task,
    decode_timer,
    dumps,
    encode_agent,
    encode_key,
    encode_task,
    encode_timer,
)
from acd.decisions import Decision, Kind
from acd.errors import AcdError
from acd.redisstore.schema import RS, apply_writes, redis_writes
from acd.router import Router
from acd.store import MemoryStore
from acd.timers import Timer, TimerKind
from acd.topology import Topology, build_agents
from tests.acd import builders
from tests.acd.stores import state
from tests.acd.test_router_properties import RouterMachine, deployment, sequences

DEFINITION = builders.router().store.agent("ana")


def fresh_store(config: object) -> MemoryStore:
    store = MemoryStore()
    for agent in build_agents(config, Topology.compile(config)):  # type: ignore[arg-type]
        store.put_agent(agent)
    return store


class ReplicatedRouterMachine(RouterMachine):
    @initialize(
        strategy=st.sampled_from(["longest_idle", "best_skill", "least_occupied", "round_robin"]),
        conflicts=st.lists(st.booleans(), min_size=64, max_size=64),
    )
    def setup(self, strategy: str, conflicts: list[bool]) -> None:  # type: ignore[override]
        self.config = deployment(strategy)  # with a trunk: transfers to outside numbers replicate too
        self.store = fresh_store(self.config)
        self.recorder = ChangeRecorder(self.store)
        self.router = Router(
            Topology.compile(self.config), self.recorder, skills=frozenset(s.id for s in self.config.skills)
        )
        self.follower = fresh_store(self.config)
        self.conflicts = conflicts
        self.steps = 0

    def send(self, event: object) -> None:
        self.steps += 1
        if self.conflicts[self.steps % len(self.conflicts)]:
            # Processed once, then refused at commit: rolled back to exactly what it was.
            before = copy.deepcopy(self.store)
            try:
                self.router.process(event, self.now)  # type: ignore[arg-type]
            except AcdError:
                pass
            self.recorder.rollback()
            assert state(self.store) == state(before)
        super().send(event)
        change = self.recorder.change(self.now)
        self.recorder.forget()
        # As another node replays it: the writes the commit script would carry out.
        apply_writes(self.follower, RS.join(redis_writes(change, {})), {})

    def refused_without_change(self, event: object) -> None:
        super().refused_without_change(event)
        assert not self.recorder.change(self.now), "a refused event recorded a change"
        self.recorder.forget()

    @invariant()
    def follower_has_the_same_state(self) -> None:
        if hasattr(self, "follower"):
            assert state(self.follower) == state(self.store)


ReplicatedRouterMachine.TestCase.settings = sequences(300)
test_replayed_and_rolled_back_changes = ReplicatedRouterMachine.TestCase


def test_records_survive_their_text() -> None:
    config = builders.deployment()
    router = builders.router(config)
    from acd.events import AgentLoggedIn, TaskArrived
    from acd.model import Channel

    router.process(AgentLoggedIn("ana"), builders.MONDAY_9AM)
    router.process(
        TaskArrived("t", Channel.VOICE, "lons-tva", 2, {"department": "69"}, {"tva": 3}), builders.MONDAY_9AM
    )
    task, agent = router.store.task("t"), router.store.agent("ana")
    assert decode_task(encode_task(task)) == task
    assert decode_agent(encode_agent(agent), builders.router(config).store.agent("ana")) == agent
    assert encode_task(decode_task(encode_task(task))) == encode_task(task)  # canonical
    # A record stored before Task.transferred_to existed (one value fewer) reads as a task never transferred.
    earlier = json.loads(encode_task(task))[:-1]
    assert decode_task(json.dumps(earlier)) == task


@pytest.mark.parametrize(
    ("decode", "text", "message"),
    [
        (
            decode_task,
            "{",
            "stored task is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (decode_task, '{"id": "t"}', "stored task is malformed: ValueError('not a list of 24 values')"),
        (decode_task, '["t"]', "stored task is malformed: ValueError('not a list of 24 values')"),
        (
            partial(decode_agent, definition=DEFINITION),
            "[]",
            "stored agent is malformed: ValueError('not a list of 16 values')",
        ),
        (
            partial(decode_agent, definition=DEFINITION),
            '["dancing", null, "available", 0, 0, null, [], [], 0, 0, 0, 0, 0, null, null, null]',
            "stored agent is malformed: ValueError(\"'dancing' is not a valid Presence\")",
        ),
        (
            decode_timer,
            '[1, 2, "ring", "t", 0]',
            "stored timer is malformed: ValueError(\"'ring' is not a valid TimerKind\")",
        ),
        (decode_key, "[1, [2]]", "stored key is malformed: ValueError('a key is a list of numbers and strings')"),
        (
            decode_key,
            b"\xff",
            "stored key is not JSON: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        ),
    ],
)
def test_malformed_stored_records_are_named(decode: object, text: str | bytes, message: str) -> None:
    with pytest.raises(CodecError) as caught:
        decode(text)  # type: ignore[operator]
    assert str(caught.value) == message


def test_decisions_survive_their_row() -> None:
    decision = Decision(Kind.OFFERED, 1.5, "t", "q", "ana", "voice", 2.0, None, "why", {"step": 1})
    assert decision.as_row() == list(decision.as_dict().values())
    assert list(decision.as_dict()) == [f.name for f in fields(Decision)]
    assert Decision.from_row(json.loads(dumps(decision.as_row()))) == decision
    with pytest.raises(ValueError, match="a decision is a list of 10 values"):
        Decision.from_row(decision.as_row()[:-1])


def test_unknown_collection_or_write_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown collection 'explode'"):
        redis_writes(Change({("explode", "x"): "1"}, 0.0), {})
    with pytest.raises(ValueError, match="unknown write 'x' at 0"):
        apply_writes(MemoryStore(), RS.join(["x", "3", "1", "t1"]), {})
    with pytest.raises(ValueError, match="unknown write 'h' at 0"):
        apply_writes(MemoryStore(), RS.join(["h", "10", "1", "f", "v"]), {})
    with pytest.raises(ValueError, match="write 'd' at 0 is cut short"):
        apply_writes(MemoryStore(), RS.join(["d", "3", "2", "t1"]), {})
    with pytest.raises(ValueError, match="write at 4 is cut short"):
        apply_writes(MemoryStore(), RS.join(["d", "7", "1", "a1", "d"]), {})
    assert not Change({}, 0.0)


def test_a_place_added_and_removed_within_one_change_is_not_written() -> None:
    store = MemoryStore()
    store.enqueue("q", (0, 1.0, 2, "t2"))
    recorder = ChangeRecorder(store)
    recorder.enqueue("q", (0, 1.0, 1, "t1"))
    recorder.dequeue("q", (0, 1.0, 1, "t1"))
    recorder.dequeue("q", (0, 1.0, 2, "t2"))
    recorder.enqueue("q", (0, 1.0, 2, "t2"))
    recorder.next_seq()
    recorder.next_seq()
    assert recorder.change(0.0).items == {("counters", "seq"): "2"}
    recorder.dequeue("q", (0, 1.0, 2, "t2"))
    assert recorder.change(0.0).items == {("counters", "seq"): "2", ("waiting", 'q\x1f[0,1.0,2,"t2"]'): None}


@given(st.lists(st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(), max_size=6))
def test_a_key_is_encoded_as_json_would(items: list[object]) -> None:
    key = tuple(items)
    assert encode_key(key) == dumps(items)
    assert decode_key(encode_key(key)) == key


@given(
    st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
    st.integers(),
    st.sampled_from(TimerKind),
    st.text(),
    st.integers(),
)
def test_a_timer_is_encoded_as_its_key_would_be(
    due: float, seq: int, kind: TimerKind, task_id: str, version: int
) -> None:
    timer = Timer(due, seq, kind, task_id, version)
    text = encode_timer(timer)
    assert text == encode_key((due, seq, kind.value, task_id, version)) == dumps([due, seq, kind, task_id, version])
    assert decode_timer(text) == Timer(float(due), seq, kind, task_id, version)


def test_the_recorders_copies_carry_every_field_of_a_record() -> None:
    # Fields are copied by hand for speed: a field added to a record and forgotten there would make the
    # recorder see a change where there is none (as when the phone's registration came in).
    from dataclasses import fields, replace

    from acd.changes import copy_agent, copy_task
    from acd.model import Agent, Channel, Outcome, Place, Presence, Task

    task = Task("t", Channel.VOICE, "q", 1, {"a": "b"}, {"s": 2}, 1.0, 2.0, 3.0, 4, Place.RESERVED, 1, 2, "ana",
                5.0, 6.0, 7.0, 8.0, 9.0, Outcome.COMPLETED, 10.0, {"bob"}, 11, "pau-tva")  # fmt: skip
    agent = replace(
        Agent("ana", "Ana", "lons-a", "lons", {"tva": 3}, {Channel.VOICE: 60}, 1),
        presence=Presence.READY, reason="x", state_since=1.0, used_units=20, reservation="t", tasks={"u"},
        wrap_ups={"u"}, missed_offers=1, idle_since=2.0, handled=3, busy_seconds=4.0, logged_in_at=5.0,
        queue_steps={"q": 0}, node="n1", phone=True, headset=False,
    )  # fmt: skip
    assert len(fields(task)) == 24 and len(fields(agent)) == 24
    assert copy_task(task) == task and copy_agent(agent) == agent

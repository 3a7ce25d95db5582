"""The headsets' MQTT topic scheme and state messages: what parses, and each refusal by its words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.headset_topics import HeadsetMessageError, HeadsetState, parse_state, state_topic, subscription

TOPIC = "acd/demo/agents/cmartin/headset"
NOT_UTF8 = "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"


def test_a_state_goes_round_the_wire_and_the_topics_follow_the_scheme() -> None:
    state = HeadsetState("cmartin", True, "off", muted=True, ringing=False, held=True, device="Jabra Evolve2 65")
    assert state_topic("demo", "cmartin") == TOPIC
    assert subscription("demo") == "acd/demo/agents/+/headset"
    assert parse_state("demo", TOPIC, state.payload()) == state
    assert parse_state("demo", TOPIC, b'{"connected": false}') == HeadsetState("cmartin", False)


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        ("acd/other/agents/cmartin/headset", b'{"connected": true}',
         "topic 'acd/other/agents/cmartin/headset' is not acd/demo/agents/<agent>/headset"),
        ("acd/demo/agents/cmartin/mute", b'{"connected": true}',
         "topic 'acd/demo/agents/cmartin/mute' is not acd/demo/agents/<agent>/headset"),
        ("acd/demo/agents/C Martin/headset", b'{"connected": true}',
         "topic 'acd/demo/agents/C Martin/headset': 'C Martin' is not an agent id"),
        (TOPIC, b"\xff", f"{TOPIC}: the payload is not JSON ({NOT_UTF8})"),
        (TOPIC, b"[true]", f"{TOPIC}: the payload is not a JSON object"),
        (TOPIC, b"{}", f"{TOPIC}: connected must be true or false"),
        (TOPIC, b'{"connected": "yes"}', f"{TOPIC}: connected must be true or false"),
        (TOPIC, b'{"connected": true, "hook": "up"}', f"{TOPIC}: hook must be 'on' or 'off'"),
        (TOPIC, b'{"connected": true, "muted": 1}', f"{TOPIC}: muted must be true or false"),
        (TOPIC, b'{"connected": true, "volume": 3}', f"{TOPIC}: unknown field 'volume'"),
        (TOPIC, b'{"connected": true, "device": 7}',
         f"{TOPIC}: device must be a name (at most 200 characters) or null"),
    ],
)  # fmt: skip
def test_what_is_not_a_headset_state_is_refused_by_name(topic: str, payload: bytes, message: str) -> None:
    with pytest.raises(HeadsetMessageError) as refused:
        parse_state("demo", topic, payload)
    assert str(refused.value) == message


@given(topic=st.sampled_from([TOPIC, "acd/demo/agents/x/headset", "acd//agents//headset", "#"]), payload=st.binary())
def test_any_message_is_a_state_or_refused(topic: str, payload: bytes) -> None:
    try:
        state = parse_state("demo", topic, payload)
    except HeadsetMessageError:
        return
    assert isinstance(state.connected, bool) and state.hook in ("on", "off")

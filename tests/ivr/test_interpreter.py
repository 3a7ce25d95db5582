"""The flow interpreter on its pure interface: events in, actions out, tokens included.

Small flows are built for each node kind; the demo flow (config/ivr/accueil.yaml, with the attributes
numbers.yaml gives the Lons-le-Saunier number) is walked end to end. Hypothesis then feeds random events
to the demo flow and to random flows, and checks that no call is ever left without something under way.
"""

from __future__ import annotations

import re
from datetime import date as _date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr import actions as act
from ivr import events as ev
from ivr.actions import (
    Enqueue,
    HangUp,
    LeaveVoicemail,
    Overflow,
    Play,
    RequestCallback,
    Speech,
    StartRecording,
    StartTimer,
    StopPlaying,
    StopRecording,
    Transfer,
    WatchQueue,
)
from ivr.errors import FlowStateError
from ivr.events import (
    CallbackBooked,
    CallbackFailed,
    CallerHungUp,
    CallStarted,
    Connected,
    Digit,
    PromptFinished,
    QueueRefused,
    QueueUpdate,
    Recorded,
    TimerFired,
    TransferFailed,
)
from ivr.flow import CollectNode, Flow
from ivr.interpreter import FlowState, Session
from ivr.validators import VALIDATORS
from tests.ivr.flows import (
    KEYS,
    LONS_NUMBER,
    PAU_NUMBER,
    T0,
    FakeFacts,
    Outstanding,
    demo_flow,
    en,
    fr,
    make_flow,
    number_attributes,
    random_flows,
    snapshot,
)

LONS = number_attributes(LONS_NUMBER)
MOBILE = "+33612345678"


def start(flow: Flow, facts: FakeFacts | None = None, *, max_steps: int = 60, **attributes: str) -> Session:
    return Session(flow, facts or FakeFacts(), attributes, max_steps=max_steps)


def send(session: Session, event: ev.Event) -> list[act.Action]:
    return session.handle(event, T0)


def press(session: Session, keys: str) -> list[list[act.Action]]:
    """What each key gives, one list per key."""
    return [session.handle(Digit(key), T0) for key in keys]


def hangup(prompt: str | None = None) -> dict[str, Any]:
    return {"type": "hangup", "prompt": prompt}


def hello_flow(languages: list[str]) -> Flow:
    return make_flow(
        {"hello": {"type": "play", "prompts": ["welcome"], "next": "bye"}, "bye": hangup()}, languages=languages
    )


# ---------------------------------------------------------------------------------------- start


def test_call_started_plays_the_first_prompt_in_the_flows_first_language() -> None:
    session = start(hello_flow(["fr", "en"]))
    assert send(session, CallStarted()) == [Play(1, (act.Prompt("welcome", "fr"),))]
    assert (session.language, session.attributes, session.route, session.node) == (
        "fr",
        {"language": "fr"},
        ["hello"],
        "hello",
    )


def test_the_callers_language_is_kept_when_the_flow_speaks_it() -> None:
    session = start(hello_flow(["fr", "en"]), language="en")
    assert send(session, CallStarted()) == [Play(1, en("welcome"))]


@pytest.mark.parametrize("language", ["de", "", "EN"])
def test_a_language_the_flow_does_not_speak_falls_back_to_its_first(language: str) -> None:
    session = start(hello_flow(["en", "fr"]), language=language)
    assert send(session, CallStarted()) == [Play(1, en("welcome"))]
    assert session.attributes["language"] == "en"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (Digit("1"), "Digit(digit='1') not expected in state idle"),
        (PromptFinished(1), "PromptFinished(token=1) has a token never given in state idle"),
        (TimerFired(1), "TimerFired(token=1) has a token never given in state idle"),
        (Recorded(5), "Recorded(seconds=5) not expected in state idle"),
        (Connected(), "Connected() not expected in state idle"),
    ],
)
def test_events_before_the_call_starts_are_refused(event: ev.Event, message: str) -> None:
    session = start(hello_flow(["fr"]))
    with pytest.raises(FlowStateError, match=f"^{re.escape(message)}$"):
        send(session, event)
    assert (session.state, session.route) == (FlowState.IDLE, [])
    assert send(session, CallStarted()) == [Play(1, fr("welcome"))]


def test_the_call_starts_once() -> None:
    session = start(hello_flow(["fr"]))
    assert send(session, CallStarted()) == [Play(1, fr("welcome"))]
    with pytest.raises(FlowStateError, match=r"^CallStarted\(\) not expected in state playing$"):
        send(session, CallStarted())
    assert (session.state, session.route) == (FlowState.PLAYING, ["hello"])


# ----------------------------------------------------------------------------------------- play

PLAY_THEN_MENU = make_flow(
    {
        "hello": {"type": "play", "prompts": ["welcome", "recorded"], "next": "m"},
        "m": {"type": "menu", "prompt": "choose", "options": {"1": "a", "2": "b"}, "invalid": "wrong", "fallback": "a"},
        "a": hangup("a"),
        "b": hangup("b"),
    }
)


def test_play_says_its_prompts_then_goes_on_when_they_are_said() -> None:
    session = start(PLAY_THEN_MENU)
    assert send(session, CallStarted()) == [Play(1, fr("welcome", "recorded"))]
    assert send(session, PromptFinished(1)) == [Play(2, fr("choose"))]
    assert session.route == ["hello", "m"]


def test_a_stale_prompt_token_is_ignored() -> None:
    session = start(PLAY_THEN_MENU)
    send(session, CallStarted())
    with pytest.raises(FlowStateError, match=r"^PromptFinished\(token=7\) has a token never given in state playing$"):
        send(session, PromptFinished(7))
    assert send(session, PromptFinished(1)) == [Play(2, fr("choose"))]
    assert send(session, PromptFinished(1)) == []  # said once: its token is stale now
    assert session.route == ["hello", "m"]


def test_a_key_during_a_play_stops_it_and_answers_the_next_menu_at_once() -> None:
    session = start(PLAY_THEN_MENU)
    send(session, CallStarted())
    assert press(session, "2") == [[StopPlaying(), Play(2, fr("b"))]]  # the menu's prompt is not said
    assert session.route == ["hello", "m", "b"]
    assert send(session, PromptFinished(1)) == []
    assert send(session, PromptFinished(2)) == [HangUp("flow_end")]


def test_a_wrong_key_typed_ahead_is_a_wrong_answer_to_the_menu() -> None:
    session = start(PLAY_THEN_MENU)
    send(session, CallStarted())
    assert press(session, "7") == [[StopPlaying(), Play(2, fr("wrong", "choose"))]]


def test_keys_typed_ahead_answer_successive_menus() -> None:
    flow = make_flow(
        {
            "hello": {"type": "play", "prompts": ["welcome"], "next": "notice"},
            "notice": {"type": "play", "prompts": ["notice"], "next": "first"},
            "first": {"type": "menu", "prompt": "first", "options": {"1": "second"}, "fallback": "bye"},
            "second": {
                "type": "menu",
                "prompt": "second",
                "options": {"2": {"go": "bye", "set": {"topic": "x"}}},
                "fallback": "bye",
            },
            "bye": hangup("bye"),
        }
    )
    session = start(flow)
    send(session, CallStarted())
    assert press(session, "12") == [[StopPlaying(), Play(2, fr("notice"))], [StopPlaying(), Play(3, fr("bye"))]]
    assert session.route == ["hello", "notice", "first", "second", "bye"]
    assert session.attributes["topic"] == "x"


def test_the_demo_welcome_typed_through_in_english() -> None:
    session = start(demo_flow(), **LONS)
    assert send(session, CallStarted()) == [Play(1, fr("welcome"))]
    assert press(session, "23") == [[StopPlaying(), Play(2, en("topics"))], [StopPlaying(), Play(3, en("siren"))]]
    assert (session.attributes["language"], session.attributes["topic"]) == ("en", "is")


# ----------------------------------------------------------------------------------------- menu

MENU = make_flow(
    {
        "m": {
            "type": "menu",
            "prompt": "choose",
            "options": {"1": {"go": "a", "set": {"topic": "tva", "language": "en"}}, "2": "b"},
            "timeout": 5,
            "retries": 1,
            "invalid": "wrong",
            "no_input": "silence",
            "fallback": "fb",
        },
        "a": hangup("a"),
        "b": hangup("b"),
        "fb": hangup("fb"),
    },
    languages=["fr", "en"],
)


def test_a_key_during_the_menu_prompt_chooses_and_sets_its_attributes() -> None:
    session = start(MENU)
    assert send(session, CallStarted()) == [Play(1, fr("choose"))]
    assert press(session, "1") == [[StopPlaying(), Play(2, en("a"))]]  # the language set is spoken at once
    assert session.attributes == {"language": "en", "topic": "tva"}
    assert session.route == ["m", "a"]


def test_the_menu_waits_for_a_key_once_its_prompt_is_said() -> None:
    session = start(MENU)
    send(session, CallStarted())
    assert send(session, PromptFinished(1)) == [StartTimer(2, 5)]
    assert press(session, "2") == [[Play(3, fr("b"))]]
    assert send(session, TimerFired(2)) == []
    assert session.attributes == {"language": "fr"}


def test_a_wrong_key_says_why_and_asks_again_then_the_fallback() -> None:
    session = start(MENU)
    send(session, CallStarted())
    assert press(session, "9") == [[StopPlaying(), Play(2, fr("wrong", "choose"))]]
    assert send(session, PromptFinished(2)) == [StartTimer(3, 5)]
    assert press(session, "#") == [[Play(4, fr("fb"))]]
    assert session.route == ["m", "fb"]


def test_the_timer_of_the_question_answered_wrongly_does_not_count_as_no_answer() -> None:
    session = start(MENU)
    send(session, CallStarted())
    assert send(session, PromptFinished(1)) == [StartTimer(2, 5)]
    assert press(session, "9") == [[Play(3, fr("wrong", "choose"))]]
    assert send(session, TimerFired(2)) == []  # the caller is hearing the menu again: not a silence
    assert send(session, PromptFinished(3)) == [StartTimer(4, 5)]
    assert press(session, "1") == [[Play(5, en("a"))]]


def test_no_key_says_so_and_asks_again_then_the_fallback() -> None:
    session = start(MENU)
    send(session, CallStarted())
    assert send(session, PromptFinished(1)) == [StartTimer(2, 5)]
    assert send(session, TimerFired(2)) == [Play(3, fr("silence", "choose"))]
    assert send(session, TimerFired(2)) == []
    assert send(session, PromptFinished(3)) == [StartTimer(4, 5)]
    assert send(session, TimerFired(4)) == [Play(5, fr("fb"))]
    assert send(session, PromptFinished(5)) == [HangUp("flow_end")]
    assert (session.finished, session.outcome, session.route) == (True, "flow_end", ["m", "fb"])


def test_a_wrong_key_and_a_silence_share_the_retries() -> None:
    session = start(MENU)
    send(session, CallStarted())
    press(session, "9")
    assert send(session, PromptFinished(2)) == [StartTimer(3, 5)]
    assert send(session, TimerFired(3)) == [Play(4, fr("fb"))]


def test_a_menu_without_retry_prompts_repeats_its_question_alone() -> None:
    flow = make_flow(
        {"m": {"type": "menu", "prompt": "choose", "options": {"1": "a"}, "retries": 1, "fallback": "a"}, "a": hangup()}
    )
    session = start(flow)
    send(session, CallStarted())
    assert press(session, "5") == [[StopPlaying(), Play(2, fr("choose"))]]
    assert send(session, PromptFinished(2)) == [StartTimer(3, 5)]
    assert send(session, TimerFired(3)) == [HangUp("flow_end")]


def test_a_menu_without_retries_goes_to_its_fallback_at_the_first_miss() -> None:
    flow = make_flow(
        {
            "m": {"type": "menu", "prompt": "choose", "options": {"1": "a"}, "retries": 0, "fallback": "fb"},
            "a": hangup("a"),
            "fb": hangup("fb"),
        }
    )
    session = start(flow)
    send(session, CallStarted())
    assert press(session, "2") == [[StopPlaying(), Play(2, fr("fb"))]]


def test_a_stale_menu_timer_is_ignored() -> None:
    session = start(MENU)
    send(session, CallStarted())
    assert send(session, TimerFired(1)) == []  # the prompt's token, not a timer's
    with pytest.raises(FlowStateError, match=r"^TimerFired\(token=99\) has a token never given in state menu$"):
        send(session, TimerFired(99))
    assert send(session, PromptFinished(1)) == [StartTimer(2, 5)]


# -------------------------------------------------------------------------------------- collect


def collect_flow(**fields: Any) -> Flow:
    node = {
        "type": "collect",
        "prompt": "ask",
        "into": "siren",
        "max_length": 9,
        "timeout": 8,
        "digit_timeout": 4,
        "retries": 1,
        "invalid": "bad",
        "no_input": "none",
        "next": "ok",
        "fallback": "fb",
        **fields,
    }
    return make_flow({"c": node, "ok": hangup("ok"), "fb": hangup("fb")})


def test_digits_up_to_max_length_complete_the_entry() -> None:
    session = start(collect_flow(validate="siren"))
    assert send(session, CallStarted()) == [Play(1, fr("ask"))]
    assert send(session, PromptFinished(1)) == [StartTimer(2, 8)]
    assert press(session, "732829320") == [[StartTimer(token, 4)] for token in range(3, 11)] + [[Play(11, fr("ok"))]]
    assert session.attributes["siren"] == "732829320"
    assert session.route == ["c", "ok"]


def test_a_digit_during_the_prompt_stops_it() -> None:
    session = start(collect_flow())
    send(session, CallStarted())
    assert press(session, "12#") == [[StopPlaying(), StartTimer(2, 4)], [StartTimer(3, 4)], [Play(4, fr("ok"))]]
    assert session.attributes["siren"] == "12"


def test_star_starts_the_entry_again() -> None:
    session = start(collect_flow())
    send(session, CallStarted())
    send(session, PromptFinished(1))
    assert press(session, "12*34#") == [
        [StartTimer(3, 4)],
        [StartTimer(4, 4)],
        [StartTimer(5, 8)],  # a new first digit: the first digit's time again
        [StartTimer(6, 4)],
        [StartTimer(7, 4)],
        [Play(8, fr("ok"))],
    ]
    assert session.attributes["siren"] == "34"


def test_the_inter_digit_timeout_completes_what_was_typed() -> None:
    session = start(collect_flow())
    send(session, CallStarted())
    send(session, PromptFinished(1))
    press(session, "123")
    assert send(session, TimerFired(4)) == []  # replaced by the third digit's
    assert send(session, TimerFired(5)) == [Play(6, fr("ok"))]
    assert session.attributes["siren"] == "123"


def test_no_digit_says_so_asks_again_then_the_fallback() -> None:
    session = start(collect_flow())
    send(session, CallStarted())
    send(session, PromptFinished(1))
    assert send(session, TimerFired(2)) == [Play(3, fr("none", "ask"))]
    assert send(session, PromptFinished(3)) == [StartTimer(4, 8)]
    assert send(session, TimerFired(4)) == [Play(5, fr("fb"))]
    assert "siren" not in session.attributes


def test_a_siren_with_a_wrong_key_is_asked_again_then_the_fallback_goes_on() -> None:
    session = start(collect_flow(validate="siren"))
    send(session, CallStarted())
    assert press(session, "732829321")[-1] == [Play(10, fr("bad", "ask"))]
    assert press(session, "732829322")[-1] == [Play(19, fr("fb"))]
    assert "siren" not in session.attributes
    assert send(session, PromptFinished(19)) == [HangUp("flow_end")]  # neither a dead end nor a hung call


def test_a_valid_siren_after_a_wrong_one_is_taken() -> None:
    session = start(collect_flow(validate="siren"))
    send(session, CallStarted())
    press(session, "732829321")
    assert press(session, "443061841")[-1] == [Play(19, fr("ok"))]
    assert session.attributes["siren"] == "443061841"


def test_an_optional_entry_is_skipped_by_the_terminator_alone() -> None:
    session = start(collect_flow(validate="siren", optional=True))
    send(session, CallStarted())
    assert press(session, "#") == [[StopPlaying(), Play(2, fr("ok"))]]
    assert session.attributes == {"language": "fr"}


def test_the_terminator_alone_is_no_answer_to_a_required_entry() -> None:
    session = start(collect_flow(validate="siren"))
    send(session, CallStarted())
    assert press(session, "#") == [[StopPlaying(), Play(2, fr("none", "ask"))]]


def test_an_entry_shorter_than_min_length_is_invalid() -> None:
    session = start(collect_flow(min_length=2))
    send(session, CallStarted())
    assert press(session, "1#") == [[StopPlaying(), StartTimer(2, 4)], [Play(3, fr("bad", "ask"))]]
    assert press(session, "12#")[-1] == [Play(6, fr("ok"))]


@pytest.mark.parametrize(
    ("validator", "typed", "stored"),
    [
        ("department", "201", "2A"),
        ("department", "202", "2B"),
        ("department", "69#", "69"),
        ("department", "974", "974"),
        ("date", "29022024", "2024-02-29"),
        ("phone", "0612345678#", MOBILE),
        ("phone", "0033612345678", MOBILE),
        ("siret", "73282932000074", "73282932000074"),
    ],
)
def test_the_validators_normalised_value_is_stored(validator: str, typed: str, stored: str) -> None:
    max_length = {"department": 3, "date": 8, "phone": 13, "siret": 14}[validator]
    session = start(collect_flow(validate=validator, max_length=max_length, into="value"))
    send(session, CallStarted())
    assert press(session, typed)[-1] == [Play(len(typed) + 1, fr("ok"))]
    assert session.attributes["value"] == stored


def test_with_star_as_terminator_hash_is_ignored() -> None:
    session = start(collect_flow(terminator="*"))
    send(session, CallStarted())
    send(session, PromptFinished(1))
    assert press(session, "1#2*") == [[StartTimer(3, 4)], [StartTimer(4, 4)], [StartTimer(5, 4)], [Play(6, fr("ok"))]]
    assert session.attributes["siren"] == "12"


def test_without_terminator_the_entry_ends_by_length_or_time() -> None:
    session = start(collect_flow(terminator=None, max_length=3))
    send(session, CallStarted())
    assert press(session, "1#") == [[StopPlaying(), StartTimer(2, 4)], [StartTimer(3, 4)]]
    assert send(session, TimerFired(3)) == [Play(4, fr("ok"))]
    assert session.attributes["siren"] == "1"


def test_digits_typed_ahead_fill_an_entry_without_its_prompt() -> None:
    flow = make_flow(
        {
            "hello": {"type": "play", "prompts": ["welcome"], "next": "notice"},
            "notice": {"type": "play", "prompts": ["notice"], "next": "c"},
            "c": {"type": "collect", "prompt": "ask", "into": "code", "max_length": 2, "next": "ok", "fallback": "ok"},
            "ok": hangup("ok"),
        }
    )
    session = start(flow)
    send(session, CallStarted())
    assert press(session, "42") == [
        [StopPlaying(), Play(2, fr("notice"))],
        [StopPlaying(), StartTimer(3, 4), Play(4, fr("ok"))],  # the first digit's timer, at once stale
    ]
    assert session.attributes["code"] == "42"


@given(
    validator=st.sampled_from(sorted(VALIDATORS)),
    typed=st.text(alphabet="0123456789", min_size=1, max_size=14),
)
@settings(max_examples=300, deadline=None, database=None)
def test_an_entry_is_stored_as_its_validator_gives_it_or_asked_again(validator: str, typed: str) -> None:
    session = start(collect_flow(validate=validator, max_length=14, into="value"))
    send(session, CallStarted())
    last = press(session, typed if len(typed) == 14 else typed + "#")[-1]
    value = VALIDATORS[validator](typed)
    if value is None:
        assert last == [Play(len(typed) + 2 - (len(typed) == 14), fr("bad", "ask"))]
        assert "value" not in session.attributes
    else:
        assert session.attributes["value"] == value
        assert session.route == ["c", "ok"]


# ------------------------------------------------------------------------------------ set, branch


def test_set_sets_its_attributes_and_goes_on() -> None:
    flow = make_flow(
        {"s": {"type": "set", "attributes": {"topic": "tva", "language": "en"}, "next": "bye"}, "bye": hangup("bye")},
        languages=["fr", "en"],
    )
    session = start(flow, centre="lons")
    assert send(session, CallStarted()) == [Play(1, en("bye"))]
    assert session.attributes == {"centre": "lons", "language": "en", "topic": "tva"}
    assert session.route == ["s", "bye"]


def branch_flow(*rules: dict[str, Any]) -> Flow:
    nodes: dict[str, Any] = {"b": {"type": "branch", "rules": list(rules), "else": "otherwise"}}
    for node in ["otherwise", *(rule["go"] for rule in rules)]:
        nodes[node] = hangup(node)
    return make_flow(nodes)


def branch_to(flow: Flow, facts: FakeFacts, **attributes: str) -> str:
    session = start(flow, facts, **attributes)
    actions = send(session, CallStarted())
    (taken,) = [a.clips[0].name for a in actions if isinstance(a, Play) and isinstance(a.clips[0], act.Prompt)]
    assert session.route == ["b", taken]
    return taken


@pytest.mark.parametrize(
    ("condition", "facts", "attributes", "holds"),
    [
        ({"open": "standard"}, FakeFacts(open=True), {}, True),
        ({"open": "standard"}, FakeFacts(open=False), {}, False),
        ({"closed": "standard"}, FakeFacts(open=False), {}, True),
        ({"closed": "standard"}, FakeFacts(open=True), {}, False),
        ({"holiday": "standard"}, FakeFacts(holiday=True), {}, True),
        ({"holiday": "standard"}, FakeFacts(holiday=False), {}, False),
        ({"attribute": {"topic": "tva"}}, FakeFacts(), {"topic": "tva"}, True),
        ({"attribute": {"topic": "tva"}}, FakeFacts(), {"topic": "cfe"}, False),
        ({"attribute": {"topic": "tva"}}, FakeFacts(), {}, False),
        ({"attribute": {"topic": ["tva", "cfe"]}}, FakeFacts(), {"topic": "cfe"}, True),
        ({"attribute": {"topic": ["tva", "cfe"]}}, FakeFacts(), {"topic": "is"}, False),
        ({"attribute": {"topic": "tva", "centre": "lons"}}, FakeFacts(), {"topic": "tva", "centre": "pau"}, False),
        ({"wait_above": {"queue": "{centre}-tva", "seconds": 300}}, FakeFacts(wait=301), {"centre": "lons"}, True),
        ({"wait_above": {"queue": "{centre}-tva", "seconds": 300}}, FakeFacts(wait=300), {"centre": "lons"}, False),
        ({"wait_above": {"queue": "{centre}-tva", "seconds": 300}}, FakeFacts(wait=None), {"centre": "lons"}, True),
        ({"wait_above": {"queue": "{centre}-tva", "seconds": 0}}, FakeFacts(wait=0), {"centre": "lons"}, False),
        ({"agents_below": {"queue": "{centre}-tva", "count": 2}}, FakeFacts(agents=1), {"centre": "lons"}, True),
        ({"agents_below": {"queue": "{centre}-tva", "count": 2}}, FakeFacts(agents=2), {"centre": "lons"}, False),
        ({"open": "standard", "attribute": {"topic": "tva"}}, FakeFacts(open=True), {"topic": "tva"}, True),
        ({"open": "standard", "attribute": {"topic": "tva"}}, FakeFacts(open=False), {"topic": "tva"}, False),
        ({"open": "standard", "attribute": {"topic": "tva"}}, FakeFacts(open=True), {"topic": "cfe"}, False),
    ],
)
def test_a_branch_goes_where_its_condition_holds_else_to_else(
    condition: dict[str, Any], facts: FakeFacts, attributes: dict[str, str], holds: bool
) -> None:
    flow = branch_flow({"if": condition, "go": "taken"})
    assert branch_to(flow, facts, **attributes) == ("taken" if holds else "otherwise")


def test_a_branch_asks_the_facts_of_the_filled_queue_at_the_events_time() -> None:
    facts = FakeFacts(wait=10, agents=0)
    flow = branch_flow(
        {"if": {"wait_above": {"queue": "{centre}-tva", "seconds": 60}}, "go": "long"},
        {"if": {"agents_below": {"queue": "{other}-tva", "count": 1}}, "go": "nobody"},
    )
    assert branch_to(flow, facts, centre="lons", other="pau") == "nobody"
    assert facts.asked == [("wait", "lons-tva", T0), ("agents", "pau-tva", T0)]


def test_the_first_rule_that_holds_wins() -> None:
    facts = FakeFacts(open=True, holiday=True)
    flow = branch_flow(
        {"if": {"closed": "standard"}, "go": "closed"},
        {"if": {"holiday": "standard"}, "go": "holiday"},
        {"if": {"open": "standard"}, "go": "open"},
    )
    assert branch_to(flow, facts) == "holiday"
    facts.holiday = False
    assert branch_to(flow, facts) == "open"
    facts.open = False
    assert branch_to(flow, facts) == "closed"


def test_a_branch_sees_attributes_set_on_the_way() -> None:
    flow = make_flow(
        {
            "s": {"type": "set", "attributes": {"topic": "cfe"}, "next": "b"},
            "b": {"type": "branch", "rules": [{"if": {"attribute": {"topic": "cfe"}}, "go": "cfe"}], "else": "other"},
            "cfe": hangup("cfe"),
            "other": hangup("other"),
        }
    )
    session = start(flow, topic="tva")
    assert send(session, CallStarted()) == [Play(1, fr("cfe"))]


# ---------------------------------------------------------------------------------------- queue

QUEUE = {
    "type": "queue",
    "queue": "{centre}-tva",
    "prompt": "hold",
    "announce": {"every": 45},
    "callback": {
        "above": 300,
        "prompt": "offer",
        "number_prompt": "number",
        "confirm": "confirm",
        "invalid": "bad_number",
    },
    "max_wait": {"seconds": 600, "to": "{other}-tva"},
    "refused": "sorry",
}
THIRD_SEVEN_MINUTES = (
    Speech("Vous êtes le troisième appel en attente.", "fr"),
    Speech("Le temps d'attente estimé est d'environ sept minutes.", "fr"),
)


def queue_flow(**changes: Any) -> Flow:
    return make_flow(
        {
            "s": {"type": "set", "attributes": {"topic": "tva"}, "next": "q"},
            "q": {**QUEUE, **changes},
            "sorry": hangup("sorry"),
        },
        languages=["fr", "en"],
    )


def queued(flow: Flow | None = None, **attributes: str) -> Session:
    """A call that entered the queue (Enqueue and the max_wait timer, token 1, asked)."""
    session = start(flow or queue_flow(), **{**LONS, "caller": MOBILE, **attributes})
    send(session, CallStarted())
    return session


def offered(**attributes: str) -> Session:
    """A call waiting in the queue, told its place and offered a call-back (Play token 2 said)."""
    session = queued(**attributes)
    assert send(session, QueueUpdate(3, 400)) == [Play(2, (*fr("hold"), *THIRD_SEVEN_MINUTES, *fr("offer")))]
    assert send(session, PromptFinished(2)) == [WatchQueue(45)]
    return session


def test_the_queue_takes_the_call_with_its_attributes_and_route() -> None:
    session = start(queue_flow(), **LONS, caller=MOBILE)
    assert send(session, CallStarted()) == [
        Enqueue(
            "lons-tva",
            {
                "centre": "lons",
                "other": "pau",
                "english": "lons-english",
                "sie": "+33199000901",
                "caller": MOBILE,
                "language": "fr",
                "topic": "tva",
                "ivr_route": "s q",
            },
        ),
        StartTimer(1, 600),
    ]


def test_the_first_update_says_the_hold_prompt_place_wait_and_offer_then_watches() -> None:
    session = queued()
    assert send(session, QueueUpdate(3, 400)) == [Play(2, (*fr("hold"), *THIRD_SEVEN_MINUTES, *fr("offer")))]
    assert send(session, PromptFinished(2)) == [WatchQueue(45)]
    assert send(session, QueueUpdate(1, 30)) == [
        Play(
            3,
            (
                Speech("Vous êtes le prochain appel.", "fr"),
                Speech("Le temps d'attente estimé est de moins d'une minute.", "fr"),
            ),
        )
    ]
    assert send(session, PromptFinished(3)) == [WatchQueue(45)]


def test_no_estimate_offers_the_call_back() -> None:
    session = queued()
    send(session, QueueUpdate(2, 60))
    send(session, PromptFinished(2))
    assert send(session, QueueUpdate(4, None)) == [
        Play(
            3,
            (
                Speech("Vous êtes le quatrième appel en attente.", "fr"),
                Speech("Le temps d'attente ne peut pas être estimé pour le moment.", "fr"),
                *fr("offer"),
            ),
        )
    ]


def test_announcements_are_in_the_callers_language() -> None:
    session = queued(language="en")
    assert send(session, QueueUpdate(3, 400)) == [
        Play(
            2,
            (
                *en("hold"),
                Speech("You are third in line.", "en"),
                Speech("The estimated waiting time is about seven minutes.", "en"),
                *en("offer"),
            ),
        )
    ]


def test_announcements_say_only_what_the_flow_asks() -> None:
    session = queued(queue_flow(announce={"every": 90, "position": False}, callback=None))
    assert send(session, QueueUpdate(3, 400)) == [Play(2, (*fr("hold"), THIRD_SEVEN_MINUTES[1]))]
    assert send(session, PromptFinished(2)) == [WatchQueue(90)]


def test_a_queue_with_nothing_to_announce_just_waits_for_an_agent() -> None:
    session = queued(queue_flow(prompt=None, announce=None, callback=None, max_wait=None))
    assert send(session, QueueUpdate(3, 400)) == []
    assert send(session, Digit("1")) == []
    assert send(session, Connected()) == []
    assert (session.finished, session.outcome) == (True, "connected")


def test_a_queue_with_a_hold_prompt_only_says_it_once() -> None:
    session = queued(queue_flow(announce=None, callback=None, max_wait=None))
    assert send(session, QueueUpdate(3, 400)) == [Play(1, fr("hold"))]
    assert send(session, PromptFinished(1)) == []


def test_a_queue_with_a_call_back_offer_only_watches_for_a_long_wait() -> None:
    session = queued(queue_flow(prompt=None, announce=None, max_wait=None))
    assert send(session, QueueUpdate(3, 100)) == [WatchQueue(45)]
    assert send(session, QueueUpdate(3, 400)) == [Play(1, fr("offer"))]


def test_key_1_books_a_call_back_to_the_callers_number() -> None:
    session = queued()
    send(session, QueueUpdate(3, 400))
    assert press(session, "1") == [[StopPlaying(), RequestCallback(MOBILE)]]  # during the announcement
    assert session.attributes["callback_number"] == MOBILE
    assert send(session, TimerFired(1)) == []  # max_wait while booking: nothing moves
    assert press(session, "2") == [[]]
    assert send(session, CallbackBooked()) == [Play(3, fr("confirm"))]
    assert send(session, PromptFinished(3)) == [HangUp("callback")]
    assert (session.finished, session.outcome) == (True, "callback")


@pytest.mark.parametrize("caller", ["0612345678", "0033612345678"])
def test_key_1_calls_back_a_national_caller_number_in_e164(caller: str) -> None:
    session = offered(caller=caller)
    assert press(session, "1") == [[RequestCallback(MOBILE)]]


@pytest.mark.parametrize("caller", ["anonymous", "", "612345678", "+3361234"])
def test_key_1_from_an_unreachable_number_asks_for_one(caller: str) -> None:
    session = offered(caller=caller)
    assert press(session, "1") == [[Play(3, fr("number"))]]


def test_key_1_without_a_caller_attribute_asks_for_a_number() -> None:
    session = start(queue_flow(), **LONS)
    send(session, CallStarted())
    send(session, QueueUpdate(3, 400))
    assert press(session, "1") == [[StopPlaying(), Play(3, fr("number"))]]


def test_key_2_asks_for_another_number() -> None:
    session = offered()
    assert press(session, "2") == [[Play(3, fr("number"))]]
    assert send(session, QueueUpdate(3, 380)) == []  # the watch's answer while typing: no announcement
    assert send(session, PromptFinished(3)) == [StartTimer(4, 6.0)]
    assert press(session, "0698765432#") == [[StartTimer(token, 6.0)] for token in range(5, 15)] + [
        [RequestCallback("+33698765432")]
    ]
    assert session.attributes["callback_number"] == "+33698765432"
    assert send(session, CallbackBooked()) == [Play(15, fr("confirm"))]


def test_a_number_typed_in_full_international_form_needs_no_hash() -> None:
    session = offered()
    press(session, "2")
    assert press(session, "0033698765432")[-1] == [RequestCallback("+33698765432")]


def test_a_number_ends_with_its_digit_timeout() -> None:
    session = offered()
    press(session, "2")
    press(session, "0698765432")
    assert send(session, TimerFired(13)) == [RequestCallback("+33698765432")]


def test_star_starts_the_number_again() -> None:
    session = offered()
    press(session, "2")
    assert press(session, "06*0698765432#")[-1] == [RequestCallback("+33698765432")]


def test_a_wrong_number_is_asked_again_then_the_caller_waits_on_in_its_place() -> None:
    session = offered()
    press(session, "2")
    assert press(session, "123#") == [
        [StopPlaying(), StartTimer(4, 6.0)],
        [StartTimer(5, 6.0)],
        [StartTimer(6, 6.0)],
        [Play(7, fr("bad_number", "number"))],
    ]
    assert send(session, PromptFinished(7)) == [StartTimer(8, 6.0)]
    assert send(session, TimerFired(8)) == [Play(9, fr("bad_number", "number"))]  # no number at all
    assert press(session, "#") == [[StopPlaying(), WatchQueue(45)]]
    assert "callback_number" not in session.attributes
    assert send(session, QueueUpdate(2, 350)) == [
        Play(
            10,
            (
                Speech("Vous êtes le deuxième appel en attente.", "fr"),
                Speech("Le temps d'attente estimé est d'environ six minutes.", "fr"),
                *fr("offer"),
            ),
        )
    ]
    assert press(session, "1") == [[StopPlaying(), RequestCallback(MOBILE)]]  # offered again


def test_a_number_without_an_invalid_prompt_repeats_the_question() -> None:
    session = queued(queue_flow(callback={**QUEUE["callback"], "invalid": None}))
    send(session, QueueUpdate(3, 400))
    press(session, "2")
    assert press(session, "#") == [[StopPlaying(), Play(4, fr("number"))]]


def test_a_failed_call_back_puts_the_caller_back_to_waiting() -> None:
    session = offered()
    assert press(session, "1") == [[RequestCallback(MOBILE)]]
    assert send(session, CallbackFailed("store unreachable")) == [WatchQueue(45)]
    assert send(session, QueueUpdate(2, 400)) == [
        Play(3, (Speech("Vous êtes le deuxième appel en attente.", "fr"), THIRD_SEVEN_MINUTES[1], *fr("offer")))
    ]
    assert not session.finished


def test_keys_before_the_offer_are_ignored() -> None:
    session = queued()
    assert press(session, "12") == [[], []]  # not yet in the queue
    assert send(session, QueueUpdate(2, 60)) == [
        Play(
            2,
            (
                *fr("hold"),
                Speech("Vous êtes le deuxième appel en attente.", "fr"),
                Speech("Le temps d'attente estimé est d'environ une minute.", "fr"),
            ),
        )
    ]
    assert press(session, "12#") == [[], [], []]
    assert send(session, PromptFinished(2)) == [WatchQueue(45)]
    assert press(session, "1") == [[]]


def test_other_keys_than_1_and_2_do_not_answer_the_offer() -> None:
    session = offered()
    assert press(session, "3#*09") == [[]] * 5


def test_max_wait_overflows_to_the_filled_target() -> None:
    session = queued()
    send(session, QueueUpdate(3, 400))
    assert send(session, TimerFired(1)) == [Overflow("pau-tva")]
    assert send(session, TimerFired(1)) == []
    assert send(session, PromptFinished(2)) == [WatchQueue(45)]


def test_a_refused_call_goes_to_the_refused_node() -> None:
    session = queued()
    assert send(session, QueueRefused("full")) == [Play(2, fr("sorry"))]
    assert send(session, TimerFired(1)) == []  # the queue's max_wait is over
    assert session.route == ["s", "q", "sorry"]


def test_a_refused_call_without_refused_node_hangs_up() -> None:
    session = queued(queue_flow(refused=None))
    assert send(session, QueueRefused("closed")) == [HangUp("queue_refused")]
    assert (session.finished, session.outcome) == (True, "queue_refused")


def test_a_refusal_after_the_queue_took_the_call_is_refused() -> None:
    session = queued()
    send(session, QueueUpdate(3, 60))
    with pytest.raises(FlowStateError, match=r"^QueueRefused\(reason='full'\) not expected in state announcing$"):
        send(session, QueueRefused("full"))
    assert send(session, PromptFinished(2)) == [WatchQueue(45)]


def test_an_agent_answering_ends_the_flow() -> None:
    session = offered()
    assert send(session, Connected()) == []
    assert (session.finished, session.outcome) == (True, "connected")
    events = [QueueUpdate(1, 0), Digit("1"), TimerFired(1), CallbackBooked(), CallerHungUp(), PromptFinished(2)]
    assert [send(session, e) for e in events] == [[]] * len(events)


# ------------------------------------------------------------------------------------- transfer


def transfer_flow(**changes: Any) -> Flow:
    node = {"type": "transfer", "to": "{sie}", "prompt": "connecting", "fallback": "sorry", **changes}
    return make_flow({"t": node, "sorry": hangup("sorry")})


def test_a_transfer_says_its_prompt_then_calls_the_filled_number() -> None:
    session = start(transfer_flow(), **LONS)
    assert send(session, CallStarted()) == [Play(1, fr("connecting"))]
    assert press(session, "1") == [[]]  # no key cuts it short
    with pytest.raises(FlowStateError, match="^TransferFailed.status=486. not expected in state transfer_prompt$"):
        send(session, TransferFailed(486))  # not yet transferring
    assert send(session, PromptFinished(1)) == [Transfer("+33199000901")]
    assert send(session, Connected()) == []
    assert (session.finished, session.outcome) == (True, "connected")
    assert send(session, TransferFailed(486)) == []


def test_a_transfer_without_prompt_calls_at_once() -> None:
    session = start(transfer_flow(prompt=None), **LONS)
    assert send(session, CallStarted()) == [Transfer("+33199000901")]


def test_a_failed_transfer_goes_to_the_fallback() -> None:
    session = start(transfer_flow(), **LONS)
    send(session, CallStarted())
    send(session, PromptFinished(1))
    assert send(session, TransferFailed(486)) == [Play(2, fr("sorry"))]
    assert session.route == ["t", "sorry"]


@pytest.mark.parametrize("status", [404, 486, 503])
def test_a_failed_transfer_without_fallback_hangs_up_with_its_status(status: int) -> None:
    session = start(transfer_flow(fallback=None), **LONS)
    send(session, CallStarted())
    send(session, PromptFinished(1))
    assert send(session, TransferFailed(status)) == [HangUp(f"transfer_failed_{status}")]
    assert session.finished


# ------------------------------------------------------------------------------------ voicemail


def voicemail_flow() -> Flow:
    return make_flow(
        {
            "vm": {
                "type": "voicemail",
                "prompt": "leave",
                "queue": "{centre}-email",
                "max_seconds": 60,
                "next": "thanks",
            },
            "thanks": hangup("thanks"),
        }
    )


def recording() -> Session:
    session = start(voicemail_flow(), **LONS)
    assert send(session, CallStarted()) == [Play(1, fr("leave"))]
    assert send(session, PromptFinished(1)) == [StartRecording(), StartTimer(2, 60)]
    return session


VOICEMAIL_ATTRIBUTES = {**LONS, "language": "fr", "ivr_route": "vm"}


def test_hash_ends_the_message_which_becomes_a_task() -> None:
    session = recording()
    assert press(session, "#") == [[StopRecording()]]
    assert press(session, "#") == [[]]
    assert send(session, Recorded(12.5)) == [LeaveVoicemail("lons-email", VOICEMAIL_ATTRIBUTES), Play(3, fr("thanks"))]
    with pytest.raises(FlowStateError, match=r"^Recorded\(seconds=12.5\) not expected in state goodbye$"):
        send(session, Recorded(12.5))
    assert send(session, PromptFinished(3)) == [HangUp("flow_end")]


def test_other_keys_while_recording_are_part_of_the_message() -> None:
    session = recording()
    assert press(session, "0612345678*") == [[]] * 11
    assert press(session, "#") == [[StopRecording()]]


def test_the_message_ends_after_max_seconds() -> None:
    session = recording()
    assert send(session, TimerFired(2)) == [StopRecording()]
    assert send(session, TimerFired(2)) == []
    assert send(session, Recorded(60)) == [LeaveVoicemail("lons-email", VOICEMAIL_ATTRIBUTES), Play(3, fr("thanks"))]


def test_a_message_under_a_second_is_no_message() -> None:
    session = recording()
    press(session, "#")
    assert send(session, Recorded(0.9)) == [Play(3, fr("thanks"))]


def test_a_key_during_the_voicemail_prompt_starts_recording() -> None:
    session = start(voicemail_flow(), **LONS)
    send(session, CallStarted())
    assert press(session, "#") == [[StopPlaying(), StartRecording(), StartTimer(2, 60)]]


def test_a_recording_ending_unasked_is_refused() -> None:
    session = recording()
    with pytest.raises(FlowStateError, match=r"^Recorded\(seconds=3\) not expected in state recording$"):
        send(session, Recorded(3))  # not asked for: the timer or # will stop it
    assert send(session, TimerFired(2)) == [StopRecording()]


def test_hanging_up_while_recording_keeps_the_message() -> None:
    session = recording()
    assert send(session, CallerHungUp()) == [StopRecording()]
    assert not session.finished
    assert send(session, Digit("1")) == []
    assert send(session, Recorded(20)) == [LeaveVoicemail("lons-email", VOICEMAIL_ATTRIBUTES)]
    assert (session.finished, session.outcome) == (True, "caller_hung_up")
    assert send(session, PromptFinished(1)) == []


def test_hanging_up_at_the_tone_leaves_no_message() -> None:
    session = recording()
    assert send(session, CallerHungUp()) == [StopRecording()]
    assert send(session, Recorded(0.3)) == []
    assert session.finished


def test_hanging_up_after_hash_keeps_the_message() -> None:
    session = recording()
    press(session, "#")
    assert send(session, CallerHungUp()) == []
    assert send(session, Recorded(8)) == [LeaveVoicemail("lons-email", VOICEMAIL_ATTRIBUTES)]
    assert session.finished


def test_hanging_up_during_the_voicemail_prompt_ends_the_call() -> None:
    session = start(voicemail_flow(), **LONS)
    send(session, CallStarted())
    assert send(session, CallerHungUp()) == []
    assert send(session, PromptFinished(1)) == []
    assert session.finished


# --------------------------------------------------------------------------------- hangup, loops


def test_hangup_with_a_prompt_says_it_first_and_takes_no_key() -> None:
    session = start(make_flow({"bye": hangup("bye")}))
    assert send(session, CallStarted()) == [Play(1, fr("bye"))]
    assert press(session, "1#") == [[], []]
    assert send(session, PromptFinished(1)) == [HangUp("flow_end")]
    assert (session.finished, session.outcome) == (True, "flow_end")
    assert send(session, PromptFinished(1)) == []


def test_hangup_without_prompt_hangs_up_at_once() -> None:
    session = start(make_flow({"bye": hangup()}))
    assert send(session, CallStarted()) == [HangUp("flow_end")]
    assert session.finished


def test_a_loop_that_never_waits_hangs_up_after_max_steps() -> None:
    flow = make_flow(
        {
            "a": {"type": "set", "attributes": {"topic": "x"}, "next": "b"},
            "b": {"type": "branch", "rules": [{"if": {"attribute": {"topic": "y"}}, "go": "bye"}], "else": "a"},
            "bye": hangup(),
        }
    )
    session = start(flow, max_steps=10)
    assert send(session, CallStarted()) == [HangUp("too_many_steps")]
    assert (session.finished, session.outcome, session.route) == (True, "too_many_steps", ["a", "b"] * 5)
    session = start(flow)
    assert send(session, CallStarted()) == [HangUp("too_many_steps")]
    assert len(session.route) == 60


def test_a_play_loop_cut_short_by_keys_ends_too() -> None:
    flow = make_flow(
        {"a": {"type": "play", "prompts": ["a"], "next": "b"}, "b": {"type": "play", "prompts": ["b"], "next": "a"}}
    )
    session = start(flow, max_steps=3)
    send(session, CallStarted())
    assert press(session, "12") == [[StopPlaying(), Play(2, fr("b"))], [StopPlaying(), Play(3, fr("a"))]]
    assert press(session, "3") == [[StopPlaying(), HangUp("too_many_steps")]]


# ---------------------------------------------------------------------------- the caller hangs up


def at_each_point() -> list[tuple[str, list[ev.Event]]]:
    """Ways into the demo flow (Lons, open), each to one place a caller may hang up."""
    return [
        ("welcome", []),
        ("language menu", [PromptFinished(1)]),
        ("language timer", [PromptFinished(1), PromptFinished(2)]),
        ("topics", [Digit("1")]),
        ("siren", [Digit("1"), Digit("1"), Digit("7")]),
        ("queue entering", [Digit("1"), Digit("1"), Digit("#")]),
        ("queue waiting", [Digit("1"), Digit("1"), Digit("#"), QueueUpdate(5, 900)]),
        ("callback number", [Digit("1"), Digit("1"), Digit("#"), QueueUpdate(5, 900), Digit("2")]),
        ("booking", [Digit("1"), Digit("1"), Digit("#"), QueueUpdate(5, 900), Digit("1")]),
        ("callback confirm", [Digit("1"), Digit("1"), Digit("#"), QueueUpdate(5, 900), Digit("1"), CallbackBooked()]),
        ("transfer prompt", [Digit("1"), Digit("9")]),
        ("transferring", [Digit("1"), Digit("9"), PromptFinished(3)]),
        ("voicemail prompt", [Digit("1"), Digit("9"), PromptFinished(3), TransferFailed(480)]),
    ]


@pytest.mark.parametrize(("point", "events"), at_each_point(), ids=[point for point, _ in at_each_point()])
def test_the_caller_hanging_up_ends_the_session_with_nothing_more(point: str, events: list[ev.Event]) -> None:
    session = start(demo_flow(), **LONS, caller=MOBILE)
    given = [a.token for e in [CallStarted(), *events] for a in send(session, e) if isinstance(a, Play | StartTimer)]
    assert not session.finished, point
    assert send(session, CallerHungUp()) == []
    assert (session.finished, session.outcome, session.state) == (True, "caller_hung_up", FlowState.ENDED)
    later = [Digit("1"), *(PromptFinished(t) for t in given), *(TimerFired(t) for t in given)]
    later += [QueueUpdate(1, 0), QueueRefused("x"), CallbackBooked(), CallbackFailed("x"), TransferFailed(486)]
    later += [Connected(), CallerHungUp()]
    assert [send(session, event) for event in later] == [[]] * len(later)
    for refused in (Recorded(9), CallStarted()):
        with pytest.raises(FlowStateError, match=f"^{re.escape(repr(refused))} not expected in state ended$"):
            send(session, refused)
    assert (session.state, session.outcome) == (FlowState.ENDED, "caller_hung_up")


# ------------------------------------------------------------------------------ the demo flow


def test_demo_closed_says_so_and_hangs_up() -> None:
    session = start(demo_flow(), FakeFacts(open=False), **LONS)
    assert send(session, CallStarted()) == [Play(1, fr("closed"))]
    assert send(session, PromptFinished(1)) == [HangUp("flow_end")]
    assert session.route == ["accueil", "closed"]


def test_demo_on_a_holiday_says_so_in_the_callers_language() -> None:
    session = start(demo_flow(), FakeFacts(open=False, holiday=True), **LONS, language="en")
    assert send(session, CallStarted()) == [Play(1, en("holiday"))]
    assert send(session, PromptFinished(1)) == [HangUp("flow_end")]
    assert session.route == ["accueil", "holiday"]


def test_demo_in_english_to_corporate_tax_with_a_siren() -> None:
    facts = FakeFacts()
    session = start(demo_flow(), facts, **LONS, caller=MOBILE)
    assert send(session, CallStarted()) == [Play(1, fr("welcome"))]
    assert facts.asked == [("holiday", "standard", T0), ("open", "standard", T0)]
    assert send(session, PromptFinished(1)) == [Play(2, fr("language"))]
    assert press(session, "2") == [[StopPlaying(), Play(3, en("topics"))]]
    assert press(session, "3") == [[StopPlaying(), Play(4, en("siren"))]]
    typed = press(session, "732829320#")
    assert typed[0] == [StopPlaying(), StartTimer(5, 4)]
    assert typed[1:8] == [[StartTimer(token, 4)] for token in range(6, 13)]
    attributes = {
        **LONS,
        "caller": MOBILE,
        "language": "en",
        "topic": "is",
        "siren": "732829320",
        "ivr_route": "accueil welcome language topics siren dispatch queue-english",
    }
    assert typed[8:] == [[Enqueue("lons-english", attributes)], []]  # nine digits end it: # is too late
    assert send(session, QueueUpdate(1, 20)) == [
        Play(
            13,
            (
                *en("hold"),
                Speech("You are next in line.", "en"),
                Speech("The estimated waiting time is less than a minute.", "en"),
            ),
        )
    ]
    assert send(session, PromptFinished(13)) == [WatchQueue(45)]
    assert send(session, Connected()) == []
    assert session.outcome == "connected"


def test_demo_french_vat_without_a_siren_overflows_to_the_other_centre() -> None:
    session = start(demo_flow(), **LONS, caller=MOBILE)
    send(session, CallStarted())
    assert press(session, "11#") == [
        [StopPlaying(), Play(2, fr("topics"))],
        [StopPlaying(), Play(3, fr("siren"))],
        [
            StopPlaying(),
            Enqueue(
                "lons-tva",
                {
                    **LONS,
                    "caller": MOBILE,
                    "language": "fr",
                    "topic": "tva",
                    "ivr_route": "accueil welcome language topics siren dispatch queue-tva",
                },
            ),
            StartTimer(4, 600),
        ],
    ]
    assert send(session, TimerFired(4)) == [Overflow("pau-tva")]


def test_demo_no_language_key_is_french_and_three_misses_go_to_the_siren() -> None:
    session = start(demo_flow(), **LONS)
    send(session, CallStarted())
    send(session, PromptFinished(1))
    assert send(session, PromptFinished(2)) == [StartTimer(3, 4)]
    assert send(session, TimerFired(3)) == [Play(4, fr("topics"))]
    assert send(session, PromptFinished(4)) == [StartTimer(5, 5)]
    assert send(session, TimerFired(5)) == [Play(6, fr("no_choice", "topics"))]
    assert press(session, "7") == [[StopPlaying(), Play(7, fr("invalid_choice", "topics"))]]
    assert press(session, "8") == [[StopPlaying(), Play(8, fr("siren"))]]
    assert "topic" not in session.attributes


def test_demo_french_sie_transfer_then_its_voicemail() -> None:
    session = start(demo_flow(), **LONS)
    send(session, CallStarted())
    assert send(session, PromptFinished(1)) == [Play(2, fr("language"))]
    assert press(session, "19") == [[StopPlaying(), Play(3, fr("topics"))], [StopPlaying(), Play(4, fr("sie"))]]
    assert send(session, PromptFinished(4)) == [Transfer("+33199000901")]
    assert send(session, TransferFailed(480)) == [Play(5, fr("sie_unreachable"))]
    assert send(session, PromptFinished(5)) == [StartRecording(), StartTimer(6, 120)]
    assert press(session, "#") == [[StopRecording()]]
    route = "accueil welcome language topics sie sie-message"
    assert send(session, Recorded(30)) == [
        LeaveVoicemail("lons-email", {**LONS, "language": "fr", "topic": "sie", "ivr_route": route}),
        Play(7, fr("thanks")),
    ]
    assert send(session, PromptFinished(7)) == [HangUp("flow_end")]


def test_demo_pau_transfers_to_its_own_office() -> None:
    session = start(demo_flow(), **number_attributes(PAU_NUMBER))
    send(session, CallStarted())
    press(session, "19")
    assert send(session, PromptFinished(3)) == [Transfer("+33199000902")]


def test_demo_full_queue_takes_a_message() -> None:
    session = start(demo_flow(), **LONS)
    send(session, CallStarted())
    press(session, "15#")
    assert send(session, QueueRefused("full")) == [Play(5, fr("full"))]
    assert send(session, TimerFired(4)) == []
    assert session.route[-2:] == ["queue-paiement", "full"]


# ------------------------------------------------------------------------- random events, invariants

FACTS = st.builds(
    FakeFacts,
    open=st.sampled_from([True, True, True, False]),
    holiday=st.sampled_from([False, False, False, True]),
    wait=st.none() | st.sampled_from([0.0, 299.0, 301.0, 4000.0]),
    agents=st.integers(0, 3),
)
CALLERS = st.sampled_from([MOBILE, "0612345678", "anonymous", ""])
LANGUAGES = st.sampled_from([None, "fr", "en", "de"])


def normalised(validator: str | None, node: CollectNode, value: str) -> bool:
    """Whether `value` is what `validator` makes of some entry: its output, not the digits typed."""
    match validator:
        case None:
            return re.fullmatch(r"[0-9]+", value) is not None and node.min_length <= len(value) <= node.max_length
        case "siren" | "siret":
            return VALIDATORS[validator](value) == value
        case "department":
            return value in ("2A", "2B") or VALIDATORS["department"](value) == value
        case "date":
            return (
                re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) is not None
                and 1900 <= _date.fromisoformat(value).year <= 2100
            )
        case "phone":
            return re.fullmatch(r"\+33[1-9][0-9]{8}", value) is not None
    return False


class Call:
    """A session driven like the driver would, checking the invariants after every event."""

    def __init__(self, flow: Flow, facts: FakeFacts, attributes: dict[str, str], max_steps: int) -> None:
        self.flow, self.given = flow, dict(attributes)
        self.session = Session(flow, facts, attributes, max_steps=max_steps)
        self.owed = Outstanding()
        self.caller_gone = False
        self.messages_after_hang_up = 0
        self.last_token = 0

    def deliver(self, event: ev.Event, *, unasked: bool = False) -> None:
        """(1) An event a driver may send is taken; one nobody asked for is taken, or refused with the
        session as it was."""
        session, owed = self.session, self.owed
        was_finished = session.finished
        before = snapshot(session)
        try:
            actions = session.handle(event, T0)
        except FlowStateError as error:
            assert unasked, f"{event} refused in {session.state}: {error}"
            assert snapshot(session) == before
            return
        self.owed.delivered(event)
        if was_finished or owed.hung_up:
            assert actions == [], f"{event} after the end gave {actions}"  # (3)
        self.owed.saw(actions)
        if isinstance(event, CallerHungUp) and not was_finished:
            self.caller_gone = True
        if self.caller_gone:  # nothing but the message being kept, once
            assert all(isinstance(a, StopRecording | LeaveVoicemail) for a in actions), actions
            self.messages_after_hang_up += sum(isinstance(a, LeaveVoicemail) for a in actions)
            assert self.messages_after_hang_up <= 1
        for index, action in enumerate(actions):
            if isinstance(action, HangUp):
                assert index == len(actions) - 1 and session.finished, actions
            if isinstance(action, Play | StartTimer):
                assert action.token > self.last_token, actions  # tokens are never given twice
                self.last_token = action.token
            if isinstance(action, Play):
                assert {clip.language for clip in action.clips} <= set(self.flow.languages), action
        if not session.finished:
            assert owed.anything(), f"stuck at {session.node} after {event}: {actions}"  # (2)
        assert len(session.route) <= session.max_steps  # (4)
        for node in self.flow.nodes.values():  # (5)
            if isinstance(node, CollectNode) and node.into in session.attributes and node.into not in self.given:
                assert normalised(node.validate_as, node, session.attributes[node.into]), session.attributes

    def drain(self) -> None:
        """Answer whatever is owed, the caller silent, until the call ends or waits for an agent."""
        owed = self.owed
        for _ in range(2000):
            if self.session.finished:
                return
            if owed.playing is not None:
                self.deliver(PromptFinished(owed.playing))
            elif owed.timers:
                self.deliver(TimerFired(min(owed.timers)))
            elif owed.requests["recording"]:
                self.deliver(Recorded(10))
            elif owed.requests["transfer"]:
                self.deliver(TransferFailed(503))
            elif owed.requests["callback"]:
                self.deliver(CallbackFailed("busy"))
            elif owed.requests["enqueue"]:
                self.deliver(QueueRefused("full"))
            elif owed.in_queue:
                return  # music until an agent answers
            else:
                pytest.fail(f"stuck at {self.session.node}")
        pytest.fail("no end after 2000 events")


#: Whole entries a caller may type at once: a call-back number, a SIREN, a department, a wrong number.
ENTRIES = ["0612345678#", "0033612345678", "732829320", "732829321#", "201", "29022024", "123#", "*06#"]


def next_events(data: st.DataObject, call: Call) -> tuple[list[ev.Event], bool]:
    """What happens next: mostly what the session is owed (a prompt said, a timer, an answer), else the
    caller's keys, an answer nobody asked for (True), the caller hanging up."""
    owed = call.owed
    choices: list[str] = []
    if owed.playing is not None:
        choices += ["prompt"] * 4
    if owed.timers:
        choices += ["timer"] * 3
    choices += ["digit"] * 4 + ["entry"]
    if owed.requests["enqueue"]:
        choices += ["update"] * 4 + ["refused"]
    if owed.requests["watch"]:
        choices += ["update"] * 4
    if owed.requests["callback"]:
        choices += ["booked", "callback failed"] * 2
    if owed.requests["transfer"]:
        choices += ["transfer failed"] * 2 + ["connected"]
    if owed.requests["recording"]:
        choices += ["recorded"] * 3
    if owed.in_queue:
        choices.append("connected")
    if owed.stale():
        choices.append("stale")
    choices += ["unasked", "hang up"]
    choice = data.draw(st.sampled_from(choices))
    unasked = choice == "unasked"
    return _events(data, call, choice), unasked


def _events(data: st.DataObject, call: Call, choice: str) -> list[ev.Event]:
    owed = call.owed
    if choice == "unasked":  # an answer to nothing asked, or the call starting again
        choice = data.draw(
            st.sampled_from(["update", "refused", "booked", "callback failed", "transfer failed", "recorded", "start"])
        )
    match choice:
        case "prompt":
            assert owed.playing is not None
            return [PromptFinished(owed.playing)]
        case "timer":
            return [TimerFired(data.draw(st.sampled_from(sorted(owed.timers))))]
        case "digit":
            return [Digit(data.draw(st.sampled_from(KEYS)))]
        case "entry":
            return [Digit(key) for key in data.draw(st.sampled_from(ENTRIES))]
        case "stale":
            token = data.draw(st.sampled_from(owed.stale()))
            return [data.draw(st.sampled_from([PromptFinished(token), TimerFired(token)]))]
        case "update":
            wait = data.draw(st.none() | st.floats(0, 4000, allow_nan=False))
            return [QueueUpdate(data.draw(st.integers(1, 40)), wait)]
        case "refused":
            return [QueueRefused("full")]
        case "booked":
            return [CallbackBooked()]
        case "callback failed":
            return [CallbackFailed("busy")]
        case "transfer failed":
            return [TransferFailed(data.draw(st.sampled_from([404, 486, 503])))]
        case "recorded":
            return [Recorded(data.draw(st.sampled_from([0.0, 0.5, 1.0, 30.0])))]
        case "hang up":
            return [CallerHungUp()]
        case "connected":
            return [Connected()]
    return [CallStarted()]


def run(data: st.DataObject, call: Call) -> None:
    call.deliver(CallStarted())
    for _ in range(data.draw(st.integers(0, 80))):
        events, unasked = next_events(data, call)
        for event in events:
            call.deliver(event, unasked=unasked)
    call.drain()


@given(
    data=st.data(), facts=FACTS, caller=CALLERS, language=LANGUAGES, number=st.sampled_from([LONS_NUMBER, PAU_NUMBER])
)
@settings(max_examples=400, deadline=None, database=None)
def test_random_events_on_the_demo_flow_keep_the_invariants(
    data: st.DataObject, facts: FakeFacts, caller: str, language: str | None, number: str
) -> None:
    attributes = {**number_attributes(number), "caller": caller}
    if language is not None:
        attributes["language"] = language
    run(data, Call(demo_flow(), facts, attributes, max_steps=60))


@given(
    data=st.data(), flow=random_flows(), facts=FACTS, caller=CALLERS, language=LANGUAGES, max_steps=st.integers(1, 30)
)
@settings(max_examples=600, deadline=None, database=None)
def test_random_events_on_random_flows_keep_the_invariants(
    data: st.DataObject, flow: Flow, facts: FakeFacts, caller: str, language: str | None, max_steps: int
) -> None:
    attributes = {**LONS, "caller": caller}
    if language is not None:
        attributes["language"] = language
    run(data, Call(flow, facts, attributes, max_steps=max_steps))

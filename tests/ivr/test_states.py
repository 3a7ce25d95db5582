"""The interpreter's transition table (ivr/_states.py): every entry taken in its state with its exact
outcome, every pair it lacks refused with the state and event named and nothing changed, and random
events on the flows of tests/ivr/flows.py either taken or refused, a hang-up always ending the flow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr import actions as act
from ivr import events as ev
from ivr._states import TRANSITIONS, Trigger
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
from ivr.errors import FlowStateError, IvrError
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
from ivr.flow import Flow
from ivr.interpreter import FlowState, Session
from tests.ivr.flows import KEYS, T0, FakeFacts, demo_flow, fr, make_flow, random_flows, snapshot

MOBILE = "+33612345678"
ATTRIBUTES = {"centre": "lons", "other": "pau", "sie": "+33199000901", "caller": MOBILE}
INTRO = {"type": "play", "prompts": ["intro"]}


def bye(prompt: str) -> dict[str, Any]:
    return {"type": "hangup", "prompt": prompt}


FLOWS: dict[str, Flow] = {
    "play": make_flow(
        {
            "hello": {"type": "play", "prompts": ["welcome"], "next": "notice"},
            "notice": {"type": "play", "prompts": ["notice"], "next": "m"},
            "m": {
                "type": "menu",
                "prompt": "choose",
                "options": {"1": "bye"},
                "no_input": "silence",
                "fallback": "bye",
            },
            "bye": bye("bye"),
        }
    ),
    "collect": make_flow(
        {
            "c": {
                "type": "collect",
                "prompt": "ask",
                "into": "code",
                "max_length": 2,
                "timeout": 8,
                "next": "ok",
                "fallback": "ok",
            },
            "ok": bye("ok"),
        }
    ),
    "queue": make_flow(
        {
            "intro": {**INTRO, "next": "q"},
            "q": {
                "type": "queue",
                "queue": "{centre}-tva",
                "prompt": "hold",
                "announce": {"every": 45, "wait": False},
                "callback": {"above": 300, "prompt": "offer", "number_prompt": "number", "confirm": "confirm"},
                "max_wait": {"seconds": 600, "to": "{other}-tva"},
                "refused": "sorry",
            },
            "sorry": bye("sorry"),
        }
    ),
    "transfer": make_flow(
        {
            "intro": {**INTRO, "next": "t"},
            "t": {"type": "transfer", "to": "{sie}", "prompt": "connecting", "fallback": "sorry"},
            "sorry": bye("sorry"),
        }
    ),
    "voicemail": make_flow(
        {
            "intro": {**INTRO, "next": "vm"},
            "vm": {"type": "voicemail", "prompt": "leave", "queue": "{centre}-email", "max_seconds": 60, "next": "t"},
            "t": bye("thanks"),
        }
    ),
    "bye": make_flow({"intro": {**INTRO, "next": "bye"}, "bye": bye("bye")}),
}

#: The events that bring a session of each flow to a state (tokens: see each flow's comment in CASES).
PLACES: dict[FlowState, tuple[str, tuple[ev.Event, ...]]] = {
    FlowState.IDLE: ("play", ()),
    FlowState.PLAYING: ("play", (CallStarted(),)),  # welcome: 1
    FlowState.MENU: ("play", (CallStarted(), PromptFinished(1), PromptFinished(2))),  # notice: 2, choose: 3
    FlowState.COLLECT: ("collect", (CallStarted(),)),  # ask: 1
    FlowState.ENTERING: ("queue", (CallStarted(), PromptFinished(1))),  # intro: 1, max wait: 2
    FlowState.ANNOUNCING: ("queue", (CallStarted(), PromptFinished(1), QueueUpdate(3, 400))),  # announcement: 3
    FlowState.WAITING: ("queue", (CallStarted(), PromptFinished(1), QueueUpdate(3, 400), PromptFinished(3))),
    FlowState.BOOKING: ("queue", (CallStarted(), PromptFinished(1), QueueUpdate(3, 400), Digit("1"))),
    FlowState.CALLBACK_NUMBER: (
        "queue",
        (CallStarted(), PromptFinished(1), QueueUpdate(3, 400), PromptFinished(3), Digit("2")),  # number: 4
    ),
    FlowState.CALLBACK_CONFIRM: (
        "queue",
        (CallStarted(), PromptFinished(1), QueueUpdate(3, 400), Digit("1"), CallbackBooked()),  # confirm: 4
    ),
    FlowState.TRANSFER_PROMPT: ("transfer", (CallStarted(), PromptFinished(1))),  # connecting: 2
    FlowState.TRANSFERRING: ("transfer", (CallStarted(), PromptFinished(1), PromptFinished(2))),
    FlowState.VOICEMAIL_PROMPT: ("voicemail", (CallStarted(), PromptFinished(1))),  # leave: 2
    FlowState.RECORDING: ("voicemail", (CallStarted(), PromptFinished(1), PromptFinished(2))),  # max: 3
    FlowState.RECORDED: ("voicemail", (CallStarted(), PromptFinished(1), PromptFinished(2), Digit("#"))),
    FlowState.GOODBYE: ("bye", (CallStarted(), PromptFinished(1))),  # bye: 2
    FlowState.ENDED: ("bye", (CallStarted(), PromptFinished(1), PromptFinished(2))),
}


@dataclass(frozen=True)
class Case:
    event: ev.Event
    actions: list[act.Action]
    state: FlowState
    before: tuple[ev.Event, ...] = ()  # events after the state's place, when the entry needs more


S, T = FlowState, Trigger
QUEUED = {**ATTRIBUTES, "language": "fr", "ivr_route": "intro q"}
THIRD = Speech("Vous êtes le troisième appel en attente.", "fr")
NEXT = Speech("Vous êtes le prochain appel.", "fr")
_ = S.ENDED
#: One case per entry of TRANSITIONS: the event, what it gives, the state after.
CASES: dict[tuple[FlowState, Trigger], Case] = {
    (S.IDLE, T.CALL_STARTED): Case(CallStarted(), [Play(1, fr("welcome"))], S.PLAYING),
    (S.IDLE, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.PLAYING, T.DIGIT): Case(Digit("1"), [StopPlaying(), Play(2, fr("notice"))], S.PLAYING),
    (S.PLAYING, T.PROMPT_FINISHED): Case(PromptFinished(1), [Play(2, fr("notice"))], S.PLAYING),
    (S.PLAYING, T.STALE_PROMPT): Case(PromptFinished(1), [], S.PLAYING, (PromptFinished(1),)),
    (S.PLAYING, T.STALE_TIMER): Case(TimerFired(1), [], S.PLAYING),
    (S.PLAYING, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.MENU, T.DIGIT): Case(Digit("1"), [StopPlaying(), Play(4, fr("bye"))], S.GOODBYE),
    (S.MENU, T.PROMPT_FINISHED): Case(PromptFinished(3), [StartTimer(4, 5)], S.MENU),
    (S.MENU, T.TIMER): Case(TimerFired(4), [Play(5, fr("silence", "choose"))], S.MENU, (PromptFinished(3),)),
    (S.MENU, T.STALE_PROMPT): Case(PromptFinished(2), [], S.MENU),
    (S.MENU, T.STALE_TIMER): Case(TimerFired(1), [], S.MENU),
    (S.MENU, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.COLLECT, T.DIGIT): Case(Digit("4"), [StopPlaying(), StartTimer(2, 4)], S.COLLECT),
    (S.COLLECT, T.PROMPT_FINISHED): Case(PromptFinished(1), [StartTimer(2, 8)], S.COLLECT),
    (S.COLLECT, T.TIMER): Case(TimerFired(2), [Play(3, fr("ok"))], S.GOODBYE, (Digit("4"),)),
    (S.COLLECT, T.STALE_PROMPT): Case(PromptFinished(1), [], S.COLLECT, (Digit("4"),)),
    (S.COLLECT, T.STALE_TIMER): Case(TimerFired(2), [], S.COLLECT, (Digit("4"), Digit("*"))),
    (S.COLLECT, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.ENTERING, T.DIGIT): Case(Digit("1"), [], S.ENTERING),
    (S.ENTERING, T.QUEUE_UPDATE): Case(
        QueueUpdate(3, 400), [Play(3, (*fr("hold"), THIRD, *fr("offer")))], S.ANNOUNCING
    ),
    (S.ENTERING, T.QUEUE_REFUSED): Case(QueueRefused("full"), [Play(3, fr("sorry"))], S.GOODBYE),
    (S.ENTERING, T.MAX_WAIT): Case(TimerFired(2), [Overflow("pau-tva")], S.ENTERING),
    (S.ENTERING, T.CONNECTED): Case(Connected(), [], _),
    (S.ENTERING, T.STALE_PROMPT): Case(PromptFinished(1), [], S.ENTERING),
    (S.ENTERING, T.STALE_TIMER): Case(TimerFired(1), [], S.ENTERING),
    (S.ENTERING, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.ANNOUNCING, T.DIGIT): Case(Digit("1"), [StopPlaying(), RequestCallback(MOBILE)], S.BOOKING),
    (S.ANNOUNCING, T.PROMPT_FINISHED): Case(PromptFinished(3), [WatchQueue(45)], S.WAITING),
    (S.ANNOUNCING, T.QUEUE_UPDATE): Case(QueueUpdate(2, 300), [], S.ANNOUNCING),
    (S.ANNOUNCING, T.MAX_WAIT): Case(TimerFired(2), [Overflow("pau-tva")], S.ANNOUNCING),
    (S.ANNOUNCING, T.CONNECTED): Case(Connected(), [], _),
    (S.ANNOUNCING, T.STALE_PROMPT): Case(PromptFinished(1), [], S.ANNOUNCING),
    (S.ANNOUNCING, T.STALE_TIMER): Case(TimerFired(1), [], S.ANNOUNCING),
    (S.ANNOUNCING, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.WAITING, T.DIGIT): Case(Digit("2"), [Play(4, fr("number"))], S.CALLBACK_NUMBER),
    (S.WAITING, T.QUEUE_UPDATE): Case(QueueUpdate(1, 30), [Play(4, (NEXT,))], S.ANNOUNCING),
    (S.WAITING, T.MAX_WAIT): Case(TimerFired(2), [Overflow("pau-tva")], S.WAITING),
    (S.WAITING, T.CONNECTED): Case(Connected(), [], _),
    (S.WAITING, T.STALE_PROMPT): Case(PromptFinished(3), [], S.WAITING),
    (S.WAITING, T.STALE_TIMER): Case(TimerFired(1), [], S.WAITING),
    (S.WAITING, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.BOOKING, T.DIGIT): Case(Digit("5"), [], S.BOOKING),
    (S.BOOKING, T.QUEUE_UPDATE): Case(QueueUpdate(2, 300), [], S.BOOKING),
    (S.BOOKING, T.CALLBACK_BOOKED): Case(CallbackBooked(), [Play(4, fr("confirm"))], S.CALLBACK_CONFIRM),
    (S.BOOKING, T.CALLBACK_FAILED): Case(CallbackFailed("busy"), [WatchQueue(45)], S.WAITING),
    (S.BOOKING, T.MAX_WAIT): Case(TimerFired(2), [], S.BOOKING),
    (S.BOOKING, T.CONNECTED): Case(Connected(), [], _),
    (S.BOOKING, T.STALE_PROMPT): Case(PromptFinished(3), [], S.BOOKING),
    (S.BOOKING, T.STALE_TIMER): Case(TimerFired(1), [], S.BOOKING),
    (S.BOOKING, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.CALLBACK_NUMBER, T.DIGIT): Case(Digit("0"), [StopPlaying(), StartTimer(5, 6.0)], S.CALLBACK_NUMBER),
    (S.CALLBACK_NUMBER, T.PROMPT_FINISHED): Case(PromptFinished(4), [StartTimer(5, 6.0)], S.CALLBACK_NUMBER),
    (S.CALLBACK_NUMBER, T.TIMER): Case(TimerFired(5), [Play(6, fr("number"))], S.CALLBACK_NUMBER, (PromptFinished(4),)),
    (S.CALLBACK_NUMBER, T.QUEUE_UPDATE): Case(QueueUpdate(2, 300), [], S.CALLBACK_NUMBER),
    (S.CALLBACK_NUMBER, T.MAX_WAIT): Case(TimerFired(2), [Overflow("pau-tva")], S.CALLBACK_NUMBER),
    (S.CALLBACK_NUMBER, T.CONNECTED): Case(Connected(), [], _),
    (S.CALLBACK_NUMBER, T.STALE_PROMPT): Case(PromptFinished(3), [], S.CALLBACK_NUMBER),
    (S.CALLBACK_NUMBER, T.STALE_TIMER): Case(TimerFired(1), [], S.CALLBACK_NUMBER),
    (S.CALLBACK_NUMBER, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.CALLBACK_CONFIRM, T.DIGIT): Case(Digit("1"), [], S.CALLBACK_CONFIRM),
    (S.CALLBACK_CONFIRM, T.PROMPT_FINISHED): Case(PromptFinished(4), [HangUp("callback")], _),
    (S.CALLBACK_CONFIRM, T.QUEUE_UPDATE): Case(QueueUpdate(2, 300), [], S.CALLBACK_CONFIRM),
    (S.CALLBACK_CONFIRM, T.STALE_PROMPT): Case(PromptFinished(3), [], S.CALLBACK_CONFIRM),
    (S.CALLBACK_CONFIRM, T.STALE_TIMER): Case(TimerFired(2), [], S.CALLBACK_CONFIRM),  # the max wait's
    (S.CALLBACK_CONFIRM, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.TRANSFER_PROMPT, T.DIGIT): Case(Digit("1"), [], S.TRANSFER_PROMPT),
    (S.TRANSFER_PROMPT, T.PROMPT_FINISHED): Case(PromptFinished(2), [Transfer("+33199000901")], S.TRANSFERRING),
    (S.TRANSFER_PROMPT, T.STALE_PROMPT): Case(PromptFinished(1), [], S.TRANSFER_PROMPT),
    (S.TRANSFER_PROMPT, T.STALE_TIMER): Case(TimerFired(1), [], S.TRANSFER_PROMPT),
    (S.TRANSFER_PROMPT, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.TRANSFERRING, T.DIGIT): Case(Digit("1"), [], S.TRANSFERRING),
    (S.TRANSFERRING, T.CONNECTED): Case(Connected(), [], _),
    (S.TRANSFERRING, T.TRANSFER_FAILED): Case(TransferFailed(486), [Play(3, fr("sorry"))], S.GOODBYE),
    (S.TRANSFERRING, T.STALE_PROMPT): Case(PromptFinished(2), [], S.TRANSFERRING),
    (S.TRANSFERRING, T.STALE_TIMER): Case(TimerFired(1), [], S.TRANSFERRING),
    (S.TRANSFERRING, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.VOICEMAIL_PROMPT, T.DIGIT): Case(Digit("5"), [StopPlaying(), StartRecording(), StartTimer(3, 60)], S.RECORDING),
    (S.VOICEMAIL_PROMPT, T.PROMPT_FINISHED): Case(
        PromptFinished(2), [StartRecording(), StartTimer(3, 60)], S.RECORDING
    ),
    (S.VOICEMAIL_PROMPT, T.STALE_PROMPT): Case(PromptFinished(1), [], S.VOICEMAIL_PROMPT),
    (S.VOICEMAIL_PROMPT, T.STALE_TIMER): Case(TimerFired(1), [], S.VOICEMAIL_PROMPT),
    (S.VOICEMAIL_PROMPT, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.RECORDING, T.DIGIT): Case(Digit("#"), [StopRecording()], S.RECORDED),
    (S.RECORDING, T.TIMER): Case(TimerFired(3), [StopRecording()], S.RECORDED),
    (S.RECORDING, T.STALE_PROMPT): Case(PromptFinished(2), [], S.RECORDING),
    (S.RECORDING, T.STALE_TIMER): Case(TimerFired(1), [], S.RECORDING),
    (S.RECORDING, T.HUNG_UP): Case(CallerHungUp(), [StopRecording()], S.RECORDED),
    (S.RECORDED, T.DIGIT): Case(Digit("1"), [], S.RECORDED),
    (S.RECORDED, T.RECORDED): Case(
        Recorded(12),
        [LeaveVoicemail("lons-email", {**QUEUED, "ivr_route": "intro vm"}), Play(4, fr("thanks"))],
        S.GOODBYE,
    ),
    (S.RECORDED, T.STALE_PROMPT): Case(PromptFinished(2), [], S.RECORDED),
    (S.RECORDED, T.STALE_TIMER): Case(TimerFired(3), [], S.RECORDED),
    (S.RECORDED, T.HUNG_UP): Case(CallerHungUp(), [], S.RECORDED),
    (S.GOODBYE, T.DIGIT): Case(Digit("1"), [], S.GOODBYE),
    (S.GOODBYE, T.PROMPT_FINISHED): Case(PromptFinished(2), [HangUp("flow_end")], _),
    (S.GOODBYE, T.STALE_PROMPT): Case(PromptFinished(1), [], S.GOODBYE),
    (S.GOODBYE, T.STALE_TIMER): Case(TimerFired(1), [], S.GOODBYE),
    (S.GOODBYE, T.HUNG_UP): Case(CallerHungUp(), [], _),
    (S.ENDED, T.DIGIT): Case(Digit("1"), [], _),
    (S.ENDED, T.QUEUE_UPDATE): Case(QueueUpdate(1, 0), [], _),
    (S.ENDED, T.QUEUE_REFUSED): Case(QueueRefused("full"), [], _),
    (S.ENDED, T.CONNECTED): Case(Connected(), [], _),
    (S.ENDED, T.TRANSFER_FAILED): Case(TransferFailed(486), [], _),
    (S.ENDED, T.CALLBACK_BOOKED): Case(CallbackBooked(), [], _),
    (S.ENDED, T.CALLBACK_FAILED): Case(CallbackFailed("busy"), [], _),
    (S.ENDED, T.STALE_PROMPT): Case(PromptFinished(2), [], _),
    (S.ENDED, T.STALE_TIMER): Case(TimerFired(1), [], _),
    (S.ENDED, T.HUNG_UP): Case(CallerHungUp(), [], _),
}


def placed(state: FlowState, *more: ev.Event) -> Session:
    flow, events = PLACES[state]
    session = Session(FLOWS[flow], FakeFacts(), ATTRIBUTES)
    for event in (*events, *more):
        session.handle(event, T0)
    assert session.state is state
    return session


def test_every_entry_of_the_table_has_its_case() -> None:
    assert sorted(CASES) == sorted(TRANSITIONS)


@pytest.mark.parametrize(("state", "trigger"), sorted(CASES), ids=[f"{s}-{t}" for s, t in sorted(CASES)])
def test_each_entry_gives_its_actions_and_state(state: FlowState, trigger: Trigger) -> None:
    case = CASES[(state, trigger)]
    session = placed(state, *case.before)
    assert session._trigger(case.event) is trigger  # the case is about its entry (a private look, on purpose)
    assert session.handle(case.event, T0) == case.actions
    assert session.state is case.state
    assert session.finished is (case.state is FlowState.ENDED)


def test_a_call_back_failing_after_the_maximum_wait_came_overflows_then() -> None:
    session = placed(FlowState.BOOKING, TimerFired(2))
    assert session.handle(CallbackFailed("busy"), T0) == [WatchQueue(45), Overflow("pau-tva")]
    assert session.state is FlowState.WAITING


def test_a_key_while_recording_other_than_hash_is_part_of_the_message() -> None:
    session = placed(FlowState.RECORDING)
    assert session.handle(Digit("5"), T0) == []
    assert session.state is FlowState.RECORDING


def test_the_caller_gone_while_the_message_ends_finishes_the_flow_once_it_is_kept() -> None:
    session = placed(FlowState.RECORDED, CallerHungUp())
    assert session.handle(Recorded(12), T0) == [LeaveVoicemail("lons-email", {**QUEUED, "ivr_route": "intro vm"})]
    assert (session.state, session.outcome) == (FlowState.ENDED, "caller_hung_up")


def test_the_queue_entry_is_what_the_flow_set() -> None:
    session = Session(FLOWS["queue"], FakeFacts(), ATTRIBUTES)
    assert session.handle(CallStarted(), T0) == [Play(1, fr("intro"))]
    assert session.handle(PromptFinished(1), T0) == [Enqueue("lons-tva", QUEUED), StartTimer(2, 600)]
    assert session.state is FlowState.ENTERING


# ------------------------------------------------------------------------------ refused events

#: An event of each trigger that carries no token.
UNTOKENED: dict[Trigger, ev.Event] = {
    T.CALL_STARTED: CallStarted(),
    T.DIGIT: Digit("5"),
    T.QUEUE_UPDATE: QueueUpdate(1, 10.0),
    T.QUEUE_REFUSED: QueueRefused("full"),
    T.CONNECTED: Connected(),
    T.TRANSFER_FAILED: TransferFailed(486),
    T.CALLBACK_BOOKED: CallbackBooked(),
    T.CALLBACK_FAILED: CallbackFailed("busy"),
    T.RECORDED: Recorded(5.0),
    T.HUNG_UP: CallerHungUp(),
}
MISSING = [(s, t) for s in FlowState for t in UNTOKENED if (s, t) not in TRANSITIONS]


@pytest.mark.parametrize(("state", "trigger"), MISSING, ids=[f"{s}-{t}" for s, t in MISSING])
def test_an_event_its_state_does_not_take_is_refused_and_changes_nothing(state: FlowState, trigger: Trigger) -> None:
    session = placed(state)
    before = snapshot(session)
    event = UNTOKENED[trigger]
    with pytest.raises(
        FlowStateError, match=f"^{re.escape(repr(event))} not expected in state {state.value}$"
    ) as error:
        session.handle(event, T0)
    assert (error.value.state, error.value.event) == (state, event)
    assert snapshot(session) == before


def test_the_refusals_include_what_a_driver_cannot_send() -> None:
    assert {(S.TRANSFER_PROMPT, T.TRANSFER_FAILED), (S.RECORDING, T.RECORDED), (S.ENDED, T.CALL_STARTED)} <= set(
        MISSING
    )
    assert (S.ENDED, T.RECORDED) in MISSING and (S.CALLBACK_CONFIRM, T.CONNECTED) in MISSING


@pytest.mark.parametrize("event", [PromptFinished(9), TimerFired(9), PromptFinished(0), TimerFired(-1)])
def test_a_token_never_given_is_refused(event: ev.Event) -> None:
    session = placed(FlowState.MENU)
    before = snapshot(session)
    with pytest.raises(FlowStateError, match=f"^{re.escape(repr(event))} has a token never given in state menu$"):
        session.handle(event, T0)
    assert snapshot(session) == before


def test_the_state_error_is_a_value_error_of_ivr() -> None:
    assert issubclass(FlowStateError, IvrError) and issubclass(FlowStateError, ValueError)


# -------------------------------------------------------------------------- random event sequences


def any_event(data: st.DataObject, last_token: int) -> ev.Event:
    """Any event at all; tokens from those given and a little beyond."""
    token = st.integers(0, last_token + 2)
    strategy: st.SearchStrategy[ev.Event] = st.one_of(
        st.just(CallStarted()),
        st.sampled_from(KEYS).map(Digit),
        token.map(PromptFinished),
        token.map(TimerFired),
        st.builds(QueueUpdate, st.integers(1, 40), st.none() | st.floats(0, 4000, allow_nan=False)),
        st.just(QueueRefused("full")),
        st.just(Connected()),
        st.sampled_from([404, 486, 503]).map(TransferFailed),
        st.just(CallbackBooked()),
        st.just(CallbackFailed("busy")),
        st.sampled_from([0.0, 0.5, 30.0]).map(Recorded),
        st.just(CallerHungUp()),
    )
    return data.draw(strategy)


def feed(data: st.DataObject, session: Session) -> None:
    last_token = 0
    for _ in range(data.draw(st.integers(0, 60))):
        event = any_event(data, last_token)
        before, state = snapshot(session), session.state
        try:
            actions = session.handle(event, T0)
        except FlowStateError as error:
            assert (error.state, error.event) == (state, event)
            assert str(error) in (
                f"{event!r} not expected in state {state}",
                f"{event!r} has a token never given in state {state}",
            )
            assert snapshot(session) == before
            continue
        last_token = max([last_token, *(a.token for a in actions if isinstance(a, Play | StartTimer))])
    after_end = session.handle(CallerHungUp(), T0)
    assert all(isinstance(a, StopRecording) for a in after_end), after_end
    if session.state is FlowState.RECORDED:  # the message is kept: the driver reports its end
        assert all(isinstance(a, LeaveVoicemail) for a in session.handle(Recorded(5), T0))
    assert session.state is FlowState.ENDED and session.finished


@given(data=st.data(), caller=st.sampled_from([MOBILE, "anonymous"]))
@settings(max_examples=300, deadline=None, database=None)
def test_random_events_on_the_demo_flow_are_taken_or_refused_and_a_hang_up_ends_it(
    data: st.DataObject, caller: str
) -> None:
    feed(data, Session(demo_flow(), FakeFacts(), {**ATTRIBUTES, "caller": caller}))


@given(data=st.data(), flow=random_flows())
@settings(max_examples=300, deadline=None, database=None)
def test_random_events_on_random_flows_are_taken_or_refused_and_a_hang_up_ends_it(
    data: st.DataObject, flow: Flow
) -> None:
    feed(data, Session(flow, FakeFacts(), ATTRIBUTES, max_steps=20))

"""The desk's rules on exact action lists: the headset's buttons, the typed commands, the calls' events,
what is lit and what is published; and, by hypothesis, that whatever happens in whatever order the LEDs
and the published state say the call's truth."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from acd.headset_topics import HeadsetState
from headsets.hid.protocol import Button, HookChanged, Leds, MuteChanged, Pressed
from headsets.softphone.desk import HELP, CallState, Desk
from headsets.softphone.events import (
    Action,
    AgentSeen,
    Answer,
    ChangeState,
    Connected,
    Ended,
    EndWrapUp,
    Failed,
    HangUp,
    HeadsetPresence,
    Held,
    Incoming,
    OfferSeen,
    Publish,
    Quit,
    Registered,
    Reject,
    Say,
    SendDigits,
    SetHold,
    SetMute,
    ShowLeds,
    Transfer,
    Typed,
)
from headsets.softphone.screen import status


def essential(actions: list[Action]) -> list[Action]:
    """The actions but the LEDs (sent after every event) and the published state."""
    return [a for a in actions if not isinstance(a, ShowLeds | Publish)]


def ringing(desk: Desk | None = None) -> Desk:
    desk = desk or Desk("cmartin", device="Jabra Evolve2 40")
    desk.handle(Incoming(7, "0384000000", "tva-69"), now=100.0)
    return desk


def talking() -> Desk:
    desk = ringing()
    desk.handle(HookChanged(True), now=101.0)
    desk.handle(Connected(7), now=101.5)
    desk.handle(AgentSeen("busy", tasks=("t-1",)), now=101.6)
    return desk


def test_the_hook_switch_answers_a_ringing_call_and_hangs_it_up() -> None:
    desk = ringing()
    assert desk.leds() == Leds(ring=True)
    assert essential(desk.handle(HookChanged(True), now=101.0)) == [Answer(7)]
    actions = desk.handle(Connected(7), now=101.5)
    assert actions == [
        ShowLeds(Leds(off_hook=True)),
        Publish(HeadsetState("cmartin", True, "off", device="Jabra Evolve2 40")),
    ]
    assert desk.call is not None and desk.call.state is CallState.TALKING and desk.call.since == 101.5
    assert essential(desk.handle(HookChanged(False), now=130.0)) == [HangUp(7)]
    actions = desk.handle(Ended(7, "hung up"), now=130.1)
    assert essential(actions) == [Say("call ended: hung up")]
    assert actions[-2:] == [ShowLeds(Leds()), Publish(HeadsetState("cmartin", True, "on", device="Jabra Evolve2 40"))]


def test_on_hook_while_ringing_declines_and_off_hook_with_nothing_ringing_does_nothing() -> None:
    assert essential(ringing().handle(HookChanged(False), now=101.0)) == [Reject(7, 603)]
    idle = Desk("cmartin")
    assert idle.handle(HookChanged(True), now=1.0) == [ShowLeds(Leds()), Publish(HeadsetState("cmartin", True))]
    assert idle.handle(HookChanged(True), now=2.0) == [ShowLeds(Leds())]  # the LED put back, nothing published


def test_mute_mutes_the_call_and_lights_the_led_and_is_undone_when_the_call_ends() -> None:
    desk = talking()
    actions = desk.handle(MuteChanged(True), now=110.0)
    assert essential(actions) == [SetMute(True)]
    assert ShowLeds(Leds(off_hook=True, mute=True)) in actions
    assert [a.state.muted for a in actions if isinstance(a, Publish)] == [True]
    assert essential(desk.handle(Typed("m"), now=111.0)) == [SetMute(False)]
    desk.handle(Typed("mute"), now=112.0)
    assert essential(desk.handle(Ended(7), now=120.0)) == [SetMute(False), Say("call ended")]
    assert essential(Desk("cmartin").handle(MuteChanged(True), now=1.0)) == []  # no call: the LED goes off again
    assert essential(ringing().handle(MuteChanged(True), now=101.0)) == []


def test_flash_holds_and_resumes_once_the_phone_says_so() -> None:
    desk = talking()
    assert essential(desk.handle(Pressed(Button.FLASH), now=110.0)) == [SetHold(7, True)]
    assert essential(desk.handle(Pressed(Button.FLASH), now=110.1)) == []  # still on its way: not asked twice
    actions = desk.handle(Held(7, True), now=110.2)
    assert ShowLeds(Leds(off_hook=True, hold=True)) in actions and desk.call is not None
    assert desk.call.state is CallState.HELD
    assert essential(desk.handle(Typed("o"), now=115.0)) == [SetHold(7, False)]
    desk.handle(Held(7, False), now=115.1)
    assert desk.call.state is CallState.TALKING
    assert essential(desk.handle(Pressed(Button.FLASH), now=116.0)) == [SetHold(7, True)]
    assert essential(desk.handle(Failed("hold", "488 Not Acceptable Here"), now=116.1)) == [
        Say("hold failed: 488 Not Acceptable Here")
    ]
    assert essential(desk.handle(Pressed(Button.FLASH), now=117.0)) == [SetHold(7, True)]  # may be tried again
    assert essential(ringing(Desk("x")).handle(Pressed(Button.FLASH), now=1.0)) == [Say("no call to hold")]
    assert essential(desk.handle(Pressed(Button.REDIAL), now=118.0)) == []


def test_a_second_call_while_one_is_in_hand_is_busy() -> None:
    desk = talking()
    assert essential(desk.handle(Incoming(8, "0555", "tva-69"), now=120.0)) == [Reject(8, 486)]
    assert desk.call is not None and desk.call.id == 7
    assert essential(desk.handle(Ended(8), now=120.1)) == []  # not the call in hand
    assert desk.call.id == 7


def test_typed_commands() -> None:
    desk = Desk("cmartin")
    assert essential(desk.handle(Typed("r"), now=1.0)) == [ChangeState("available")]
    assert essential(desk.handle(Typed("ready"), now=1.0)) == [ChangeState("available")]
    assert essential(desk.handle(Typed("p"), now=1.0)) == [ChangeState("not_ready", "pause")]
    assert essential(desk.handle(Typed("  pause   lunch "), now=1.0)) == [ChangeState("not_ready", "lunch")]
    assert essential(desk.handle(Typed("p two words"), now=1.0)) == [
        Say("reason 'two words': one word (letters, digits, . _ -)")
    ]
    assert essential(desk.handle(Typed("?"), now=1.0)) == [Say(HELP)]
    assert essential(desk.handle(Typed("zz"), now=1.0)) == [Say("unknown command 'zz': ? for help")]
    assert essential(desk.handle(Typed("   "), now=1.0)) == []
    for line, said in [("a", "no call rings"), ("x", "no call rings"), ("h", "no call to hang up"),
                       ("m", "no call to mute"), ("d 1", "keys go to a call in progress"),
                       ("t tva-69", "no call to transfer"), ("w", "no wrap-up to end")]:  # fmt: skip
        assert essential(desk.handle(Typed(line), now=1.0)) == [Say(said)], line
    assert essential(desk.handle(Typed("q"), now=1.0)) == [Quit()]


def test_typed_commands_on_a_call() -> None:
    desk = ringing()
    assert essential(desk.handle(Typed("a"), now=101.0)) == [Answer(7)]
    assert essential(desk.handle(Typed("x"), now=101.0)) == [Reject(7, 603)]
    assert essential(desk.handle(Typed("h"), now=101.0)) == [Reject(7, 603)]  # hanging up a ringing call refuses it
    assert essential(desk.handle(Typed("q"), now=101.0)) == [Reject(7, 486), Quit()]
    desk = talking()
    assert essential(desk.handle(Typed("d 12*#"), now=110.0)) == [SendDigits(7, "12*#")]
    assert essential(desk.handle(Typed("d 12e"), now=110.0)) == [Say("keys '12e': 0-9, *, #, A-D")]
    assert essential(desk.handle(Typed("t sie-69"), now=110.0)) == [Transfer("t-1", "sie-69")]
    assert essential(desk.handle(Typed("t +33 1"), now=110.0)) == [Say("transfer to '+33 1': a queue id or a number")]
    assert essential(desk.handle(Typed("q"), now=110.0)) == [Say("a call is in progress: hang up first")]
    assert essential(desk.handle(Typed("h"), now=110.0)) == [HangUp(7)]


def test_a_transfer_moves_the_calls_task_not_a_chat_beside_it() -> None:
    desk = talking()
    desk.handle(AgentSeen("busy", tasks=("chat-9", "t-1")), now=110.0)
    assert essential(desk.handle(Typed("t sie"), now=110.0)) == [Say("no call to transfer")]  # which one: unknown
    desk.handle(OfferSeen("t-1", "tva-69", "voice"), now=110.0)
    assert essential(desk.handle(Typed("t sie"), now=111.0)) == [Transfer("t-1", "sie")]


def test_wrap_up_is_ended_for_each_task_in_it() -> None:
    desk = Desk("cmartin")
    desk.handle(AgentSeen("wrap_up", wrap_ups=("t-1", "t-2")), now=1.0)
    assert essential(desk.handle(Typed("w"), now=2.0)) == [EndWrapUp("t-1"), EndWrapUp("t-2")]


def test_the_headset_found_at_start_gives_its_name_and_one_missing_is_published_unplugged() -> None:
    desk = Desk("cmartin", device="evolve")
    assert essential(desk.handle(HeadsetPresence(True, "Jabra Evolve2 40 Mono"), now=0.0)) == []
    assert desk.device == "Jabra Evolve2 40 Mono"
    missing = Desk("cmartin", device="evolve")
    actions = missing.handle(HeadsetPresence(False, "Built-in Audio"), now=0.0)
    assert actions[-1] == Publish(HeadsetState("cmartin", False, device="evolve"))


def test_unplugged_and_back() -> None:
    desk = Desk("cmartin", device="Jabra Evolve2 40")
    desk.handle(Registered(True), now=0.0)
    actions = desk.handle(HeadsetPresence(False, "Built-in Audio"), now=1.0)
    assert essential(actions) == [
        Say("headset unplugged, sound on Built-in Audio: the ACD offers no call until it is back")
    ]
    assert actions[-1] == Publish(HeadsetState("cmartin", False, device="Jabra Evolve2 40"))
    assert desk.handle(HeadsetPresence(False), now=1.5) == [ShowLeds(Leds())]  # said once
    assert essential(desk.handle(HeadsetPresence(True), now=2.0)) == [Say("headset back: Jabra Evolve2 40")]
    assert essential(desk.handle(Registered(False, "403 Forbidden"), now=3.0)) == [
        Say("the phone is not registered: 403 Forbidden")
    ]


def test_the_screen_shows_the_call_its_queue_and_the_callers_answers() -> None:
    desk = ringing()
    desk.handle(
        OfferSeen("t-1", "tva-69", "phone", {"topic": "tva", "siren": "732829320", "ivr_route": "x"}), now=100.1
    )
    desk.handle(AgentSeen("reserved"), now=100.2)
    assert status(desk, now=103.0) == [
        "cmartin · reserved · phone registering · headset Jabra Evolve2 40",
        "RINGING: 0384000000 · tva-69 · topic=tva siren=732829320 · 00:03",
    ]
    desk.handle(HookChanged(True), now=104.0)
    desk.handle(Connected(7), now=104.0)
    desk.handle(MuteChanged(True), now=105.0)
    desk.handle(HeadsetPresence(False), now=105.0)
    desk.handle(Registered(False, "408 Request Timeout"), now=105.0)
    assert status(desk, now=104.0 + 3725) == [
        "cmartin · reserved · phone NOT registered (408 Request Timeout) · headset Jabra Evolve2 40 UNPLUGGED",
        "talking with 0384000000 · tva-69 · topic=tva siren=732829320 · 1:02:05 · muted",
    ]
    desk.handle(Ended(7), now=4000.0)
    desk.handle(AgentSeen("wrap_up", "wrap_up", wrap_ups=("t-1",)), now=4000.0)
    assert status(desk) == [
        "cmartin · wrap_up (wrap_up) · phone NOT registered (408 Request Timeout) · headset Jabra Evolve2 40 UNPLUGGED",
        "wrap-up of t-1 · w to end",
    ]


# --- whatever happens, in whatever order -------------------------------------------------------------

heard = st.one_of(
    st.builds(Incoming, st.integers(1, 3), st.just("0384000000"), st.sampled_from(["tva-69", "is-69"])),
    st.builds(Connected, st.integers(1, 3)),
    st.builds(Held, st.integers(1, 3), st.booleans()),
    st.builds(Ended, st.integers(1, 3)),
    st.builds(HookChanged, st.booleans()),
    st.builds(MuteChanged, st.booleans()),
    st.builds(Pressed, st.sampled_from(list(Button))),
    st.builds(HeadsetPresence, st.booleans()),
    st.builds(Typed, st.sampled_from(["a", "x", "h", "o", "m", "d 1", "t sie", "w", "q", "r", "p", "zz"])),
    st.builds(Failed, st.sampled_from(["hold", "transfer"]), st.just("no")),
    st.builds(AgentSeen, st.sampled_from(["available", "busy", "wrap_up"]), st.none(), st.just(("t-1",))),
)


@given(st.lists(heard, max_size=60))
def test_the_lights_and_the_published_state_always_say_the_calls_truth(events: list[object]) -> None:
    desk = Desk("cmartin")
    published = None
    for step, event in enumerate(events):
        actions = desk.handle(event, now=float(step))  # type: ignore[arg-type]
        call = desk.call
        leds = [a.leds for a in actions if isinstance(a, ShowLeds)]
        assert leds == [desk.leds()]  # after every event, exactly once
        assert leds[0].ring == (call is not None and call.state is CallState.RINGING)
        assert leds[0].hold == (call is not None and call.state is CallState.HELD)
        assert leds[0].mute == (call is not None and call.muted)
        published = next((a.state for a in actions if isinstance(a, Publish)), published)
        assert published == desk.headset_state()
        for action in actions:  # nothing is asked of a call that is not the one in hand
            if isinstance(action, Answer | HangUp | SetHold | SendDigits):
                assert call is not None and action.call == call.id
            if isinstance(action, Answer):
                assert call is not None and call.state is CallState.RINGING
        if call is None or call.state is CallState.RINGING:
            assert not call or not call.muted

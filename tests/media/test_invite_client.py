"""The INVITE client transaction of a placed leg, without a network: every pair of its table, and the
orders of responses and requests a far end and an owner can make."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from media.sip.invite_client import TABLE, ClientStateError, Input, InviteClient, LegState, Step

S, P = LegState, Step


def at(*statuses: int, stopped: bool = False) -> InviteClient:
    client = InviteClient()
    for status in statuses:
        client.received(status)
    if stopped:
        client.stop()
    return client


def test_the_table_covers_every_state_and_input() -> None:
    assert set(TABLE) == {(state, given) for state in LegState for given in Input}


def test_an_answer_is_acked_and_told_and_a_repeat_of_it_only_acked() -> None:
    client = at(100, 180)
    assert client.state is S.RINGING and client.heard
    assert client.received(200) == (P.ACK, P.ANSWERED)
    assert client.received(200) == (P.ACK,)  # its ACK was lost: RFC 3261 §13.2.2.4
    assert client.state is S.ANSWERED


def test_a_refusal_is_acked_in_the_transaction_and_told() -> None:
    client = at(180)
    assert client.received(486) == (P.ACK_FAILURE, P.REFUSED)
    assert client.state is S.FAILED
    assert client.received(486) == (P.ACK_FAILURE,)  # a repeat, ACKed again (§17.1.1.2)
    assert client.received(200) == (P.ACK, P.HANG_UP)  # another fork answered late: nobody left in its dialog
    assert client.state is S.ENDED


def test_a_repeated_2xx_after_our_bye_is_only_acked_again() -> None:
    client = at(200)
    client.stop()
    assert client.received(200) == (P.ACK,)  # its ACK was lost; the BYE went already


def test_a_leg_given_up_before_anything_was_heard_waits_for_a_first_response_to_cancel() -> None:
    client = at()
    assert client.stop() == ()  # RFC 3261 §9.1: the far end may not have the INVITE yet
    assert client.state is S.CANCELLING
    assert client.received(100) == (P.CANCEL,)
    assert client.received(180) == ()  # one CANCEL
    assert client.received(487) == (P.ACK_FAILURE,)
    assert client.state is S.FAILED


def test_a_ringing_leg_is_cancelled_at_once_and_one_answered_as_the_cancel_crossed_is_hung_up() -> None:
    client = at(180)
    assert client.stop() == (P.CANCEL,)
    assert client.received(200) == (P.ACK, P.HANG_UP)
    assert client.state is S.ENDED


def test_an_answered_leg_is_hung_up_by_its_owner_or_by_the_far_end() -> None:
    client = at(200)
    assert client.stop() == (P.HANG_UP,)
    assert client.state is S.ENDED
    client = at(200)
    assert client.hung_up() == ()
    assert (client.state, client.stop()) == (S.ENDED, ())  # nothing more to do


def test_a_cancel_never_answered_ends_the_transaction_after_64_t1() -> None:
    client = at(180)
    client.stop()
    assert (client.cancel_expired(), client.state) == ((), S.FAILED)  # RFC 3261 §9.1
    assert at(200).cancel_expired() == ()  # answered: nothing was cancelled


def test_timer_b_refuses_a_leg_never_heard_and_leaves_one_heard_ringing() -> None:
    assert at().timer_b() == (P.REFUSED,)
    assert at(stopped=True).timer_b() == ()  # given up, never heard: nothing to cancel
    ringing = at(180)
    assert (ringing.timer_b(), ringing.state) == ((), S.RINGING)


def test_the_error_of_a_pair_the_table_would_lack_names_state_and_input() -> None:
    # The table is whole (above), so no driver meets it; a change that leaves a pair out would.
    error = ClientStateError(S.CALLING, Input.BYE)
    assert str(error) == "an INVITE client transaction calling cannot take bye"


_STEPS = st.lists(
    st.one_of(
        st.sampled_from([100, 180, 183, 200, 486, 487, 603]), st.sampled_from(["stop", "bye", "timer_b", "expired"])
    ),
    max_size=12,
)


@given(_STEPS)
def test_whatever_comes_the_owner_hears_at_most_one_outcome_and_a_cancel_goes_once(steps: list[int | str]) -> None:
    client = InviteClient()
    said: list[Step] = []
    for step in steps:
        if isinstance(step, int):
            said += client.received(step)
        elif step == "stop":
            said += client.stop()
        elif step == "bye":
            said += client.hung_up()
        elif step == "expired":
            said += client.cancel_expired()
        else:
            said += client.timer_b()
    outcomes = [s for s in said if s in (P.ANSWERED, P.REFUSED)]
    assert len(outcomes) <= 1, said
    assert said.count(P.CANCEL) <= 1, said
    if P.ANSWERED in said:
        assert P.ACK in said  # an answer is never left without its ACK
    if 200 in steps and P.ANSWERED not in said:  # a 2xx it did not take: hung up, nobody left in that dialog
        assert P.HANG_UP in said or client.state is S.ANSWERED, (steps, said)
    if "stop" in steps:  # given up: it ends, or waits for the far end to end it; it never rings or talks on
        assert client.state in (S.CANCELLING, S.FAILED, S.ENDED), (steps, client.state)

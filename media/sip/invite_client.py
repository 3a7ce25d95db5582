"""The INVITE client transaction of a leg the ACD places (RFC 3261 §17.1.1, §9.1, §13.2.2.4): its states and
one transition table, inputs in, steps out, no I/O.

Inputs: a provisional response, a success, a failure (with its status), the owner's `stop` (cancel it, or
hang it up once answered), the far end's BYE, Timer B (nothing at all heard), and the end of a CANCEL's wait
for the INVITE's final response (§9.1). Steps, for the driver
(media.outbound) to carry out: ACK a 2xx (every one, repeats included: the 2xx is the dialog's, not the
transaction's), ACK a failure (in the transaction), send the CANCEL (only once the far end said something:
it may not have the INVITE yet, §9.1), hang up by BYE, and tell the owner it answered or refused.

A pair the table lacks raises `ClientStateError` naming both. A leg is over `FAILED` (no dialog: a late 2xx,
another fork's, is ACKed and hung up) or `ENDED` (after its dialog: a late 2xx is a repeat, ACKed again).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from media.errors import MediaError


class LegState(StrEnum):
    CALLING = "calling"  # INVITE sent, nothing heard yet
    RINGING = "ringing"  # a provisional response came
    ANSWERED = "answered"
    CANCELLING = "cancelling"  # given up on before an answer: CANCEL sent (or held until a response)
    FAILED = "failed"  # over without a dialog: refused, unreachable, cancelled
    ENDED = "ended"  # over after its dialog: hung up by either side


class Input(StrEnum):
    PROVISIONAL = "provisional"
    SUCCESS = "success"
    FAILURE = "failure"
    STOP = "stop"
    BYE = "bye"  # the far end hung up an answered leg
    TIMER_B = "timer_b"  # nothing heard for 64·T1
    CANCEL_EXPIRED = "cancel_expired"  # 64·T1 after the CANCEL, still no final response (§9.1)


class Step(StrEnum):
    ACK = "ack"  # ACK the 2xx (a new transaction, §13.2.2.4)
    ACK_FAILURE = "ack_failure"  # ACK the failure, in the INVITE's transaction (§17.1.1.3)
    CANCEL = "cancel"
    HANG_UP = "hang_up"  # BYE, the leg is over
    ANSWERED = "answered"  # tell the owner: the far end answered
    REFUSED = "refused"  # tell the owner: it said no (the status), or could not be reached (408)


class ClientStateError(MediaError):
    """An input the transaction's state does not take: a fault of its driver."""

    status = 500

    def __init__(self, state: LegState, given: Input) -> None:
        super().__init__(f"an INVITE client transaction {state.value} cannot take {given.value}")


@dataclass(frozen=True, slots=True)
class _Rule:
    to: LegState
    steps: tuple[Step, ...] = ()


S, I, P = LegState, Input, Step
#: (state, input) -> the state it leads to and the steps to carry out, in order.
TABLE: dict[tuple[LegState, Input], _Rule] = {
    (S.CALLING, I.PROVISIONAL): _Rule(S.RINGING),
    (S.CALLING, I.SUCCESS): _Rule(S.ANSWERED, (P.ACK, P.ANSWERED)),
    (S.CALLING, I.FAILURE): _Rule(S.FAILED, (P.ACK_FAILURE, P.REFUSED)),
    (S.CALLING, I.STOP): _Rule(S.CANCELLING),  # §9.1: the CANCEL waits for a first response
    (S.CALLING, I.TIMER_B): _Rule(S.FAILED, (P.REFUSED,)),  # never heard: unreachable (408)
    (S.CALLING, I.BYE): _Rule(S.CALLING),  # a BYE before any answer ends no dialog of ours: its final response will
    (S.RINGING, I.PROVISIONAL): _Rule(S.RINGING),
    (S.RINGING, I.SUCCESS): _Rule(S.ANSWERED, (P.ACK, P.ANSWERED)),
    (S.RINGING, I.FAILURE): _Rule(S.FAILED, (P.ACK_FAILURE, P.REFUSED)),
    (S.RINGING, I.STOP): _Rule(S.CANCELLING, (P.CANCEL,)),
    (S.RINGING, I.TIMER_B): _Rule(S.RINGING),  # heard: it may ring as long as it likes
    (S.RINGING, I.BYE): _Rule(S.RINGING),
    (S.ANSWERED, I.PROVISIONAL): _Rule(S.ANSWERED),  # late, crossed the 2xx
    (S.ANSWERED, I.SUCCESS): _Rule(S.ANSWERED, (P.ACK,)),  # a repeated 2xx: its ACK was lost
    (S.ANSWERED, I.FAILURE): _Rule(S.ANSWERED, (P.ACK_FAILURE,)),  # another fork's refusal: the answer stands
    (S.ANSWERED, I.STOP): _Rule(S.ENDED, (P.HANG_UP,)),
    (S.ANSWERED, I.BYE): _Rule(S.ENDED),
    (S.CANCELLING, I.PROVISIONAL): _Rule(S.CANCELLING),
    (S.CANCELLING, I.SUCCESS): _Rule(S.ENDED, (P.ACK, P.HANG_UP)),  # answered as the CANCEL crossed it
    (S.CANCELLING, I.FAILURE): _Rule(S.FAILED, (P.ACK_FAILURE,)),  # the 487 the CANCEL asked for
    (S.CANCELLING, I.STOP): _Rule(S.CANCELLING),
    (S.CANCELLING, I.TIMER_B): _Rule(S.FAILED),  # never heard: nothing to cancel
    (S.CANCELLING, I.BYE): _Rule(S.CANCELLING),
    (S.CANCELLING, I.CANCEL_EXPIRED): _Rule(S.FAILED),  # §9.1: the INVITE's transaction is over
    # Over without a dialog, a 2xx is a fork that answered late: ACKed and hung up (§13.2.2.4), not left alone.
    (S.FAILED, I.SUCCESS): _Rule(S.ENDED, (P.ACK, P.HANG_UP)),
    (S.FAILED, I.FAILURE): _Rule(S.FAILED, (P.ACK_FAILURE,)),  # a repeat of the failure already ACKed
    # Over after its dialog, a 2xx is a repeat of its own answer (its ACK lost): ACKed again.
    (S.ENDED, I.SUCCESS): _Rule(S.ENDED, (P.ACK,)),
    (S.ENDED, I.FAILURE): _Rule(S.ENDED, (P.ACK_FAILURE,)),
}
#: Inputs that change nothing where the table does not list them: a late word, a stop or a timer after the fact.
_QUIET = frozenset({I.PROVISIONAL, I.STOP, I.BYE, I.TIMER_B, I.CANCEL_EXPIRED})
for _state in LegState:
    for _input in _QUIET:
        TABLE.setdefault((_state, _input), _Rule(_state))


class InviteClient:
    """One outbound INVITE's transaction: `state`, and whether the far end said anything yet (`heard`: the
    INVITE is no longer repeated, and a CANCEL may be sent)."""

    def __init__(self) -> None:
        self.state = LegState.CALLING
        self.heard = False

    @property
    def live(self) -> bool:
        """Not answered nor over: it may still ring."""
        return self.state in (LegState.CALLING, LegState.RINGING)

    @property
    def over(self) -> bool:
        return self.state in (LegState.FAILED, LegState.ENDED)

    def received(self, status: int) -> tuple[Step, ...]:
        """A response to the INVITE."""
        first_heard, self.heard = not self.heard, True
        if status < 200:
            if self.state is LegState.CANCELLING and first_heard:  # the CANCEL held back until now (§9.1)
                return (Step.CANCEL,)
            return self._take(Input.PROVISIONAL)
        return self._take(Input.SUCCESS if status < 300 else Input.FAILURE)

    def stop(self) -> tuple[Step, ...]:
        """The owner gives it up: cancelled if it rings, hung up if answered."""
        return self._take(Input.STOP)

    def hung_up(self) -> tuple[Step, ...]:
        """The far end's BYE."""
        return self._take(Input.BYE)

    def timer_b(self) -> tuple[Step, ...]:
        """Timer B: 64·T1 with nothing heard."""
        if self.heard:
            return ()
        return self._take(Input.TIMER_B)

    def cancel_expired(self) -> tuple[Step, ...]:
        """64·T1 after the CANCEL was sent."""
        return self._take(Input.CANCEL_EXPIRED)

    def _take(self, given: Input) -> tuple[Step, ...]:
        rule = TABLE.get((self.state, given))
        if rule is None:
            raise ClientStateError(self.state, given)
        self.state = rule.to
        return rule.steps

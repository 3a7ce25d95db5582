"""The ACD's own INVITEs, and every request it sends inside a dialog: placed, repeated, matched, ended.

A `Leg` is one outbound INVITE and the dialog it makes: an agent's phone rung for an offer, a number
called through the trunk for a transfer, a colleague consulted. `Outbound` sends it (repeating it over
UDP until the far end says something, RFC 3261 §17.1.1.2), follows its responses (ringing, answered,
refused), ACKs them as the RFC asks, and cancels or hangs it up; its owner hears what happened through
the leg's callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from media.rtp.bridge import Side
from media.sdp import Origin
from media.sip.checks import Response
from media.sip.dialog import Dialog, Headers, branch_of, build_request, uri_of
from media.sip.reasons import reason
from media.sip.transactions import GIVE_UP, repeat
from media.sip.transport import Transports

log = logging.getLogger("media.calls")


class LegState(StrEnum):
    CALLING = "calling"  # INVITE sent, nothing heard yet
    RINGING = "ringing"  # a provisional response came
    ANSWERED = "answered"
    CANCELLING = "cancelling"  # given up on before an answer: CANCEL sent (or held until a response)
    ENDED = "ended"


@dataclass(eq=False, slots=True)
class Leg:
    """One outbound INVITE and, once answered, its side of a bridge."""

    dialog: Dialog
    invite: bytes
    branch: str
    side: Side  # its RTP port; the stream is the one offered until the answer says otherwise
    origin: Origin  # the o= line of the ACD's descriptions on this leg: its version grows with each
    on_answer: Callable[[Leg, bytes], None]  # the far end answered with this SDP
    on_refusal: Callable[[Leg, int], None]  # it said no (the status), or could not be reached (408)
    state: LegState = LegState.CALLING
    heard: bool = False  # a response came: the INVITE is no longer repeated, and it may be cancelled
    referred: bool = False  # its phone sent a REFER: it hangs up by itself once told the outcome (RFC 5589 §6.1)

    @property
    def live(self) -> bool:
        return self.state in (LegState.CALLING, LegState.RINGING)


class Outbound:
    def __init__(
        self,
        transports: Callable[[], Transports],
        spawn: Callable[[Coroutine[Any, Any, Any]], None],
        later: Callable[[float, Callable[[], None]], object],
    ) -> None:
        """`spawn` runs (and owns) repetitions, `later(delay, fn)` an owned timer."""
        self._transports = transports
        self._spawn = spawn
        self._later = later
        self._clients: dict[str, Callable[[Response], None]] = {}  # by branch

    def dispatch(self, response: Response) -> bool:
        client = self._clients.get(branch_of(response.first("via") or "") or "")
        if client is not None:
            client(response)
        return client is not None

    def send(self, dialog: Dialog, data: bytes) -> None:
        if not self._transports().send(dialog.transport, dialog.address, data):
            log.info("no way to reach %s over %s any more", dialog.address, dialog.transport)

    def _repeat_until(self, dialog: Dialog, data: bytes, done: Callable[[], bool], cap: float | None = None) -> None:
        if dialog.transport == "udp":
            resend = lambda: self.send(dialog, data)
            self._spawn(repeat(resend, done) if cap is None else repeat(resend, done, cap=cap))

    # ------------------------------------------------------------------------------- INVITE

    def place(self, leg: Leg) -> None:
        self._clients[leg.branch] = lambda response: self._answered(leg, response)
        self.send(leg.dialog, leg.invite)
        self._repeat_until(leg.dialog, leg.invite, lambda: leg.heard, cap=float("inf"))  # Timer A doubles freely
        self._spawn(self._give_up_if_silent(leg))

    async def _give_up_if_silent(self, leg: Leg) -> None:
        """Timer B: nothing at all from the far end in 32 s, it cannot be reached (408)."""
        await asyncio.sleep(GIVE_UP)
        if not leg.heard and leg.state is not LegState.ENDED:
            was = leg.state
            self.forget(leg)
            if was is LegState.CALLING:
                leg.on_refusal(leg, 408)

    def _answered(self, leg: Leg, response: Response) -> None:
        if response.cseq_method != "INVITE":
            return  # the 200 to a CANCEL: the INVITE's own final response follows
        status = response.status
        first_heard, leg.heard = not leg.heard, True
        if status < 200:
            if leg.state is LegState.CALLING:
                leg.state = LegState.RINGING
            elif leg.state is LegState.CANCELLING and first_heard:
                self._cancel(leg)  # held back until now (RFC 3261 §9.1)
            return
        leg.dialog.remote = response.first("to") or leg.dialog.remote
        if status < 300:
            contact = response.first("contact")
            if contact:
                leg.dialog.target = uri_of(contact)
            self._ack(leg)  # every 2xx, repeats included, is ACKed (RFC 3261 §13.2.2.4)
            if leg.live:
                leg.state = LegState.ANSWERED
                leg.on_answer(leg, response.body)
            elif leg.state is LegState.CANCELLING:  # answered as the CANCEL crossed it: hung up at once
                self.hang_up(leg)
            return
        self._ack_failure(leg, response)
        was = leg.state
        self.forget(leg)
        if was in (LegState.CALLING, LegState.RINGING):
            leg.on_refusal(leg, status)

    def stop(self, leg: Leg) -> None:
        """Stop ringing, or hang up if answered."""
        if leg.state is LegState.ANSWERED:
            self.hang_up(leg)
        elif leg.live:
            leg.state = LegState.CANCELLING
            if leg.heard:  # RFC 3261 §9.1: CANCEL only once the far end said something (it may not have the INVITE)
                self._cancel(leg)

    def _cancel(self, leg: Leg) -> None:
        cancel, _ = leg.dialog.request("CANCEL", cseq=leg.dialog.cseq, branch=leg.branch)
        self.send(leg.dialog, cancel)
        self._repeat_until(leg.dialog, cancel, lambda: leg.state is LegState.ENDED)

    def hang_up(self, leg: Leg) -> None:
        self.bye(leg.dialog)
        self.forget(leg)

    def forget(self, leg: Leg) -> None:
        leg.state = LegState.ENDED
        leg.side.port.close()
        # Kept a while: a repeated 2xx is still ACKed (and a late one hung up).
        self._later(GIVE_UP, lambda: self._clients.pop(leg.branch, None) and None)

    def _ack(self, leg: Leg) -> None:
        ack, _ = leg.dialog.request("ACK", cseq=leg.dialog.cseq)
        self.send(leg.dialog, ack)

    def _ack_failure(self, leg: Leg, response: Response) -> None:
        """RFC 3261 §17.1.1.3: the ACK of a failure is part of the INVITE's transaction (same branch)."""
        dialog = leg.dialog
        headers = (
            ("via", f"SIP/2.0/{dialog.transport.upper()} {dialog.via_host};branch={leg.branch};rport"),
            ("from", dialog.local),
            ("to", response.first("to") or dialog.remote),
            ("call-id", dialog.call_id),
            ("cseq", f"{dialog.cseq} ACK"),
        )
        invite_uri = leg.invite.split(b" ", 2)[1].decode()
        self.send(dialog, build_request("ACK", invite_uri, headers))

    # --------------------------------------------------------------------- inside a dialog

    def request(self, dialog: Dialog, method: str, extra: Headers = (), body: bytes = b"",
                content_type: str = "application/sdp") -> asyncio.Future[Response]:  # fmt: skip
        """Send a request in `dialog`; the future holds its final response (408 made up after Timer F)."""
        data, branch = dialog.request(method, extra, body, content_type=content_type)
        final: asyncio.Future[Response] = asyncio.get_running_loop().create_future()

        def answered(response: Response) -> None:
            if response.status >= 200 and not final.done():
                final.set_result(response)
                if method == "INVITE" and response.status < 300:  # a re-INVITE's 2xx is ACKed
                    ack, _ = dialog.request("ACK", cseq=dialog.cseq)
                    self.send(dialog, ack)

        self._clients[branch] = answered
        self.send(dialog, data)
        self._repeat_until(dialog, data, final.done, cap=float("inf") if method == "INVITE" else None)

        def timed_out() -> None:
            self._clients.pop(branch, None)
            if not final.done():
                final.set_result(Response(408, reason(408)))

        self._later(GIVE_UP, timed_out)
        return final

    def bye(self, dialog: Dialog) -> None:
        self.request(dialog, "BYE")

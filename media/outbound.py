"""The ACD's own INVITEs, and every request it sends inside a dialog: placed, repeated, matched, ended.

A `Leg` is one outbound INVITE and the dialog it makes: an agent's phone rung for an offer, a number
called through the trunk for a transfer, a colleague consulted. Its state is its INVITE's client
transaction (media.sip.invite_client: one table, no I/O); `Outbound` is that transaction's driver: it sends
the INVITE (repeating it over UDP until the far end says something, RFC 3261 §17.1.1.2, and giving up after
Timer B), feeds it the responses and the owner's requests, and carries out the steps it returns (ACKs,
CANCEL, BYE); the owner hears what happened through the leg's callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from media.rtp.bridge import Side
from media.sdp import Origin
from media.sip.checks import Response
from media.sip.dialog import Dialog, Headers, branch_of, build_request, uri_of
from media.sip.invite_client import InviteClient, LegState, Step
from media.sip.reasons import reason
from media.sip.transactions import GIVE_UP, repeat
from media.sip.transport import Transports

log = logging.getLogger("media.calls")


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
    client: InviteClient = field(default_factory=InviteClient)  # its INVITE's transaction: the leg's state
    forgotten: bool = False  # over, and its port closed
    cseq: int = 0  # its INVITE's CSeq number, which its ACKs and CANCEL repeat

    @property
    def state(self) -> LegState:
        return self.client.state


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
        leg.cseq = leg.dialog.cseq  # the INVITE's, before any other request of its dialog moves it on
        self._clients[leg.branch] = lambda response: self._answered(leg, response)
        self.send(leg.dialog, leg.invite)
        client = leg.client
        self._repeat_until(leg.dialog, leg.invite, lambda: client.heard, cap=float("inf"))  # Timer A doubles freely
        self._later(GIVE_UP, lambda: self._carry_out(leg, client.timer_b(), 408))  # Timer B

    def _answered(self, leg: Leg, response: Response) -> None:
        if response.cseq_method != "INVITE":
            return  # the 200 to a CANCEL: the INVITE's own final response follows
        status = response.status
        if status >= 200:  # the dialog as the final response makes it: the far end's tag, where it is
            leg.dialog.remote = response.first("to") or leg.dialog.remote
            contact = response.first("contact")
            if status < 300 and contact:
                leg.dialog.target = uri_of(contact)
        self._carry_out(leg, leg.client.received(status), status, response)

    def stop(self, leg: Leg) -> None:
        """Stop ringing, or hang up if answered."""
        self._carry_out(leg, leg.client.stop(), 487)

    def hung_up(self, leg: Leg) -> None:
        """The far end's BYE (answered by the switchboard)."""
        self._carry_out(leg, leg.client.hung_up(), 200)

    def _carry_out(self, leg: Leg, steps: tuple[Step, ...], status: int, response: Response | None = None) -> None:
        """The steps the leg's transaction asks for; the leg forgotten once it ended."""
        ended = leg.client.over and not leg.forgotten
        for step in steps:
            match step:
                case Step.ACK:
                    self._ack(leg)  # every 2xx, repeats included, is ACKed (RFC 3261 §13.2.2.4)
                case Step.ACK_FAILURE:
                    assert response is not None
                    self._ack_failure(leg, response)
                case Step.CANCEL:
                    self._cancel(leg)
                    self._later(GIVE_UP, lambda: self._carry_out(leg, leg.client.cancel_expired(), 408))  # §9.1
                case Step.HANG_UP:
                    self.bye(leg.dialog)
                case Step.ANSWERED:
                    assert response is not None
                    leg.on_answer(leg, response.body)
                case Step.REFUSED:
                    self._forget(leg)
                    leg.on_refusal(leg, status)
        if ended:
            self._forget(leg)

    def _cancel(self, leg: Leg) -> None:
        # RFC 3261 §9.1: the CANCEL names the INVITE's CSeq and branch, whatever the dialog sent since
        cancel, _ = leg.dialog.request("CANCEL", cseq=leg.cseq, branch=leg.branch)
        self.send(leg.dialog, cancel)
        self._repeat_until(leg.dialog, cancel, lambda: leg.client.over)

    def hang_up(self, leg: Leg) -> None:
        """Hang an answered leg up (its SDP unusable, say): BYE, and the leg is over."""
        self._carry_out(leg, leg.client.stop(), 487)

    def _forget(self, leg: Leg) -> None:
        if leg.forgotten:
            return
        leg.forgotten = True
        leg.side.port.close()
        # Kept a while: a repeated 2xx is still ACKed (and a late one hung up).
        self._later(GIVE_UP, lambda: self._clients.pop(leg.branch, None) and None)

    def _ack(self, leg: Leg) -> None:
        ack, _ = leg.dialog.request("ACK", cseq=leg.cseq)  # §13.2.2.4: the INVITE's CSeq number
        self.send(leg.dialog, ack)

    def _ack_failure(self, leg: Leg, response: Response) -> None:
        """RFC 3261 §17.1.1.3: the ACK of a failure is part of the INVITE's transaction (same branch)."""
        dialog = leg.dialog
        headers = (
            ("via", f"SIP/2.0/{dialog.transport.upper()} {dialog.via_host};branch={leg.branch};rport"),
            ("from", dialog.local),
            ("to", response.first("to") or dialog.remote),
            ("call-id", dialog.call_id),
            ("cseq", f"{leg.cseq} ACK"),
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

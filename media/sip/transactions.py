"""What the SIP transaction layer (RFC 3261 §17) asks of the ACD over UDP: repeat until answered.

Over UDP a lost datagram is only made good by the sender: an INVITE until a response comes (Timer A,
doubling), a request outside INVITE until its final response (Timer E, doubling up to T2), a final
response to an INVITE until its ACK (Timer G for a failure, §13.3.1.4 for a 2xx). Over TCP nothing
is repeated. A retransmitted request is answered again with the same response: `InviteServer` for the
INVITE of a call, `Answered` for the server transactions outside INVITE.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from media.sip.checks import Request
from media.sip.dialog import branch_of

T1, T2 = 0.5, 4.0
#: Timers B, F and H: how long a transaction waits for its answer or ACK before giving up.
GIVE_UP = 64 * T1


async def repeat(
    send: Callable[[], None], done: Callable[[], bool], *, cap: float = T2, limit: float = GIVE_UP
) -> bool:
    """Send again at T1, 2·T1… (at most `cap` apart) until `done()`; False when `limit` passed first."""
    interval, waited = T1, 0.0
    while waited < limit:
        await asyncio.sleep(interval)
        waited += interval
        if done():
            return True
        send()
        interval = min(interval * 2, cap)
    return done()


class Answered:
    """The non-INVITE server transactions (RFC 3261 §17.2.2): the last response sent to each request outside
    INVITE, by transaction and method, to answer its repeats alike."""

    def __init__(self, size: int = 4096) -> None:
        self._responses: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._size = size

    def keep(self, transaction: str | None, method: str, response: bytes | None) -> None:
        if transaction is None or response is None:
            return
        self._responses[(transaction, method)] = response
        if len(self._responses) > self._size:
            self._responses.popitem(last=False)

    def get(self, transaction: str | None, method: str) -> bytes | None:
        return self._responses.get((transaction, method)) if transaction is not None else None


def transaction_of(request: Request) -> str | None:
    """What tells a retransmission (RFC 3261 §17.2.3: the top Via's branch and sent-by), with the Call-ID:
    a client that reuses branches across calls still has each call's requests taken as new."""
    via = request.first("via") or ""
    branch = branch_of(via)
    if branch is None:
        return None
    sent_by = via.split(";", 1)[0].split()[-1] if via.split(";", 1)[0].split() else ""
    return f"{branch} {sent_by} {request.first('call-id')}"


class InviteServer:
    """The INVITE server transaction of a call from the trunk (RFC 3261 §17.2.1), with the 2xx that the
    dialog's core repeats until its ACK (§13.3.1.4).

    `send` puts bytes on the wire toward the caller; `reliable` is a stream transport, where nothing is
    repeated; `spawn` runs (and owns) the repetition; `no_ack` is called when a 2xx was never ACKed.
    """

    def __init__(
        self,
        request: Request,
        send: Callable[[bytes], None],
        *,
        reliable: bool,
        spawn: Callable[[Coroutine[Any, Any, Any]], None],
        no_ack: Callable[[], None],
    ) -> None:
        self.request = request
        self.branch = branch_of(request.first("via") or "")
        self._send = send
        self._reliable = reliable
        self._spawn = spawn
        self._no_ack = no_ack
        self.last: bytes | None = None  # the last response sent: what a repeated INVITE gets again
        self.final: bytes | None = None
        self.acked = False
        self.over = False  # the dialog ended first (a BYE overtook a lost ACK): a 2xx stops being repeated

    def is_repeat(self, request: Request) -> bool:
        """RFC 3261 §17.2.3: the same INVITE again (its top Via's branch) is the same transaction."""
        return request.method == "INVITE" and branch_of(request.first("via") or "") == self.branch

    def repeated(self) -> None:
        """RFC 3261 §17.2.1: absorb the retransmitted INVITE, answering it with the last response sent."""
        if self.last is not None:
            self._send(self.last)

    def respond(self, response: bytes | None) -> None:
        """A provisional response, or the final one (sent once: a second final is a programming error)."""
        if response is None:
            return
        final = not response.startswith(b"SIP/2.0 1")
        assert not (final and self.final is not None), "one final response per INVITE"
        self._send(response)
        self.last = response
        if final:
            self.final = response
            if not self._reliable:
                self._spawn(self._until_acked(response))

    def ack(self) -> None:
        self.acked = True

    def end(self) -> None:
        """The dialog ended: a 2xx still waiting for its ACK stops being repeated."""
        self.over = True

    async def _until_acked(self, final: bytes) -> None:
        answered = final.startswith(b"SIP/2.0 2")
        # A failure is repeated until its ACK (Timer G, §17.2.1); a 2xx until its ACK or the dialog's end.
        acked = await repeat(lambda: self._send(final), lambda: self.acked or (answered and self.over))
        if not acked and answered:  # §13.3.1.4: no ACK for the 2xx, the dialog ends
            self._no_ack()

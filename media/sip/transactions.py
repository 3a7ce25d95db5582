"""What the SIP transaction layer (RFC 3261 §17) asks of the ACD over UDP: repeat until answered.

Over UDP a lost datagram is only made good by the sender: an INVITE until a response comes (Timer A,
doubling), a request outside INVITE until its final response (Timer E, doubling up to T2), a final
response to an INVITE until its ACK (Timer G for a failure, §13.3.1.4 for a 2xx). Over TCP nothing
is repeated. A retransmitted request is answered again with the same response (`Answered`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable

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
    """The last responses sent to requests outside INVITE, by transaction and method, to answer repeats alike."""

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

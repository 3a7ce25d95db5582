"""The INVITE server transaction (media.sip.transactions.InviteServer) and the reason phrases, without a
network: what goes on the wire is collected, the retransmission timers run on a loop whose sleeps return
at once (no real time passes)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from media.sip import transactions
from media.sip.checks import Request, check
from media.sip.reasons import reason
from media.sip.responses import answer
from media.sip.transactions import GIVE_UP, InviteServer


def invite(branch: str = "z9hG4bK1") -> Request:
    lines = [
        "INVITE sip:+33199000101@acd SIP/2.0", f"Via: SIP/2.0/UDP 192.0.2.1;branch={branch}", "From: <sip:a@b>;tag=1",
        "To: <sip:+33199000101@acd>", "Call-ID: tx", "CSeq: 1 INVITE", "Content-Length: 0",
    ]  # fmt: skip
    request = check(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(request, Request), request
    return request


class Wire:
    """What the transaction sent, and the work it asked to run."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.work: list[Coroutine[Any, Any, Any]] = []
        self.no_ack = 0

    def server(self, request: Request, *, reliable: bool = False) -> InviteServer:
        return InviteServer(request, self.sent.append, reliable=reliable, spawn=self.work.append, no_ack=self.gone)

    def gone(self) -> None:
        self.no_ack += 1

    def run(self) -> None:
        async def all_work() -> None:
            await asyncio.gather(*self.work)

        asyncio.run(all_work())


@pytest.fixture(autouse=True)
def instant_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []  # the delays the timers asked for (a zero is a plain yield)
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        if seconds:
            waited.append(seconds)
        await real_sleep(0)  # other work runs, no time passes

    monkeypatch.setattr(transactions.asyncio, "sleep", sleep)
    return waited


def test_a_repeated_invite_gets_the_last_response_again_and_another_branch_is_no_repeat() -> None:
    wire, request = Wire(), invite()
    server = wire.server(request)
    server.repeated()
    assert wire.sent == []  # nothing sent yet: nothing to repeat
    trying = answer(request, 100, reason(100))
    server.respond(trying)
    server.repeated()
    assert wire.sent == [trying, trying]
    assert server.is_repeat(invite()) and not server.is_repeat(invite("z9hG4bK2"))


def test_a_2xx_is_repeated_until_its_ack(instant_sleep: list[float]) -> None:
    wire, request = Wire(), invite()
    server = wire.server(request)
    ok = answer(request, 200, reason(200), tag="t")
    assert ok is not None
    server.respond(ok)
    sent = len(wire.sent)

    async def acked_later() -> None:
        while len(wire.sent) < sent + 3:  # three repeats, then the ACK comes
            await asyncio.sleep(0)
        server.ack()

    wire.work.append(acked_later())
    wire.run()
    assert wire.sent[:1] == [ok] and wire.no_ack == 0
    assert instant_sleep[:3] == [0.5, 1.0, 2.0]  # T1 doubling (RFC 3261 §13.3.1.4)


def test_a_2xx_never_acked_ends_the_dialog_once() -> None:
    wire, request = Wire(), invite()
    server = wire.server(request)
    server.respond(answer(request, 200, reason(200), tag="t"))
    wire.run()
    assert wire.no_ack == 1
    assert len(wire.sent) > 5  # repeated until it gave up after 64·T1


def test_a_2xx_stops_being_repeated_when_the_dialog_ends_first() -> None:
    wire, request = Wire(), invite()
    server = wire.server(request)
    server.respond(answer(request, 200, reason(200), tag="t"))
    server.end()  # a BYE overtook the lost ACK
    wire.run()
    assert wire.no_ack == 0 and len(wire.sent) == 1


def test_a_failure_unacked_is_given_up_without_ending_anything(instant_sleep: list[float]) -> None:
    wire, request = Wire(), invite()
    server = wire.server(request)
    server.respond(answer(request, 486, reason(486), tag="t"))
    wire.run()
    assert wire.no_ack == 0
    assert sum(instant_sleep) >= GIVE_UP and max(instant_sleep) == transactions.T2  # Timer G, capped at T2


def test_over_a_stream_nothing_is_repeated() -> None:
    wire, request = Wire(), invite()
    server = wire.server(request, reliable=True)
    server.respond(answer(request, 200, reason(200), tag="t"))
    assert wire.work == [] and len(wire.sent) == 1


def test_one_final_response_per_invite() -> None:
    wire, request = Wire(), invite()
    server = wire.server(request, reliable=True)
    server.respond(answer(request, 486, reason(486), tag="t"))
    with pytest.raises(AssertionError, match="one final response"):
        server.respond(answer(request, 200, reason(200), tag="t"))


def test_reason_phrases() -> None:
    assert reason(488) == "Not Acceptable Here"
    assert reason(488, "no codec in common") == "Not Acceptable Here (no codec in common)"
    assert reason(422) == "Session Interval Too Small"
    assert reason(599) == "Server Failure"  # one not listed: its class's

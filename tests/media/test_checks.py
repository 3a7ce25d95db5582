"""The checks every SIP request passes, on the RFC 4475 torture messages and on what hypothesis makes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.sip.checks import Refusal, Request, Response, check
from media.sip.digest import Nonces
from media.sip.frontdoor import FrontDoor
from media.sip.registrar import Registrar
from media.sip.responses import answer
from media.sip.transport import Source
from tests.media.torture import DIRECTORY, EXPECTED, REQUIRED_HEADERS, message


def test_every_torture_message_has_an_expected_outcome() -> None:
    assert sorted(EXPECTED) == sorted(p.stem for p in DIRECTORY.glob("*.dat"))
    assert len(EXPECTED) == 49


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_torture_message_is_refused_dropped_or_passed_on_as_the_rfc_says(name: str) -> None:
    verdict = check(message(name), reliable=False)
    expected = EXPECTED[name]
    if expected is None:
        assert isinstance(verdict, Response)
    elif isinstance(verdict, Refusal):
        assert verdict.status == expected, verdict
        header = REQUIRED_HEADERS.get(expected)
        assert header is None or header.lower() in dict(verdict.headers)
    else:
        assert isinstance(verdict, Request), verdict
        door = FrontDoor(Registrar("acd.demo", {}, Nonces(b"secret"), _StoppedClock()), {}, lambda: True)
        reply = door.reply(verdict, Source("udp", ("127.0.0.1", 5060), lambda data: None))
        assert reply is not None and reply.split(b" ", 2)[1] == str(expected).encode()


def test_a_datagram_with_octets_after_its_message_keeps_only_the_message() -> None:
    verdict = check(message("dblreq"))
    assert isinstance(verdict, Request)
    assert verdict.body == b"" and verdict.raw.endswith(b"\r\n\r\n")  # its Content-Length: 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bare_lf_line_ends_are_read_as_crlf(name: str) -> None:
    head, separator, body = message(name).partition(b"\r\n\r\n")
    lf_only = head.replace(b"\r\n", b"\n") + separator.replace(b"\r\n", b"\n") + body
    assert check(lf_only) == check(message(name))  # the same request (its raw bytes in CRLF), or refusal


def test_a_negative_content_length_over_a_stream_closes_it() -> None:
    verdict = check(message("ncl"), reliable=True)
    assert isinstance(verdict, Refusal) and verdict.status == 400 and verdict.close


def test_a_stream_needs_a_content_length() -> None:
    options = message("zeromf").replace(b"Content-Length: 0\r\n", b"")
    assert b"Content-Length" not in options
    assert isinstance(check(options, reliable=False), Request)
    verdict = check(options, reliable=True)
    assert isinstance(verdict, Refusal) and verdict.status == 400 and verdict.close


def test_the_answer_copies_what_it_must_and_tags_the_to() -> None:
    verdict = check(message("zeromf"))
    assert isinstance(verdict, Request)
    reply = answer(verdict, 200, "OK").decode()
    head = dict(line.split(": ", 1) for line in reply.split("\r\n")[1:] if ": " in line)
    assert reply.startswith("SIP/2.0 200 OK\r\n")
    for name in ("Via", "From", "Call-ID", "CSeq"):
        assert head[name] == verdict.first(name.lower())
    assert head["To"].startswith(verdict.first("to") or "") and ";tag=" in head["To"]
    assert head["Content-Length"] == "0"


def test_a_request_without_via_cannot_be_answered() -> None:
    assert answer(b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n", 400, "Bad Request") is None


@given(st.binary(max_size=2000))
def test_any_bytes_get_a_verdict_and_never_an_exception(data: bytes) -> None:
    verdict = check(data)
    assert isinstance(verdict, (Request, Refusal, Response))
    if isinstance(verdict, Refusal):
        answer(data, verdict.status, verdict.reason, verdict.headers)


@given(st.sampled_from(sorted(EXPECTED)), st.integers(min_value=0), st.binary(min_size=1, max_size=8))
def test_a_torture_message_with_bytes_changed_gets_a_verdict(name: str, at: int, junk: bytes) -> None:
    data = message(name)
    position = at % len(data)
    changed = data[:position] + junk + data[position + len(junk) :]
    verdict = check(changed)
    assert isinstance(verdict, (Request, Refusal, Response))
    if isinstance(verdict, Request):  # what passes is well-formed enough to answer
        assert answer(verdict, 200, "OK") is not None


@pytest.mark.parametrize("name", ["ncl", "multi01", "quotbal", "mcl01", "badinv01", "ltgtruri", "mismatch01"])
def test_aiosipua_reads_as_well_formed_what_the_checks_refuse(name: str) -> None:
    # Why media/ checks the bytes itself: aiosipua 0.7.1 parses these without complaint (and its
    # transports drop what it cannot parse, unanswered). Should a version refuse them, this fails and
    # the checks may lean on it instead.
    from aiosipua import SipMessage, SipRequest

    assert isinstance(SipMessage.parse(message(name)), SipRequest)
    assert isinstance(check(message(name)), Refusal)


def test_a_response_to_the_acds_own_request_is_read_and_a_malformed_one_marked_to_drop() -> None:
    ok = check(
        b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc\r\nFrom: <sip:a@b>;tag=1\r\n"
        b"To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nbodyextra"
    )
    assert isinstance(ok, Response)
    assert (ok.status, ok.reason, ok.cseq_method, ok.body, ok.first("to")) == (
        180,
        "Ringing",
        "INVITE",
        b"body",
        "<sip:c@d>;tag=2",
    )
    no_call_id = check(
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCSeq: 1 BYE\r\n\r\n"
    )
    assert no_call_id == Response(0, "missing headers")
    assert check(b"SIP/2.0 2000 Much Too OK\r\n\r\n") == Response(0, "malformed status line")
    assert check(b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n") == Response(0, "malformed header line")


class _StoppedClock:
    def time(self) -> float:
        return 0.0

    def monotonic(self) -> float:
        return 0.0

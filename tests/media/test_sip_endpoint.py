"""The SIP endpoint of a running `acd serve`, over real UDP and TCP sockets: RFC 4475's torture messages.

Whatever comes in, the server answers as the RFC says (or drops a stray response), keeps no state for
what it refused, and goes on serving: an OPTIONS after all of them is answered.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.media.torture import EXPECTED, OVER_TCP, REQUIRED_HEADERS, message
from tests.servers import free_port, redis_server, until, wait_for_port

PATIENCE = 10.0


@dataclass
class Server:
    sip: tuple[str, int]
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def acd_serve(log: Path, config: Path | None = None) -> Iterator[Server]:
    """`acd serve` with SIP on a free port (the demo configuration, or `config`), its output in `log`."""
    http, sip = free_port(), free_port()
    command = [sys.executable, "-m", "acd.cli", "serve", "--port", str(http), "--sip", f"127.0.0.1:{sip}"]
    if config is not None:
        command += ["--config", str(config)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    try:
        wait_for_port(http, process, "acd serve", 60)
        yield Server(("127.0.0.1", sip), process, log)
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert b"Traceback" not in log.read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with acd_serve(tmp_path_factory.mktemp("sip") / "acd.log") as running:
        yield running


def options(call_id: str) -> bytes:
    return (
        f"OPTIONS sip:acd@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{call_id}\r\n"
        f"Max-Forwards: 70\r\nTo: <sip:acd@127.0.0.1>\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def exchange_udp(server: Server, data: bytes) -> bytes | None:
    """Send `data`, then an OPTIONS probe: the first answer is `data`'s, unless it is the probe's."""
    probe = uuid.uuid4().hex
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(PATIENCE)
        sock.sendto(data, server.sip)
        sock.sendto(options(probe), server.sip)
        first = sock.recvfrom(65536)[0]
        if f"Call-ID: {probe}".encode() in first:
            return None
        assert f"Call-ID: {probe}".encode() in sock.recvfrom(65536)[0]  # and the server still answers
        return first


def status(reply: bytes) -> int:
    assert reply.startswith(b"SIP/2.0 "), reply[:80]
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - OVER_TCP))
def test_a_torture_message_over_udp_gets_the_answer_the_rfc_asks_for(server: Server, name: str) -> None:
    reply = exchange_udp(server, message(name))
    expected = EXPECTED[name]
    if expected is None:
        assert reply is None
        return
    assert reply is not None and status(reply) == expected, reply
    header = REQUIRED_HEADERS.get(expected)
    assert header is None or f"\r\n{header}: ".encode() in reply
    if expected == 401:
        assert b'WWW-Authenticate: Digest realm="acd.demo"' in reply and b"algorithm=SHA-256" in reply


def read_reply(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_over_tcp_messages_are_framed_and_answered_on_the_same_connection(server: Server) -> None:
    with socket.create_connection(server.sip, timeout=PATIENCE) as sock:
        for name in sorted(OVER_TCP) + ["zeromf", "badvers"]:
            sock.sendall(message(name))
            assert status(read_reply(sock)) == EXPECTED[name]
        sock.sendall(b"\r\n\r\n")  # a keep-alive, then two requests in one write
        sock.sendall(options("one") + options("two"))
        replies = read_reply(sock)
        while replies.count(b"SIP/2.0 ") < 2:
            replies += read_reply(sock)
        assert b"Call-ID: one" in replies and b"Call-ID: two" in replies


def test_a_negative_content_length_over_tcp_is_answered_400_and_the_connection_closed(server: Server) -> None:
    with socket.create_connection(server.sip, timeout=PATIENCE) as sock:
        sock.sendall(message("ncl"))
        assert status(read_reply(sock)) == 400
        assert sock.recv(1) == b""  # closed by the server: the stream's framing is lost


def bare_lf(data: bytes) -> bytes:
    """`data` with bare LFs ending its lines and its header section, as a hand-made request often has."""
    head, _, body = data.partition(b"\r\n\r\n")
    return head.replace(b"\r\n", b"\n") + b"\n\n" + body


def assert_crlf(reply: bytes) -> None:
    """A well-formed answer: every line ended by CRLF, the header section by an empty line, no body."""
    head, separator, body = reply.partition(b"\r\n\r\n")
    assert separator and body == b"" and b"\n" not in head.replace(b"\r\n", b""), reply


LF_MESSAGES = ("zeromf", "regaut01", "badvers", "bext01")  # read: 200, 401; refused: 505, 420


@pytest.mark.parametrize("name", LF_MESSAGES)
def test_a_request_with_bare_lf_line_ends_is_read_and_answered_in_crlf_over_udp(server: Server, name: str) -> None:
    reply = exchange_udp(server, bare_lf(message(name)))
    assert reply is not None and status(reply) == EXPECTED[name], reply
    assert_crlf(reply)
    header = REQUIRED_HEADERS.get(status(reply))
    assert header is None or f"\r\n{header}: ".encode() in reply


def test_requests_with_bare_lf_line_ends_are_framed_and_answered_in_crlf_over_tcp(server: Server) -> None:
    with socket.create_connection(server.sip, timeout=PATIENCE) as sock:
        for name in LF_MESSAGES:
            sock.sendall(bare_lf(message(name)))
            reply = read_reply(sock)
            assert status(reply) == EXPECTED[name], reply
            assert_crlf(reply)
        sock.sendall(b"\n" + bare_lf(options("lf-one")) + options("crlf-two"))  # a keep-alive, then both kinds
        replies = read_reply(sock)
        while replies.count(b"SIP/2.0 ") < 2:
            replies += read_reply(sock)
        assert b"Call-ID: lf-one" in replies and b"Call-ID: crlf-two" in replies
        assert replies.count(b"SIP/2.0 200 OK\r\n") == 2, replies


def test_a_request_that_cannot_be_answered_is_logged_as_dropped_not_as_answered(server: Server) -> None:
    no_via = b"OPTIONS sip:acd@127.0.0.1 SIP/2.0\r\nCall-ID: no-via\r\nCSeq: 1 OPTIONS\r\n\r\n"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(PATIENCE)
        sock.sendto(no_via, server.sip)
        sock.sendto(options("after-no-via"), server.sip)
        assert b"Call-ID: after-no-via" in sock.recvfrom(65536)[0]  # nothing came before the probe's answer
        port = sock.getsockname()[1]
    logged = [line for line in server.log.read_text().splitlines() if f"('127.0.0.1', {port})" in line]
    assert any("dropped a request" in line and "no Via" in line for line in logged), logged
    assert not any("refused a request" in line for line in logged), logged


def test_after_every_torture_message_the_server_still_serves(server: Server) -> None:
    for name in sorted(EXPECTED):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(message(name), server.sip)
    reply = exchange_udp(server, options("after"))
    assert reply is not None and status(reply) == 200
    assert server.process.poll() is None


def invite(number: str, call_id: str) -> bytes:
    sdp = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    head = (
        f"INVITE sip:{number}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{call_id}\r\n"
        f"Max-Forwards: 70\r\nTo: <sip:{number}@127.0.0.1>\r\nFrom: <sip:caller@127.0.0.1>;tag=7\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:9>\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n"
    )
    return head.encode() + sdp


def final_answer(sip: tuple[str, int], data: bytes) -> bytes:
    """The first final (non-1xx) answer to `data`, sent over UDP."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(PATIENCE)
        sock.sendto(data, sip)
        while True:
            reply = sock.recvfrom(65536)[0]
            if status(reply) >= 200:
                return reply


def test_a_call_while_the_shared_store_is_down_gets_503_with_retry_after(tmp_path: Path) -> None:
    with redis_server(tmp_path, appendonly=True) as redis:
        http, sip = free_port(), free_port()
        command = [
            sys.executable, "-m", "acd.cli", "serve", "--port", str(http), "--sip", f"127.0.0.1:{sip}",
            "--store", redis.url, "--log-level", "warning",
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        address = ("127.0.0.1", sip)
        try:
            wait_for_port(http, process, "acd serve", 60)
            assert status(final_answer(address, invite("+33199000101", "up"))) not in (404, 503)
            assert status(final_answer(address, invite("+33100000000", "unknown"))) == 404
            redis.kill()
            until(
                "calls get 503 while Redis is down",
                lambda: status(final_answer(address, invite("+33199000101", uuid.uuid4().hex))) == 503,
            )
            down = final_answer(address, invite("+33199000101", "down"))
            assert b"\r\nRetry-After: " in down
            redis.start()
            until(
                "calls are taken again once Redis is back",
                lambda: status(final_answer(address, invite("+33199000101", uuid.uuid4().hex))) != 503,
            )
            assert process.poll() is None
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_options_says_what_the_server_takes(server: Server) -> None:
    reply = exchange_udp(server, options("what"))
    assert reply is not None and status(reply) == 200
    head = dict(line.split(": ", 1) for line in reply.decode().split("\r\n")[1:] if ": " in line)
    assert {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER"} <= set(head["Allow"].split(", "))
    assert head["Accept"] == "application/sdp"
    assert head["Supported"] == "timer"  # session timers (RFC 4028), and no option tag not built
    assert ";tag=" in head["To"] and head["Call-ID"] == "what"


WELCOME = "+33199000100"  # the demo's number into the welcome flow: answered 200 at once, with the SDP answer


def parse_messages(data: bytes) -> tuple[list[bytes], bytes]:
    """The whole messages at the start of `data` (framed by their Content-Length), and what is left."""
    messages = []
    while b"\r\n\r\n" in data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(header(head, "Content-Length"))
        if len(rest) < length:
            break
        messages.append(head + b"\r\n\r\n" + rest[:length])
        data = rest[length:]
    return messages, data


def header(message: bytes, name: str) -> str:
    prefix = f"{name.lower()}: "
    lines = message.partition(b"\r\n\r\n")[0].decode().split("\r\n")
    return next(line[len(prefix) :] for line in lines if line.lower().startswith(prefix))


def hang_up(ok: bytes, send: Callable[[bytes], object]) -> None:
    """ACK the call's 200, then BYE: the call keeps nothing on the server after the test."""
    for method, cseq in (("ACK", 1), ("BYE", 2)):
        via = header(ok, "Via").replace("branch=z9hG4bK", f"branch=z9hG4bK{method}")  # a transaction of its own
        send(
            f"{method} sip:{WELCOME}@127.0.0.1 SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n"
            f"To: {header(ok, 'To')}\r\nFrom: {header(ok, 'From')}\r\nCall-ID: {header(ok, 'Call-ID')}\r\n"
            f"CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n".encode()
        )


def answers_over_udp(server: Server, data: bytes) -> list[bytes]:
    """The answers to an INVITE up to its final one; a 200 is ACKed and its call hung up."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(PATIENCE)
        sock.sendto(data, server.sip)
        replies = [sock.recvfrom(65536)[0]]
        while status(replies[-1]) < 200:
            replies.append(sock.recvfrom(65536)[0])
        if status(replies[-1]) == 200:
            hang_up(replies[-1], lambda out: sock.sendto(out, server.sip))
        return replies


def offer_taken(reply: bytes) -> str:
    """The media line of the SDP answer a 200 carries, its port left out: what it took from the offer."""
    head, _, body = reply.partition(b"\r\n\r\n")
    assert header(head, "Content-Type") == "application/sdp" and len(body) == int(header(head, "Content-Length"))
    assert b"\n" not in head.replace(b"\r\n", b""), reply  # answered in CRLF
    media = next(line for line in body.decode().split("\r\n") if line.startswith("m=audio "))
    return " ".join(media.split(" ")[2:])


def test_an_invite_with_bare_lf_line_ends_and_an_sdp_body_is_answered_as_its_crlf_twin_over_udp(server: Server) -> None:
    crlf = answers_over_udp(server, invite(WELCOME, "crlf-sdp"))
    lf = answers_over_udp(server, bare_lf(invite(WELCOME, "lf-sdp")))
    assert [status(reply) for reply in lf] == [status(reply) for reply in crlf] == [100, 200], (crlf, lf)
    assert offer_taken(lf[-1]) == offer_taken(crlf[-1]) == "RTP/AVP 0"


def test_a_bare_lf_request_with_a_body_split_across_writes_then_another_are_answered_in_order_over_tcp(
    server: Server,
) -> None:
    call = bare_lf(invite(WELCOME, "lf-tcp-sdp"))
    body = call.index(b"\n\n") + 2
    cuts = (body // 2, body + (len(call) - body) // 2)  # in the middle of the headers, in the middle of the body
    pieces = [call[: cuts[0]], call[cuts[0] : cuts[1]], call[cuts[1] :] + bare_lf(options("lf-tcp-after"))]
    with socket.create_connection(server.sip, timeout=PATIENCE) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in pieces:  # the last one ends the body and holds the next request whole
            sock.sendall(piece)
            time.sleep(0.05)  # apart, so that the server reads each on its own (nothing waits on a result)
        received: list[bytes] = []
        rest = b""
        while len(received) < 3:  # the INVITE's 100 and 200, the OPTIONS's 200
            chunk = sock.recv(65536)
            assert chunk, f"closed by the server after {received}"
            more, rest = parse_messages(rest + chunk)
            received += more
        answered = [(header(reply, "Call-ID"), status(reply)) for reply in received]
        # The INVITE is read whole, and answered 100 at once, before the OPTIONS after it; its 200 follows
        # once its media is set up, before or after the OPTIONS's answer.
        assert answered[0] == ("lf-tcp-sdp", 100), answered
        assert sorted(answered[1:]) == [("lf-tcp-after", 200), ("lf-tcp-sdp", 200)] and rest == b"", answered
        ok = next(reply for reply in received if header(reply, "Call-ID") == "lf-tcp-sdp" and status(reply) == 200)
        assert offer_taken(ok) == "RTP/AVP 0"
        hang_up(ok, sock.sendall)

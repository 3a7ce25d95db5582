"""What a TCP peer of `acd serve` may hold, over real sockets: a message begun must be whole within
settings.yaml's sip_tcp_message_timeout (a slow sender is closed, others are served meanwhile), answers
must be read within it too (a peer that never reads is closed), and one source address holds at most
sip_tcp_connections_per_address connections (more are closed at accept, another address still gets in)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from acd.cli import DEMO_CONFIG
from tests.media.test_sip_endpoint import PATIENCE, Server, acd_serve, exchange_udp, options, read_reply, status
from tests.servers import until

TIMEOUT = 1  # seconds: short, for the test (the default is 10)
PER_ADDRESS = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    config = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(DEMO_CONFIG, config)
    settings = config / "settings.yaml"
    text = settings.read_text()
    for name, value in (("sip_tcp_message_timeout", TIMEOUT), ("sip_tcp_connections_per_address", PER_ADDRESS)):
        start = text.index(f"\n{name}: ") + 1
        text = text[:start] + f"{name}: {value}" + text[text.index("\n", start) :]
    settings.write_text(text)
    with acd_serve(tmp_path_factory.mktemp("sip") / "acd.log", config) as running:
        yield running


def connect(server: Server, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(server.sip, timeout=PATIENCE, source_address=(source, 0))
    return sock


def answered(sock: socket.socket, call_id: str) -> bool:
    """Whether an OPTIONS on this connection is answered (False: the server closed it)."""
    try:
        sock.sendall(options(call_id))
        reply = read_reply(sock)
    except OSError:
        return False
    return reply != b"" and status(reply) == 200 and f"Call-ID: {call_id}".encode() in reply


def closed_by_server(sock: socket.socket) -> bool:
    """Wait (up to the socket's timeout) for the server to close the connection."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True  # closed while bytes were still coming: the kernel resets


class SlowSender(threading.Thread):
    """Sends a request one byte at a time, its headers never ending, until the connection is closed."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.started_sending = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        data = b"OPTIONS sip:acd@127.0.0.1 SIP/2.0\r\n"
        while not self.stop.is_set():
            for byte in data:
                try:
                    self.sock.send(bytes([byte]))
                except OSError:
                    return
                self.started_sending.set()
                if self.stop.wait(0.05):
                    return
            data = b"X-Slow: still coming\r\n"


def test_a_slow_sender_is_closed_while_the_others_are_answered(server: Server) -> None:
    with ExitStack() as stack:
        idle = stack.enter_context(connect(server))  # connected first, then says nothing: a phone waiting
        slow = stack.enter_context(connect(server))
        sender = SlowSender(slow)
        sender.start()
        stack.callback(sender.join)
        stack.callback(sender.stop.set)
        assert sender.started_sending.wait(PATIENCE)
        with connect(server) as other:
            assert answered(other, "meanwhile-tcp")
        reply = exchange_udp(server, options("meanwhile-udp"))
        assert reply is not None and status(reply) == 200
        assert closed_by_server(slow)
        # The slow one was closed after the timeout; the idle one, open since before, is still served.
        assert answered(idle, "idle-kept")
    assert "a message not whole 1 s after its first byte" in server.log.read_text()


def test_an_unfinished_header_section_is_closed(server: Server) -> None:
    with connect(server) as unfinished:
        unfinished.sendall(options("unfinished").partition(b"\r\n\r\n")[0] + b"\r\n")  # no empty line
        assert closed_by_server(unfinished)
    with connect(server) as after:
        assert answered(after, "after-unfinished")


def test_connections_past_the_cap_from_one_address_are_closed_while_another_address_gets_in(server: Server) -> None:
    with ExitStack() as stack:
        held = [stack.enter_context(connect(server)) for _ in range(PER_ADDRESS)]
        assert all(answered(sock, f"held-{n}") for n, sock in enumerate(held))
        with connect(server) as extra:
            assert closed_by_server(extra)
        with connect(server, "127.0.0.2") as elsewhere:
            assert answered(elsewhere, "elsewhere")
        assert all(answered(sock, f"still-{n}") for n, sock in enumerate(held))
        held.pop().close()

        def one_more_gets_in() -> bool:
            with connect(server) as again:
                return answered(again, "again")

        until("a connection gets in once one of the address's closed", one_more_gets_in)
    refused = [line for line in server.log.read_text().splitlines() if "closing TCP connections from 127.0.0.1" in line]
    assert len(refused) >= 1 and all(f"{PER_ADDRESS} open from it already" in line for line in refused)


FLOOD = 100_000  # OPTIONS, about 23 MB: far more than the socket buffers between server and peer hold (4 MB here)


def test_a_peer_that_never_reads_its_answers_is_closed_while_the_others_are_answered(server: Server) -> None:
    flood = b"".join(options(f"unread-{n}") for n in range(FLOOD))
    with socket.socket() as deaf:
        deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: the window it offers
        deaf.connect(server.sip)
        deaf.setblocking(False)
        sent = 0
        with contextlib.suppress(BlockingIOError):  # the buffers both ways are full: the server stopped reading
            while sent < len(flood):
                sent += deaf.send(flood[sent : sent + 65536])
        assert sent < len(flood), "every OPTIONS went: too few to fill the buffers"
        with connect(server) as other:
            assert answered(other, "while-one-does-not-read")
        deaf.settimeout(PATIENCE)
        with pytest.raises((ConnectionResetError, BrokenPipeError)):  # reset: the server aborted it
            deaf.sendall(flood[sent:])
    assert "its answers not read 1 s after they were due" in server.log.read_text()

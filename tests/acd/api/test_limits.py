"""Bounded request bodies (acd/api/limits.py): refused 413 after at most the limit was read, whoever sends
them, over a real socket to the running server as through the middleware alone."""

from __future__ import annotations

import asyncio
import socket

import pytest
from starlette.types import Message, Receive, Scope, Send

from acd.api.errors import BodyTooLarge
from acd.api.limits import BodyLimit
from acd.deployment.models import Settings
from tests.acd.api.conftest import Running
from tests.acd.api.test_api import state_of
from tests.acd.api.test_contract import assert_refusal

memory_only = pytest.mark.parametrize("acd_server", ["memory"], indirect=True)
LIMIT = Settings().request_body_limit


def _connect(server: Running) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _refused(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 413, body
    assert headers["connection"] == "close"
    message = b"the request body is over %d bytes" % LIMIT
    assert body == b'{"error":"body-too-large","message":"%s","details":{"limit":%d}}' % (message, LIMIT)


def test_the_default_limit_is_64_kib() -> None:
    assert LIMIT == 65536


@memory_only
def test_a_declared_length_over_the_limit_is_refused_before_any_byte_of_it(acd_server: Running) -> None:
    # An unauthenticated log-in announcing 24 MB: answered at once, though not one byte of the body came.
    with _connect(acd_server) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: acd\r\nContent-Type: application/json\r\n"
            b"Content-Length: 25165824\r\n\r\n"
        )
        _refused(*_read_answer(sock))


@memory_only
def test_a_route_that_reads_no_body_does_not_run_when_the_declared_length_is_too_large(acd_server: Running) -> None:
    token = acd_server.token("admin")
    before = state_of(acd_server)
    with _connect(acd_server) as sock:
        sock.sendall(
            b"POST /api/v1/agents/ana/login HTTP/1.1\r\nHost: acd\r\nAuthorization: Bearer %s\r\n"
            b"Content-Length: %d\r\n\r\n" % (token.encode(), LIMIT + 1)
        )
        _refused(*_read_answer(sock))
    assert state_of(acd_server) == before  # ana was not logged in


@memory_only
@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/tasks"])
def test_a_chunked_body_is_cut_at_the_limit_without_waiting_for_its_end(acd_server: Running, path: str) -> None:
    # limit + 1 bytes in chunks, and the body never ends: the answer comes all the same, so the server stopped
    # reading at the limit rather than waiting for (and keeping) the rest. Exactly limit + 1: nothing is left
    # unread in the server's socket, whose close would then be a reset that can overtake the answer.
    token = acd_server.token("admin")
    before = state_of(acd_server)
    with _connect(acd_server) as sock:
        sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: acd\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" % (path.encode(), token.encode())
        )
        pieces = [b'{"x": "' + b"a" * 4087 + b'",'] * (LIMIT // 4096) + [b" "]  # 4 KiB each, then one byte
        assert sum(map(len, pieces)) == LIMIT + 1
        for piece in pieces:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        _refused(*_read_answer(sock))
    assert state_of(acd_server) == before


@memory_only
def test_a_body_at_the_limit_is_read(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    body = b'{"channel": "voice", "queue": "lons-tva"}'
    padded = body[:-1] + b" " * (LIMIT - len(body)) + b"}"
    assert len(padded) == LIMIT
    answer = admin.post("/api/v1/tasks", content=padded, headers={"content-type": "application/json"})
    assert answer.status_code == 201, answer.text
    assert_refusal(
        admin.post("/api/v1/tasks", content=b" " + padded, headers={"content-type": "application/json"}),
        413,
        "body-too-large",
    )


def test_the_middleware_reads_at_most_the_limit_of_an_endless_body() -> None:
    """What the server reads, counted: an application reading a body that never ends."""
    pulled = 0
    chunk = b"x" * 1000
    sent: list[Message] = []

    async def endless() -> Message:
        nonlocal pulled
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    async def reader(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            await receive()

    scope: Scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodyLimit(reader, 5000)(scope, endless, send))
    assert pulled == 6000  # five chunks fit, the sixth passes the limit: nothing more is asked for
    assert sent[0]["status"] == 413 and (b"connection", b"close") in sent[0]["headers"]


def test_the_middleware_raises_when_the_answer_had_started() -> None:
    async def endless() -> Message:
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    async def send(message: Message) -> None:
        pass

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            await receive()

    scope: Scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    with pytest.raises(BodyTooLarge):
        asyncio.run(BodyLimit(streaming, 150)(scope, endless, send))


@pytest.mark.parametrize("value", [1023, 16 * 1024 * 1024 + 1])
def test_the_limit_setting_is_bounded(value: int) -> None:
    with pytest.raises(ValueError, match="request_body_limit"):
        Settings(request_body_limit=value)

"""SIP over UDP and TCP on one address: every message checked, refused with its answer, or handed on.

Each request is first checked on its bytes (`checks.check`); a refused one is answered there and
nothing else sees it. Responses go back where the request came from, whatever its Via says (as with
rport, RFC 3581): phones sit behind NAT, and a Via's private address is rarely reachable.

A TCP stream is framed by Content-Length; a stream whose framing is lost (no number, too long a header
section) is answered 400 and closed, as RFC 4475 §3.1.2.3 asks. A message begun must be whole within a
deadline (else the connection is closed: a slow sender holds nothing for ever), its answers must leave
within the same deadline (else the connection is aborted: a peer that never reads holds nothing for
ever either), and one source address holds a bounded number of connections (`StreamLimits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

from media.sip.checks import Refusal, Request, Response, check
from media.sip.reasons import reason
from media.sip.responses import answer

log = logging.getLogger("media.sip")

#: The longest header section a stream may send before its framing is given up (a datagram is bounded
#: by its own size).
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
CONNECT_TIMEOUT = 5.0
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\S*)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """What a TCP peer may hold: seconds a message may take from its first byte to its last (and its
    answers to leave), and connections open at once from one source address (settings.yaml's sip_tcp_*
    fields)."""

    message_timeout: float = 10.0
    per_address: int = 64


@dataclass(frozen=True, slots=True)
class Source:
    """Where a request came from, and how to answer it there."""

    transport: str  # "udp" or "tcp"
    address: tuple[str, int]
    send: Callable[[bytes], None]


#: What the application does with a request that passed the checks (its responses go through
#: `source.send`), or with a response to one of its own requests.
Handler = Callable[[Request | Response, Source], None]


class Transports:
    """The bound UDP socket and the TCP streams: how the ACD sends its own requests."""

    def __init__(self, handler: Handler | None = None, limits: StreamLimits = StreamLimits()) -> None:
        self.address: tuple[str, int] = ("", 0)
        self.handler = handler
        self.limits = limits
        self.datagrams: asyncio.DatagramTransport | None = None
        self.streams: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._connecting: dict[tuple[str, int], list[bytes]] = {}
        self._opening: set[asyncio.Task[None]] = set()
        self.group: asyncio.TaskGroup | None = None  # `listening`'s: it owns the connections the ACD opens

    def has_stream(self, address: tuple[str, int]) -> bool:
        writer = self.streams.get(address)
        return writer is not None and not writer.is_closing()

    def send(self, transport: str, address: tuple[str, int], data: bytes) -> bool:
        """Send on UDP, or over TCP on the stream open with that address: the one the peer opened (a
        phone behind NAT can only be reached so), else a new one (RFC 3261 §18.1.1)."""
        if transport == "tcp":
            writer = self.streams.get(address)
            if writer is None or writer.is_closing():
                self._connect(address, data)
            else:
                writer.write(data)
            return True
        if self.datagrams is None:
            return False
        self.datagrams.sendto(data, address)
        return True

    def _connect(self, address: tuple[str, int], data: bytes) -> None:
        waiting = self._connecting.get(address)
        if waiting is not None:
            waiting.append(data)  # sent in order once the connection is up
            return
        if self.group is None:
            log.info("no TCP connection to %s: SIP is not listening", address)
            return
        self._connecting[address] = [data]
        task = self.group.create_task(self._open(address))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    async def _open(self, address: tuple[str, int]) -> None:
        try:
            await self._serve_opened(address)
        except Exception:  # one connection's fault must not end the task group, and SIP with it
            log.exception("the TCP connection to %s failed", address)

    async def _serve_opened(self, address: tuple[str, int]) -> None:
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for drops a cancellation (close()) that comes as the
            # connection opens (CPython gh-86296), and the stream would then be served on after shutdown.
            async with asyncio.timeout(CONNECT_TIMEOUT):
                reader, writer = await asyncio.open_connection(*address, limit=MAX_HEAD)
        except (OSError, TimeoutError) as error:
            log.info("no TCP connection to %s: %s", address, error)
            self._connecting.pop(address, None)
            return
        for data in self._connecting.pop(address, []):
            writer.write(data)
        if self.handler is not None:
            # Its responses and requests come back on it.
            await _stream(reader, writer, self.handler, self.streams, self.limits.message_timeout)

    def close(self) -> None:
        for task in self._opening:
            task.cancel()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        transport = self.transport
        if transport is None:
            return
        if data.strip(b"\r\n") == b"":
            return  # a keep-alive (RFC 5626 §3.5.1): nothing to answer
        source = Source("udp", addr[:2], lambda out: transport.sendto(out, addr))
        _received(data, source, self.handler, reliable=False)


def _received(data: bytes, source: Source, handler: Handler, *, reliable: bool) -> bool:
    """Check and dispatch one message; False if the stream it came on must be closed."""
    verdict = check(data, reliable=reliable)
    if isinstance(verdict, Response):
        if verdict.status == 0:
            log.info("dropped a malformed response from %s: %s", source.address, verdict.reason)
            return True
        try:
            handler(verdict, source)
        except Exception:
            log.exception("response %d from %s failed", verdict.status, source.address)
        return True
    if isinstance(verdict, Refusal):
        out = answer(data, verdict.status, verdict.reason, verdict.headers)
        if out is None:  # no Via: a response goes by its Via (RFC 3261 §18.2.2), so it has nowhere to go
            log.info("dropped a request from %s with no Via to answer by: %s", source.address, verdict.reason)
        else:
            log.info("refused a request from %s: %d %s", source.address, verdict.status, verdict.reason)
            source.send(out)
        return not verdict.close
    try:
        handler(verdict, source)
    except Exception:  # a fault of the handler's must not stop the transport serving others
        log.exception("request %s from %s failed", verdict.method, source.address)
        out = answer(verdict, 500, reason(500))
        if out is not None:
            source.send(out)
    return True


class _Overlong(Exception):
    """A header section longer than MAX_HEAD: the stream's framing is given up."""


async def _message(reader: asyncio.StreamReader, timeout: float) -> tuple[bytes, bool] | None:
    """The next message of a stream and whether it is framed (a usable Content-Length: else only its
    header section, to be refused), or None when the peer closed the stream.

    A connection may stay idle for ever (a registered phone waits for its calls on it), but once a
    message's first byte has come, the whole of it must come within `timeout` seconds: a sender that
    trickles bytes (slow loris) cannot hold the connection and its buffer for ever (TimeoutError)."""
    while True:
        first = await reader.read(1)
        if not first:
            return None
        if first == b"\n":
            continue  # a bare LF between messages: its line is over
        async with asyncio.timeout(timeout):
            line = first + await reader.readline()
            if line.strip(b"\r\n") == b"":
                continue  # CRLFs between messages: a keep-alive (RFC 5626 §3.5.1, RFC 3261 §7.5)
            head = line
            while line.strip(b"\r\n"):  # up to the empty line, ended by CRLF or a bare LF (checks.split_head)
                line = await reader.readline()
                if not line.endswith(b"\n"):
                    return None  # the peer closed the stream mid-message
                head += line
                if len(head) > MAX_HEAD:
                    raise _Overlong
            lengths = _CONTENT_LENGTH.findall(head)
            size = lengths[0] if len(lengths) == 1 else b""
            if not size.isdigit() or int(size) > MAX_BODY:
                return head, False
            return head + await reader.readexactly(int(size)), True


async def _stream(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    streams: dict[tuple[str, int], asyncio.StreamWriter],
    timeout: float,
) -> None:
    peer = writer.get_extra_info("peername")[:2]
    source = Source("tcp", peer, writer.write)
    streams[peer] = writer
    try:
        while True:
            try:
                message = await _message(reader, timeout)
            except (_Overlong, ValueError):  # ValueError: one line longer than the reader's limit
                status = f"SIP/2.0 400 {reason(400, 'header section too long')}"
                source.send(f"{status}\r\nContent-Length: 0\r\n\r\n".encode())
                return
            except TimeoutError:
                why = "a message not whole %g s after its first byte"
                log.info("closed the TCP connection from %s: " + why, peer, timeout)
                return
            if message is None:
                return  # the peer closed the stream
            data, framed = message
            if not framed:
                _received(data, source, handler, reliable=True)  # answered 400 on its Content-Length
                return
            if not _received(data, source, handler, reliable=True):
                return
            if not await _left(writer.drain(), timeout):
                _abort(writer, peer, "its answers not read %g s after they were due", timeout)
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        if streams.get(peer) is writer:
            del streams[peer]
        writer.close()  # sends what is still buffered first: bounded like the rest
        if not await _left(writer.wait_closed(), timeout):
            _abort(writer, peer, "what was left to send not read %g s after it was closed", timeout)


async def _left(sending: Awaitable[None], timeout: float) -> bool:
    """Whether what was written to a stream left within `timeout` seconds: a peer that stops reading
    fills the socket's buffers, and then a drain or a close waits for as long as it does."""
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            await sending
    except (ConnectionError, TimeoutError):  # a lost connection (even by ETIMEDOUT) has nothing left to wait for
        return not deadline.expired()
    return True


def _abort(writer: asyncio.StreamWriter, peer: tuple[str, int], why: str, timeout: float) -> None:
    """Close the connection now, dropping what it still had to send (a close would wait to send it)."""
    log.info("closed the TCP connection from %s: " + why, peer, timeout)
    writer.transport.abort()


class _Admission:
    """How many TCP connections each source address holds: past `limit`, a new one is closed at accept,
    so that one address cannot take every file descriptor the server has."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}
        self.refusing: set[str] = set()  # addresses at the cap, told once in the log until they fall below

    @contextlib.contextmanager
    def admitted(self, host: str) -> Iterator[bool]:
        if self.open.get(host, 0) >= self.limit:
            if host not in self.refusing:
                log.warning("closing TCP connections from %s at accept: %d open from it already", host, self.limit)
                self.refusing.add(host)
            yield False
            return
        self.open[host] = self.open.get(host, 0) + 1
        try:
            yield True
        finally:
            self.open[host] -= 1
            if not self.open[host]:
                del self.open[host]
            self.refusing.discard(host)


@contextlib.asynccontextmanager
async def listening(
    host: str, port: int, handler: Handler, limits: StreamLimits = StreamLimits()
) -> AsyncIterator[Transports]:
    """SIP on UDP and TCP at host:port (port 0: a free one, the same for both)."""
    loop = asyncio.get_running_loop()
    transports = Transports(handler, limits)
    admission = _Admission(limits.per_address)

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with admission.admitted(writer.get_extra_info("peername")[0]) as admitted:
            if admitted:
                await _stream(reader, writer, handler, transports.streams, limits.message_timeout)
            else:
                writer.close()

    server = await asyncio.start_server(accepted, host, port, limit=MAX_HEAD)
    bound = server.sockets[0].getsockname()[:2]
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(handler), local_addr=(host, bound[1]))
    except OSError:
        server.close()
        raise
    transports.address, transports.datagrams = (bound[0], bound[1]), transport
    log.info("SIP on udp and tcp %s:%d", bound[0], bound[1])
    try:
        async with asyncio.TaskGroup() as group:
            transports.group = group
            try:
                yield transports
            finally:
                transports.close()  # the connections it opened, cancelled: the group then ends
    finally:
        transports.group = None
        transport.close()
        server.close()
        await server.wait_closed()

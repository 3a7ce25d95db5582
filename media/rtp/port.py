"""One UDP port per call leg: what comes in goes to the leg's listener, what goes out is the leg's stream.

The remote address is the one the peer's SDP gave until its first packet arrives, then where that
packet came from (symmetric RTP, as rtpengine and Asterisk's `rtp_symmetric` do: a phone behind NAT
cannot know the address its packets leave from). Once latched, packets from anywhere else are dropped
(nobody can take over a call's audio by sending to its port) unless the latched source has been
silent for `RELATCH_AFTER` seconds (the phone's NAT binding changed). The outgoing stream has the ACD's own SSRC and
numbering, whatever it carries (music, then the agent, then music again): a phone sees one stream whose
timestamps go on from where they were (RFC 3550 §5.1), not three that jump.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Callable

from acd.clock import SYSTEM_CLOCK, Clock
from media.rtp.packets import RtpError, RtpPacket, header, is_rtcp

log = logging.getLogger("media.rtp")

#: Samples in a 20 ms frame at the 8 kHz RTP clock (G.722 too: RFC 3551 §4.5.2 keeps its clock at 8 kHz).
FRAME_SAMPLES = 160
#: Seconds the latched source must be silent before packets from another address take its place.
RELATCH_AFTER = 2.0

Listener = Callable[[RtpPacket], None]


class RtpPort(asyncio.DatagramProtocol):
    """A leg's RTP port: receive, latch onto the peer, and send one continuous stream."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.transport: asyncio.DatagramTransport | None = None
        self.local: tuple[str, int] = ("", 0)
        self.remote: tuple[str, int] | None = None
        self.latched = False  # whether `remote` is where the peer's packets come from (not only its SDP)
        self.listener: Listener | None = None
        self.heard_at = clock()  # when the peer last sent RTP (a start counts as heard)
        self.received = self.sent = 0
        self._ssrc = secrets.randbits(32)
        self._sequence = secrets.randbits(16)
        self._timestamp = secrets.randbits(32)
        self._source: int | None = None  # the SSRC being relayed, and the offset of its timestamps
        self._offset = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if is_rtcp(data):
            return  # reports are not relayed: each leg is its own RTP session
        now = self.clock()
        if addr != self.remote and self.latched and now - self.heard_at < RELATCH_AFTER:
            return  # not the peer: its source is alive elsewhere
        try:
            packet = RtpPacket.parse(data)
        except RtpError as error:
            log.debug("dropped a datagram from %s: %s", addr, error)
            return
        self.remote, self.latched = addr, True
        self.heard_at = now
        self.received += 1
        if self.listener is not None:
            self.listener(packet)

    def expect(self, address: tuple[str, int]) -> None:
        """Where the peer's SDP says to send: used until its own packets say otherwise."""
        if not self.latched:
            self.remote = address

    def send(self, payload: bytes, payload_type: int, *, samples: int = FRAME_SAMPLES, marker: bool = False) -> None:
        """A frame of the ACD's own (music, a prompt): its timestamp follows the previous frame's."""
        self._source = None
        self._timestamp = (self._timestamp + samples) & 0xFFFFFFFF
        self._emit(payload, payload_type, self._timestamp, marker)

    def relay(self, packet: RtpPacket, payload: bytes, payload_type: int) -> None:
        """A frame from the other leg: its timing kept (DTMF events share a timestamp), moved onto ours."""
        if packet.ssrc != self._source:  # a new source: its first frame follows our last one
            self._source = packet.ssrc
            self._offset = (self._timestamp + FRAME_SAMPLES - packet.timestamp) & 0xFFFFFFFF
            marker = True
        else:
            marker = packet.marker
        timestamp = (packet.timestamp + self._offset) & 0xFFFFFFFF
        self._timestamp = timestamp
        self._emit(payload, payload_type, timestamp, marker)

    def _emit(self, payload: bytes, payload_type: int, timestamp: int, marker: bool) -> None:
        if self.transport is None or self.remote is None:
            return
        self._sequence = (self._sequence + 1) & 0xFFFF
        self.transport.sendto(
            header(payload_type, marker, self._sequence, timestamp, self._ssrc) + payload, self.remote
        )
        self.sent += 1

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None


class PortRange:
    """The UDP ports calls may use (a firewall opens these), handed out in turn."""

    def __init__(self, host: str, first: int, last: int, clock: Clock = SYSTEM_CLOCK) -> None:
        if not 1024 <= first <= last <= 65535:
            raise ValueError(f"RTP port range {first}-{last} is not within 1024-65535")
        self.host, self.first, self.last = host, first, last
        self.clock = clock  # its monotonic time tells when a port last heard its peer
        self._next = first

    async def open(self) -> RtpPort:
        """A port of the range bound on the host, or OSError when every one is taken."""
        loop = asyncio.get_running_loop()
        size = self.last - self.first + 1
        for _ in range(size):
            port, self._next = self._next, self.first + (self._next + 1 - self.first) % size
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind((self.host, port))
            except OSError:
                sock.close()
                continue
            sock.setblocking(False)
            _, protocol = await loop.create_datagram_endpoint(lambda: RtpPort(self.clock.monotonic), sock=sock)
            protocol.local = (self.host, port)
            return protocol
        raise OSError(f"no free RTP port in {self.first}-{self.last}")

"""A caller's voice for the tests: a UDP port that sends a tone as G.711 A-law RTP (20 ms packets) to
whoever sends it RTP first (the ACD, symmetric RTP), and keeps what it receives, decoded."""

from __future__ import annotations

import random
import socket
import threading
import time
from array import array
from typing import Self

from media.rtp.packets import RtpError, RtpPacket, is_rtcp
from media.rtp.transcode import PCMA, from_pcm8k, to_pcm8k
from tests.pulse import tone_samples

RATE = 8_000
FRAME = RATE // 50


class RtpPeer:
    def __init__(self, tone: float) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.02)
        self.port = self.socket.getsockname()[1]
        self.voice = from_pcm8k(PCMA)(tone_samples(tone, 1.0, RATE).tobytes())  # a second, looped
        self.heard: list[tuple[float, bytes]] = []  # (when, 16-bit PCM) of each packet received
        self.remote: tuple[str, int] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtp-peer", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self.socket.close()

    def heard_since(self, since: float) -> array[int]:
        return array("h", b"".join(pcm for when, pcm in list(self.heard) if when >= since))

    def _run(self) -> None:
        decode = to_pcm8k(PCMA)
        sequence, timestamp, ssrc = 0, 0, random.getrandbits(32)
        next_send = time.monotonic()
        while not self._stopping.is_set():
            try:
                data, source = self.socket.recvfrom(2048)
            except TimeoutError:
                data, source = b"", None
            if data and not is_rtcp(data):
                try:
                    packet = RtpPacket.parse(data)
                except RtpError:
                    packet = None
                if packet is not None and packet.payload_type == PCMA:
                    self.remote = source
                    self.heard.append((time.monotonic(), decode(packet.payload)))
            while self.remote is not None and time.monotonic() >= next_send:
                offset = (sequence * FRAME) % RATE
                payload = self.voice[offset : offset + FRAME]
                packet = RtpPacket(PCMA, sequence == 0, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc, payload)
                self.socket.sendto(bytes(packet), self.remote)
                sequence, timestamp, next_send = sequence + 1, timestamp + FRAME, next_send + 0.02
            if self.remote is None:
                next_send = time.monotonic()

"""Prompts said to one caller: 8 kHz PCM played once in the caller's codec, then the player says so.

One frame per 20 ms tick of the shared ticker, encoded as it goes (a G.722 coder keeps its state from
one frame to the next, so each prompt has its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from media.rtp.music import FRAME_BYTES
from media.rtp.port import RtpPort
from media.rtp.ticker import Ticker
from media.rtp.transcode import from_pcm8k


@dataclass(slots=True)
class _Saying:
    pcm: bytes
    encode: Callable[[bytes], bytes]
    payload_type: int
    on_done: Callable[[], None]
    offset: int = 0


class PromptPlayer:
    def __init__(self, ticker: Ticker) -> None:
        self._saying: dict[RtpPort, _Saying] = {}
        ticker.add(self, self._tick)

    def play(self, port: RtpPort, payload_type: int, pcm: bytes, on_done: Callable[[], None]) -> None:
        """Say `pcm` on `port` (replacing what it was saying, which is not reported done); `on_done` after
        its last frame."""
        self._saying[port] = _Saying(pcm, from_pcm8k(payload_type), payload_type, on_done)

    def stop(self, port: RtpPort) -> None:
        self._saying.pop(port, None)

    def playing(self, port: RtpPort) -> bool:
        return port in self._saying

    def _tick(self) -> None:
        finished: list[_Saying] = []
        for port, saying in list(self._saying.items()):
            frame = saying.pcm[saying.offset : saying.offset + FRAME_BYTES]
            if len(frame) < FRAME_BYTES:
                frame += bytes(FRAME_BYTES - len(frame))
            port.send(saying.encode(frame), saying.payload_type, marker=saying.offset == 0)
            saying.offset += FRAME_BYTES
            if saying.offset >= len(saying.pcm):
                del self._saying[port]
                finished.append(saying)
        for saying in finished:  # after the loop: a callback may start the next prompt on the same port
            saying.on_done()

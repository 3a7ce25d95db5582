"""A call recorded to a stereo WAV file: the caller on the left, the agent on the right.

Each side's decoded frames wait in a short buffer; every 20 ms tick writes one frame of each (silence
for a side that sent nothing, as when a phone stops sending while muted), so the two channels stay
in step with the wall clock. A side that sends faster than the clock loses its oldest frames beyond
`MAX_FRAMES_BEHIND` rather than drifting away from the other.
"""

from __future__ import annotations

import wave
from array import array
from pathlib import Path

from media.rtp.music import FRAME_BYTES

MAX_FRAMES_BEHIND = 5
_SILENCE = bytes(FRAME_BYTES)


class Recording:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = wave.open(str(path), "wb")  # noqa: SIM115 (open for the call's length; close() ends it)
        self._file.setnchannels(2)
        self._file.setsampwidth(2)
        self._file.setframerate(8000)
        self._sides = (bytearray(), bytearray())
        self.frames = 0

    def caller(self, pcm: bytes) -> None:
        self._add(self._sides[0], pcm)

    def agent(self, pcm: bytes) -> None:
        self._add(self._sides[1], pcm)

    @staticmethod
    def _add(buffer: bytearray, pcm: bytes) -> None:
        buffer += pcm
        excess = len(buffer) - MAX_FRAMES_BEHIND * FRAME_BYTES
        if excess > 0:
            del buffer[:excess]

    def tick(self) -> None:
        """Write the next 20 ms of both sides."""
        left, right = (self._take(side) for side in self._sides)
        stereo = array("h", bytes(FRAME_BYTES * 2))
        stereo[0::2] = array("h", left)
        stereo[1::2] = array("h", right)
        self._file.writeframes(stereo.tobytes())
        self.frames += 1

    @staticmethod
    def _take(buffer: bytearray) -> bytes:
        if len(buffer) < FRAME_BYTES:
            frame = bytes(buffer) + _SILENCE[len(buffer) :]
            buffer.clear()
            return frame
        frame = bytes(buffer[:FRAME_BYTES])
        del buffer[:FRAME_BYTES]
        return frame

    def close(self) -> None:
        self._file.close()


class Message:
    """A caller's message (IVR voicemail): its frames as they come, to a mono WAV file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = wave.open(str(path), "wb")  # noqa: SIM115 (open while the caller speaks; close() ends it)
        self._file.setnchannels(1)
        self._file.setsampwidth(2)
        self._file.setframerate(8000)
        self.samples = 0

    def add(self, pcm: bytes) -> None:
        self._file.writeframes(pcm)
        self.samples += len(pcm) // 2

    @property
    def seconds(self) -> float:
        return self.samples / 8000

    def close(self) -> None:
        self._file.close()

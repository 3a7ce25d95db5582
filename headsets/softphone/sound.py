"""The call's audio between PJSIP's clock and the sound device's: two short queues of 20 ms frames.

PJSIP asks for and hands over a frame every 20 ms on its clock; the sound device's callbacks run on the
device's clock. The two drift apart slowly and jitter quickly, so each direction is a queue bounded to a
few frames (latency stays under 100 ms: the oldest frame goes first when it grows), and an empty queue
gives silence (a device gone, or not yet started, never stops the call). Muting replaces the microphone
with silence here, in the audio path, whatever the headset does.

Optional noise suppression and gain control (the `webrtc-noise-gain` package, WebRTC's audio
processing) clean the microphone 10 ms at a time before the frame is queued.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Protocol

RATE = 16_000
FRAME_BYTES = RATE // 50 * 2  # 20 ms of 16-bit mono
SILENCE = bytes(FRAME_BYTES)
MOST_FRAMES = 4  # 80 ms: beyond it the oldest frame is dropped


class Cleaner(Protocol):
    """Cleans 10 ms (320 bytes at 16 kHz) of microphone audio."""

    def __call__(self, chunk: bytes) -> bytes: ...


def webrtc_cleaner(gain_dbfs: int = 3, suppression: int = 2) -> Cleaner:
    """Noise suppression and automatic gain from `webrtc-noise-gain`; ImportError when it is not installed."""
    from webrtc_noise_gain import AudioProcessor

    processor = AudioProcessor(gain_dbfs, suppression)

    def clean(chunk: bytes) -> bytes:
        return bytes(processor.Process10ms(chunk).audio)

    return clean


class Sound:
    """The two queues: `earpiece_frame` / `microphone_frame` for PJSIP, `play` / `record` for the device."""

    def __init__(self, cleaner: Cleaner | None = None) -> None:
        self.muted = False
        self.cleaner = cleaner
        self._earpiece: deque[bytes] = deque(maxlen=MOST_FRAMES)
        self._microphone: deque[bytes] = deque(maxlen=MOST_FRAMES)
        self._partial = bytearray()  # the microphone's blocks need not be 20 ms...
        self._rest = b""  # ...nor the earpiece's
        self._lock = threading.Lock()  # `record` and `forget` come from different threads

    # PJSIP's side (its clock thread)

    def earpiece_frame(self, frame: bytes) -> None:
        self._earpiece.append(frame)

    def microphone_frame(self) -> bytes:
        try:
            frame = self._microphone.popleft()
        except IndexError:
            return SILENCE
        return SILENCE if self.muted else frame

    # the device's side (its callback thread)

    def play(self, size: int) -> bytes:
        """`size` bytes for the earpiece: the call's frames, silence where there are none."""
        out = bytearray(self._rest)
        while len(out) < size:
            try:
                out += self._earpiece.popleft()
            except IndexError:
                out += bytes(size - len(out))
        self._rest = bytes(out[size:])  # a frame cut in two: its rest is played first next time
        return bytes(out[:size])

    def record(self, data: bytes) -> None:
        """Audio from the microphone, any block size."""
        with self._lock:
            self._partial += data
            while len(self._partial) >= FRAME_BYTES:
                frame = bytes(self._partial[:FRAME_BYTES])
                del self._partial[:FRAME_BYTES]
                if self.cleaner is not None:
                    half = FRAME_BYTES // 2
                    frame = self.cleaner(frame[:half]) + self.cleaner(frame[half:])
                self._microphone.append(frame)

    def forget(self) -> None:
        """Drop what is queued (a call ended, or the device changed): no stale audio in the next call."""
        with self._lock:
            self._earpiece.clear()
            self._microphone.clear()
            self._partial.clear()
            self._rest = b""

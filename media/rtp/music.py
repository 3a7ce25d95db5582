"""Music on hold: a WAV file from config/, looped, in each listener's codec, from its own beginning."""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

from media.errors import MediaError
from media.rtp.port import FRAME_SAMPLES, RtpPort
from media.rtp.ticker import Ticker
from media.rtp.transcode import from_pcm8k

FRAME_BYTES = FRAME_SAMPLES * 2


class Music:
    """Audio cut into 20 ms frames, encoded once per codec and shared by every caller who hears it."""

    def __init__(self, pcm: bytes) -> None:
        if len(pcm) < FRAME_BYTES:
            raise MediaError("music shorter than one 20 ms frame")
        whole = len(pcm) // FRAME_BYTES * FRAME_BYTES
        self._pcm = [pcm[start : start + FRAME_BYTES] for start in range(0, whole, FRAME_BYTES)]
        self._encoded: dict[int, list[bytes]] = {}

    @classmethod
    def chime(cls) -> Music:
        """Four soft notes and a pause, made here: the music when the configuration names none."""
        rate, notes = 8000, (523.25, 659.25, 783.99, 659.25)  # C5 E5 G5 E5
        samples = array("h")
        for frequency in notes:
            length = rate // 2
            for n in range(length):
                envelope = min(1.0, n / 400) * (1 - n / length)  # a soft attack, a linear fade
                samples.append(int(6000 * envelope * math.sin(2 * math.pi * frequency * n / rate)))
        samples.extend([0] * rate)  # a second of silence
        return cls(samples.tobytes())

    @classmethod
    def load(cls, path: Path) -> Music:
        """A mono 16-bit 8 kHz WAV file (what telephony plays; convert others with sox first)."""
        try:
            with wave.open(str(path), "rb") as audio:
                shape = (audio.getnchannels(), audio.getsampwidth(), audio.getframerate())
                if shape != (1, 2, 8000):
                    raise MediaError(f"{path}: music must be mono 16-bit 8000 Hz WAV, not {shape}")
                return cls(audio.readframes(audio.getnframes()))
        except (OSError, wave.Error, EOFError) as error:
            raise MediaError(f"{path}: not a readable WAV file ({error})") from error

    def frames(self, payload_type: int) -> list[bytes]:
        if payload_type not in self._encoded:
            encode = from_pcm8k(payload_type)  # one coder over the whole loop: G.722 keeps state
            self._encoded[payload_type] = [encode(frame) for frame in self._pcm]
        return self._encoded[payload_type]


class MusicPlayer:
    """Plays music to the ports that hold a waiting caller, one frame each per tick."""

    def __init__(self, music: Music, ticker: Ticker) -> None:
        self.music = music
        self._playing: dict[RtpPort, tuple[list[bytes], int, int]] = {}  # frames, payload type, next index
        ticker.add(self, self._tick)

    def play(self, port: RtpPort, payload_type: int) -> None:
        if port not in self._playing:
            self._playing[port] = (self.music.frames(payload_type), payload_type, 0)

    def stop(self, port: RtpPort) -> None:
        self._playing.pop(port, None)

    def playing(self, port: RtpPort) -> bool:
        return port in self._playing

    def _tick(self) -> None:
        for port, (frames, payload_type, index) in self._playing.items():
            port.send(frames[index], payload_type, marker=index == 0)
            self._playing[port] = (frames, payload_type, (index + 1) % len(frames))

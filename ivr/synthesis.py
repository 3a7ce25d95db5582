"""IVR prompts as telephony audio: text spoken by espeak-ng, or a recorded WAV file, as 8 kHz mono PCM.

The PCM returned is signed 16-bit in the host's order (av's "s16", `wave` and `array` are all native),
which is the little-endian telephony order on every host this runs on; its length is a whole number of
20 ms frames, ready to be cut for RTP.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import threading
import wave
from array import array
from pathlib import Path

import av

from ivr.errors import IvrError

RATE = 8000
FRAME_BYTES = RATE // 50 * 2  # 20 ms of 16-bit samples
PEAK = 0.7  # of full scale, about -3 dBFS: loud enough, with room for the codecs' overshoot
DEFAULT_SPEED = 160  # words per minute: espeak-ng's 175 is hurried over a phone line
ESPEAK = "espeak-ng"
ESPEAK_TIMEOUT = 60.0  # seconds: a hung espeak-ng must not hold a worker thread for ever

#: The espeak-ng voice of each language a flow may speak (`espeak-ng --voices=fr` lists them).
VOICES = {"fr": "fr-fr", "en": "en-gb"}

_UNAVAILABLE = "espeak-ng is not installed: apt-get install espeak-ng, or give a recorded WAV file for each prompt"


class SpeechError(IvrError):
    """A prompt could not be made into audio."""


class SpeechUnavailable(SpeechError):
    """espeak-ng is not installed."""


class PromptFileError(SpeechError):
    """A recorded prompt file cannot be played."""


def to_telephony(pcm: bytes, rate: int, channels: int, *, normalise: bool = True) -> bytes:
    """16-bit PCM at any rate, mono or stereo, as 8 kHz mono padded to whole 20 ms frames."""
    if rate <= 0 or channels not in (1, 2):
        raise ValueError(f"cannot convert {channels} channels at {rate} Hz: mono or stereo at a positive rate")
    if len(pcm) % (2 * channels):
        raise ValueError(f"{len(pcm)} bytes is not a whole number of {channels}-channel 16-bit samples")
    out = _resample(pcm, rate, channels) if pcm else b""
    if normalise:
        out = _normalised(out)
    return out + bytes(-len(out) % FRAME_BYTES)


def _resample(pcm: bytes, rate: int, channels: int) -> bytes:
    frame = av.AudioFrame(
        format="s16", layout="mono" if channels == 1 else "stereo", samples=len(pcm) // (2 * channels)
    )
    frame.planes[0].update(pcm)
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)  # stereo is averaged into mono
    # None flushes the filter's delay line: without it the last few milliseconds are lost.
    frames = resampler.resample(frame) + resampler.resample(None)
    return b"".join(bytes(f.planes[0])[: f.samples * 2] for f in frames)  # planes are padded past the samples


def _normalised(pcm: bytes) -> bytes:
    samples = array("h", pcm)
    peak = max((abs(s) for s in samples), default=0)
    if peak == 0:
        return pcm  # silence stays silence
    gain = PEAK * 32767 / peak
    return array("h", (max(-32768, min(32767, round(s * gain))) for s in samples)).tobytes()


def seconds(pcm: bytes) -> float:
    """How long telephony PCM plays."""
    return len(pcm) / (2 * RATE)


def synthesize(text: str, language: str, *, speed: int = DEFAULT_SPEED) -> bytes:
    """Telephony PCM of `text` spoken by espeak-ng in `language` ("fr", "en")."""
    voice = _voice(language)
    _check_text(text)
    with tempfile.TemporaryDirectory(prefix="ivr-speech-") as scratch:
        out = Path(scratch) / "speech.wav"
        # "--" ends espeak-ng's options, so a text starting with "-" is spoken, not parsed as an option.
        command = [ESPEAK, "-v", voice, "-s", str(speed), "-w", str(out), "--", text]
        try:
            done = subprocess.run(
                command, stdin=subprocess.DEVNULL, capture_output=True, timeout=ESPEAK_TIMEOUT, check=False
            )
        except FileNotFoundError as error:
            raise SpeechUnavailable(_UNAVAILABLE) from error
        except subprocess.TimeoutExpired as error:
            raise SpeechError(f"espeak-ng did not finish within {ESPEAK_TIMEOUT:g} s") from error
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace").strip()
            raise SpeechError(f"espeak-ng failed (exit {done.returncode}): {stderr or 'no message'}")
        try:
            pcm, rate, channels = _read_pcm(out)
            return to_telephony(pcm, rate, channels)
        except (OSError, EOFError, wave.Error, ValueError) as error:
            raise SpeechError(f"espeak-ng wrote no usable WAV file: {error}") from error


def _voice(language: str) -> str:
    try:
        return VOICES[language]
    except KeyError:
        raise ValueError(f"no voice for language {language!r}: one of {', '.join(sorted(VOICES))}") from None


def _check_text(text: str) -> None:
    if not text.strip():
        raise ValueError("a prompt to speak needs some text")


def read_wav(path: Path) -> bytes:
    """A recorded prompt as telephony PCM: any 16-bit PCM WAV, converted but kept at its own level."""
    try:
        pcm, rate, channels = _read_pcm(path)
    except FileNotFoundError as error:
        raise PromptFileError(f"{path}: no such file") from error
    except (OSError, EOFError, wave.Error) as error:
        # An EOFError (a file too short to hold a WAV header) says nothing by itself.
        why = str(error) or ("it ends before its WAV header does" if isinstance(error, EOFError) else repr(error))
        raise PromptFileError(f"{path}: not a readable PCM WAV file ({why})") from error
    if len(pcm) * 50 < rate * 2 * channels:
        raise PromptFileError(f"{path}: shorter than 20 ms")
    try:
        return to_telephony(pcm, rate, channels, normalise=False)
    except (ValueError, av.FFmpegError) as error:
        raise PromptFileError(f"{path}: cannot be converted ({error})") from error


def _read_pcm(path: Path) -> tuple[bytes, int, int]:
    """The samples, rate and channel count of a 16-bit WAV file; wave.Error if it is another kind."""
    with wave.open(str(path), "rb") as audio:
        width, rate, channels = audio.getsampwidth(), audio.getframerate(), audio.getnchannels()
        if width != 2:
            raise wave.Error(f"{8 * width}-bit samples, not 16-bit")
        if channels not in (1, 2):
            raise wave.Error(f"{channels} channels, not mono or stereo")
        if rate <= 0:
            raise wave.Error(f"sample rate {rate}")
        pcm = audio.readframes(audio.getnframes())
    return pcm[: len(pcm) // (2 * channels) * (2 * channels)], rate, channels  # a truncated last frame dropped


class PromptCache:
    """Prompts made once: speech kept as WAV files in `directory` (and in memory), recordings in memory.

    A speech file is named `<text key>-<version key>.wav`: the text key hashes the voice, speed and text,
    the version key espeak-ng's version, so an upgraded espeak-ng speaks again, and a process without
    espeak-ng still finds what an earlier one spoke.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()  # guards the memos and the version, never held while espeak-ng runs
        self._speech: dict[tuple[str, int, str], bytes] = {}
        self._recorded: dict[Path, bytes] = {}
        self._version: str | None = None

    def speech(self, text: str, language: str) -> bytes:
        """Telephony PCM of `text` in `language`, from memory, from the directory, or spoken now."""
        voice = _voice(language)
        _check_text(text)
        key = (voice, DEFAULT_SPEED, text)
        with self._lock:
            pcm = self._speech.get(key)
        if pcm is not None:
            return pcm
        pcm = self._from_disk(key, language)
        with self._lock:
            return self._speech.setdefault(key, pcm)  # two threads may both speak it: keep one

    def recorded(self, path: Path) -> bytes:
        """`read_wav(path)`, read once per process."""
        with self._lock:
            pcm = self._recorded.get(path)
        if pcm is None:
            pcm = read_wav(path)
            with self._lock:
                pcm = self._recorded.setdefault(path, pcm)
        return pcm

    def _from_disk(self, key: tuple[str, int, str], language: str) -> bytes:
        voice, speed, text = key
        text_key = _sha256(voice, str(speed), text)
        try:
            version = self._espeak_version()
        except SpeechUnavailable:
            # No espeak-ng to speak with nor to ask its version: any earlier process's file will do.
            for candidate in self._candidates(text_key):
                pcm = _read_cached(candidate)
                if pcm is not None:
                    return pcm
            raise
        name = f"{text_key}-{_sha256(version)[:16]}.wav"
        pcm = _read_cached(self.directory / name)
        if pcm is None:  # missing or corrupt: speak it and (re)place the file
            pcm = synthesize(text, language, speed=speed)
            self._write(name, pcm)
            for stale in self._candidates(text_key):
                if stale.name != name:
                    stale.unlink(missing_ok=True)  # spoken by an older espeak-ng
        return pcm

    def _candidates(self, text_key: str) -> list[Path]:
        """This text's files of any espeak-ng version, the newest first."""
        dated: list[tuple[float, Path]] = []
        for path in self.directory.glob(f"{text_key}-*.wav"):  # a hex key holds no glob characters
            try:
                dated.append((path.stat().st_mtime, path))
            except OSError:
                continue  # replaced or removed meanwhile
        return [path for _, path in sorted(dated, reverse=True)]

    def _espeak_version(self) -> str:
        with self._lock:
            if self._version is not None:
                return self._version
        try:
            done = subprocess.run(
                [ESPEAK, "--version"], stdin=subprocess.DEVNULL, capture_output=True, timeout=ESPEAK_TIMEOUT, check=True
            )
        except FileNotFoundError as error:
            raise SpeechUnavailable(_UNAVAILABLE) from error  # not remembered: it may be installed later
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            raise SpeechError(f"espeak-ng --version failed: {error}") from error
        version = done.stdout.decode(errors="replace").strip()
        with self._lock:
            self._version = version
        return version

    def _write(self, name: str, pcm: bytes) -> None:
        """The file written whole under a temporary name, then renamed: no reader sees half of it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                with wave.open(file, "wb") as audio:
                    audio.setnchannels(1)
                    audio.setsampwidth(2)
                    audio.setframerate(RATE)
                    audio.writeframes(pcm)
                file.flush()
                os.fsync(file.fileno())  # the data on disk before the name points at it
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the file from a service run as another user
            os.replace(temporary, self.directory / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _read_cached(path: Path) -> bytes | None:
    """A cached speech file's PCM, or None when it is missing or not what this module writes."""
    try:
        with wave.open(str(path), "rb") as audio:
            if (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) != (1, 2, RATE):
                return None
            frames = audio.getnframes()
            pcm = audio.readframes(frames)
    except (OSError, EOFError, wave.Error):
        return None
    if not pcm or len(pcm) != 2 * frames or len(pcm) % FRAME_BYTES:
        return None  # truncated, or not written here
    return pcm


def _sha256(*parts: str) -> str:
    # NUL between parts: ("ab", "c") and ("a", "bc") must not share a key.
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()

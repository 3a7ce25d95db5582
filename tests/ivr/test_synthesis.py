"""Prompts as telephony audio, against the real espeak-ng: speech, recorded files, and the prompt cache."""

from __future__ import annotations

import math
import wave
from array import array
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import pytest

from ivr.synthesis import (
    FRAME_BYTES,
    RATE,
    PromptCache,
    PromptFileError,
    SpeechError,
    SpeechUnavailable,
    read_wav,
    seconds,
    synthesize,
    to_telephony,
)

WELCOME = "Bienvenue au centre de contact des professionnels"
FULL_SCALE = 32767


def rms(pcm: bytes) -> float:
    samples = array("h", pcm)
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def peak(pcm: bytes) -> int:
    return max(abs(s) for s in array("h", pcm))


def zero_crossings(pcm: bytes) -> int:
    samples = array("h", pcm)
    return sum((a < 0) != (b < 0) for a, b in pairwise(samples))


def write_wav(path: Path, frames: bytes, *, rate: int, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(width)
        audio.setframerate(rate)
        audio.writeframes(frames)
    return path


def tone(frequency: float, duration: float, rate: int, *, channels: int = 1, amplitude: int = 10000) -> bytes:
    samples = array("h")
    for n in range(round(duration * rate)):
        samples.extend([round(amplitude * math.sin(2 * math.pi * frequency * n / rate))] * channels)
    return samples.tobytes()


def no_espeak(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """espeak-ng cannot be found from here on: PATH holds only an empty directory."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def assert_plausible_speech(pcm: bytes, low: float, high: float) -> None:
    assert low <= seconds(pcm) <= high
    assert len(pcm) % FRAME_BYTES == 0
    assert rms(pcm) > 0.05 * FULL_SCALE  # speech, not silence nor a click
    assert abs(peak(pcm) - 0.7 * FULL_SCALE) <= 0.01 * FULL_SCALE


def test_french_speech_is_heard_at_about_minus_3_dbfs() -> None:
    assert_plausible_speech(synthesize(WELCOME, "fr"), 1.5, 6.0)


def test_english_speech_is_heard_at_about_minus_3_dbfs() -> None:
    assert_plausible_speech(synthesize("Welcome to the professional contact centre", "en"), 1.5, 6.0)


def test_a_longer_text_is_longer_audio() -> None:
    short = synthesize("Bonjour", "fr")
    long = synthesize("Bonjour. Tous nos conseillers sont occupés, merci de patienter quelques instants.", "fr")
    assert seconds(long) > seconds(short) + 1.0


def test_a_slower_speed_is_longer_audio() -> None:
    assert seconds(synthesize(WELCOME, "fr", speed=100)) > seconds(synthesize(WELCOME, "fr", speed=250))


def test_text_starting_with_a_dash_is_spoken_not_taken_for_an_option() -> None:
    assert_plausible_speech(synthesize("-5 degrés ce matin, -v -w --help", "fr"), 1.0, 8.0)


@pytest.mark.parametrize("language", ["de", "", "FR", "fr-fr"])
def test_an_unknown_language_is_refused(language: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no voice"):
        synthesize(WELCOME, language)
    with pytest.raises(ValueError, match="no voice"):
        PromptCache(tmp_path).speech(WELCOME, language)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused(text: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="text"):
        synthesize(text, "fr")
    with pytest.raises(ValueError, match="text"):
        PromptCache(tmp_path).speech(text, "fr")


def test_without_espeak_ng_speech_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_espeak(monkeypatch, tmp_path)
    with pytest.raises(SpeechUnavailable, match="apt-get install espeak-ng, or give a recorded WAV file"):
        synthesize(WELCOME, "fr")


def test_to_telephony_leaves_silence_alone_and_pads_to_whole_frames() -> None:
    out = to_telephony(bytes(2 * 16000 // 3), 16000, 1)  # 1/3 s: not a whole number of 20 ms frames
    assert len(out) % FRAME_BYTES == 0
    assert 0.33 <= seconds(out) <= 0.34 + 0.02
    assert not any(out)


def test_to_telephony_normalises_a_quiet_tone_and_mixes_stereo_down() -> None:
    out = to_telephony(tone(440, 0.5, 44100, channels=2, amplitude=1000), 44100, 2)
    assert abs(seconds(out) - 0.5) <= 0.02
    assert abs(peak(out) - 0.7 * FULL_SCALE) <= 0.01 * FULL_SCALE


@pytest.mark.parametrize(
    ("pcm", "rate", "channels"), [(b"\0" * 3, 8000, 1), (b"\0" * 6, 8000, 2), (b"", 0, 1), (b"\0" * 12, 8000, 3)]
)
def test_to_telephony_refuses_what_is_not_16_bit_mono_or_stereo(pcm: bytes, rate: int, channels: int) -> None:
    with pytest.raises(ValueError):
        to_telephony(pcm, rate, channels)


def test_a_16_khz_stereo_recording_becomes_8_khz_mono_with_its_tone_and_level(tmp_path: Path) -> None:
    duration = 1.5
    path = write_wav(tmp_path / "tone.wav", tone(440, duration, 16000, channels=2), rate=16000, channels=2)
    pcm = read_wav(path)
    assert abs(seconds(pcm) - duration) <= 0.02
    assert len(pcm) % FRAME_BYTES == 0
    assert zero_crossings(pcm) == pytest.approx(2 * 440 * duration, rel=0.02)
    assert peak(pcm) == pytest.approx(10000, rel=0.05)  # a recording is converted, not made louder


def test_recorded_prompts_are_read_once(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "tone.wav", tone(440, 0.2, RATE), rate=RATE)
    cache = PromptCache(tmp_path / "cache")
    first = cache.recorded(path)
    path.unlink()
    assert cache.recorded(path) is first
    assert first == tone(440, 0.2, RATE)  # 8 kHz mono in whole frames: kept sample for sample


def test_read_wav_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.wav"
    not_wav = tmp_path / "not-a-wav.wav"
    not_wav.write_bytes(b"ID3 this is an mp3, or so it says" * 10)
    eight_bit = write_wav(tmp_path / "8bit.wav", bytes([128]) * 8000, rate=8000, width=1)
    twenty_four_bit = write_wav(tmp_path / "24bit.wav", bytes(3 * 8000), rate=8000, width=3)
    too_short = write_wav(tmp_path / "short.wav", tone(440, 0.019, 16000), rate=16000)
    for path, why in [
        (missing, "no such file"),
        (not_wav, "not a readable PCM WAV"),
        (eight_bit, "8-bit"),
        (twenty_four_bit, "24-bit"),
        (too_short, "shorter than 20 ms"),
    ]:
        with pytest.raises(PromptFileError, match=why) as caught:
            read_wav(path)
        assert str(path) in str(caught.value)
        assert isinstance(caught.value, SpeechError)


def cached_files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def read_cached(path: Path) -> tuple[tuple[int, int, int], bytes]:
    with wave.open(str(path), "rb") as audio:
        shape = (audio.getnchannels(), audio.getsampwidth(), audio.getframerate())
        return shape, audio.readframes(audio.getnframes())


def test_the_cache_keeps_speech_in_one_wav_file(tmp_path: Path) -> None:
    directory = tmp_path / "prompts" / "speech"  # created when missing
    cache = PromptCache(directory)
    pcm = cache.speech(WELCOME, "fr")
    assert cache.speech(WELCOME, "fr") is pcm
    [file] = cached_files(directory)
    assert file.suffix == ".wav"
    assert read_cached(file) == ((1, 2, 8000), pcm)
    assert pcm == synthesize(WELCOME, "fr")


def test_a_second_process_reads_the_file_without_espeak_ng(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    directory = tmp_path / "speech"
    pcm = PromptCache(directory).speech(WELCOME, "fr")
    no_espeak(monkeypatch, tmp_path)
    later = PromptCache(directory)
    assert later.speech(WELCOME, "fr") == pcm
    with pytest.raises(SpeechUnavailable) as caught:
        later.speech("Ce texte n'a jamais été dit", "fr")
    assert str(caught.value) == (
        "espeak-ng is not installed: apt-get install espeak-ng, or give a recorded WAV file for each prompt"
    )
    with pytest.raises(SpeechUnavailable):
        later.speech(WELCOME, "en")  # the same text in another voice is another prompt


def test_a_corrupt_cache_file_is_spoken_again_and_replaced(tmp_path: Path) -> None:
    pcm = PromptCache(tmp_path).speech(WELCOME, "fr")
    [file] = cached_files(tmp_path)
    file.write_bytes(file.read_bytes()[:1000])  # cut short, as by a full disk
    assert PromptCache(tmp_path).speech(WELCOME, "fr") == pcm
    assert cached_files(tmp_path) == [file]
    assert read_cached(file) == ((1, 2, 8000), pcm)
    file.write_bytes(b"not a wav at all")
    assert PromptCache(tmp_path).speech(WELCOME, "fr") == pcm
    assert read_cached(file) == ((1, 2, 8000), pcm)


def test_a_file_from_another_espeak_ng_version_is_replaced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    directory = tmp_path / "speech"
    pcm = PromptCache(directory).speech(WELCOME, "fr")
    [file] = cached_files(directory)
    text_key = file.name.split("-")[0]
    older = file.rename(directory / f"{text_key}-0123456789abcdef.wav")
    assert PromptCache(directory).speech(WELCOME, "fr") == pcm
    assert cached_files(directory) == [file]  # spoken again under this version's name, the older one gone
    older.write_bytes(file.read_bytes())
    file.unlink()
    no_espeak(monkeypatch, tmp_path)
    assert PromptCache(directory).speech(WELCOME, "fr") == pcm  # without espeak-ng, any version will do


def test_threads_asking_for_the_same_prompt_get_the_same_audio(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    texts = [WELCOME, "Merci de patienter", WELCOME, "Merci de patienter"] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda text: cache.speech(text, "fr"), texts))
    assert results[0::2] == [results[0]] * 6
    assert results[1::2] == [results[1]] * 6
    assert len(cached_files(tmp_path)) == 2
    assert cache.speech(WELCOME, "fr") is cache.speech(WELCOME, "fr")

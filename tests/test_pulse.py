"""The PulseAudio fixture the audio tests stand on: a tone played into a device is heard where it should be."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pulse import BUILT_IN, HEADSET, PulseServer, dominant_frequency, pulse_server, tone_samples


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[PulseServer]:
    with pulse_server(tmp_path / "pulse") as server:
        yield server


def test_the_headset_microphone_hears_its_feed_and_the_earpiece_monitor_what_it_plays(pulse: PulseServer) -> None:
    pulse.play_tone(HEADSET.feed, 440, 5)
    pulse.play_tone(HEADSET.sink, 1000, 5)
    pulse.play_tone(BUILT_IN.feed, 700, 5)
    assert round(dominant_frequency(pulse.record(HEADSET.source, 0.5), 16_000) or 0) == 440
    assert round(dominant_frequency(pulse.record(HEADSET.monitor, 0.5), 16_000) or 0) == 1000
    assert round(dominant_frequency(pulse.record(BUILT_IN.source, 0.5), 16_000) or 0) == 700
    assert dominant_frequency(pulse.record(BUILT_IN.monitor, 0.5), 16_000) is None  # the built-in speaker is silent


def test_an_unplugged_headset_takes_its_devices_and_tones_away(pulse: PulseServer) -> None:
    player = pulse.play_tone(HEADSET.sink, 1000, 5)
    pulse.unplug(HEADSET)
    assert player.poll() is not None  # not moved to the built-in speaker
    assert HEADSET.sink not in pulse.pactl("list", "short", "sinks")
    assert HEADSET.source not in pulse.pactl("list", "short", "sources")
    assert dominant_frequency(pulse.record(BUILT_IN.monitor, 0.3), 16_000) is None
    pulse.plug(HEADSET)
    pulse.play_tone(HEADSET.feed, 440, 5)
    assert round(dominant_frequency(pulse.record(HEADSET.source, 0.5), 16_000) or 0) == 440


def test_a_tone_is_told_from_silence_and_from_a_chord() -> None:
    silence = array("h", bytes(3200))
    assert dominant_frequency(silence + tone_samples(1000, 0.2, 16_000) + silence, 16_000) == pytest.approx(1000)
    assert dominant_frequency(silence, 16_000) is None
    chord = array("h", (a // 2 + b // 2 for a, b in zip(tone_samples(440, 1, 16_000), tone_samples(700, 1, 16_000))))
    assert dominant_frequency(chord, 16_000) is None

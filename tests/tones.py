"""Tones for the audio tests: made, and told apart by frequency."""

from __future__ import annotations

import math
from array import array

SILENCE = 300  # sample values up to this are silence (or the hiss of resampling) to dominant_frequency


def tone_samples(frequency: float, seconds: float, rate: int, amplitude: int = 10_000) -> array[int]:
    """A sine tone as mono 16-bit samples."""
    step = 2 * math.pi * frequency / rate
    return array("h", (round(amplitude * math.sin(step * n)) for n in range(round(seconds * rate))))


def dominant_frequency(samples: array[int], rate: int) -> float | None:
    """The frequency of the one tone the samples hold, or None for silence or a mixture of sounds.

    Silence before and after the tone is left out (a stream starting or ending within the recording). The
    tone's period is measured between its first and last upward zero crossings, then checked with Goertzel's
    filter: a pure tone puts nearly all the signal's energy at that frequency.
    """
    loud = [n for n, sample in enumerate(samples) if abs(sample) > SILENCE]
    if not loud:
        return None
    tone = samples[loud[0] : loud[-1] + 1]
    crossings = [
        n - 1 + tone[n - 1] / (tone[n - 1] - tone[n])  # interpolated between the two samples
        for n in range(1, len(tone))
        if tone[n - 1] < 0 <= tone[n]
    ]
    if len(crossings) < 3:
        return None
    frequency = (len(crossings) - 1) * rate / (crossings[-1] - crossings[0])
    energy = sum(sample * sample for sample in tone)
    purity = 2 * power(tone, rate, frequency) / (len(tone) * energy)  # 1 for a pure tone throughout
    return frequency if purity > 0.5 else None


def power(samples: array[int], rate: int, frequency: float) -> float:
    """The squared magnitude of the samples' component at `frequency` (Goertzel)."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    return previous * previous + before * before - coefficient * previous * before

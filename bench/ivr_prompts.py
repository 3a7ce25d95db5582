"""What the IVR's speech costs: the demo's prompts made at start (espeak-ng, then cached), and the
announcements made while a caller waits (position and estimated wait, spoken when said).

For each, the time to make the audio against the audio's own length (the real-time factor: below 1,
the speech is ready faster than it is said). A cold start synthesises every prompt of config/ivr in each
language; a warm start reads the cache; an announcement is synthesised once per text, then kept.

    .venv/bin/python -m bench.ivr_prompts [--announcements 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from acd.serve import load_configuration
from ivr.flow import PromptFile
from ivr.speech import position_sentence, wait_sentence
from ivr.synthesis import PromptCache, seconds

CONFIG = Path(__file__).resolve().parent.parent / "config"


def make_all(cache: PromptCache) -> tuple[float, float, int]:
    """Every prompt of every flow of the demo: (seconds taken, seconds of audio, prompts)."""
    flows = load_configuration(CONFIG).flows
    audio, count = 0.0, 0
    started = time.perf_counter()
    for flow in flows.values():
        for prompt in flow.prompts.values():
            for language in flow.languages:
                said = prompt[language]
                if not isinstance(said, PromptFile):
                    audio += seconds(cache.speech(said, language))
                    count += 1
    return time.perf_counter() - started, audio, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--announcements", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        cold_taken, audio, count = make_all(PromptCache(Path(directory)))
        warm_taken, _, _ = make_all(PromptCache(Path(directory)))  # a new process's cache: from the files
    print(f"{count} prompts, {audio:.1f} s of speech")
    print(f"cold start (espeak-ng): {cold_taken:.2f} s, real-time factor {cold_taken / audio:.4f}")
    print(f"warm start (cached WAV files): {warm_taken * 1000:.0f} ms")
    times, factors = [], []
    with tempfile.TemporaryDirectory() as directory:
        cache = PromptCache(Path(directory))
        for index in range(args.announcements):
            language = ("fr", "en")[index % 2]
            text = f"{position_sentence(index // 2 + 2, language)} {wait_sentence(60.0 * (index // 2 + 1), language)}"
            started = time.perf_counter()
            pcm = cache.speech(text, language)
            taken = time.perf_counter() - started
            times.append(taken)
            factors.append(taken / seconds(pcm))
    times.sort()
    print(
        f"announcement made while the caller waits: p50 {statistics.median(times) * 1000:.1f} ms, "
        f"p99 {times[int(len(times) * 0.99) - 1] * 1000:.1f} ms, real-time factor p50 {statistics.median(factors):.4f}"
    )


if __name__ == "__main__":
    main()

"""What a caller hears of the IVR, recorded by a PJSIP (pjsua2) caller through a running `acd serve`: the
prompts are actually said — not silence — and last as long as the prompts the ACD synthesised."""

from __future__ import annotations

import wave
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ivr.speech import position_sentence, wait_sentence
from ivr.synthesis import PromptCache
from tests.media.sipp import Centre, demo_config, running_centre
from tests.media.test_calls_pjsip import pjsip, said

LONS = "+33199000100"
NEVER_OPEN = "- id: standard\n  hours: {}\n- id: back-office\n  hours: {}\n"
#: 20 ms frames louder than this (RMS, 16-bit) are speech; the gaps between a prompt's words are shorter than
#: GAP, the silence while a menu waits for a key is longer.
LOUD, GAP = 300.0, 1.5


def flow_text(config: Path, prompt: str) -> str:
    flow = yaml.safe_load((config / "ivr" / "accueil.yaml").read_text())
    return str(flow["prompts"][prompt]["fr"])


def speech_spans(samples: array[int], rate: int) -> list[tuple[float, float]]:
    """(start, end) in seconds of each stretch of speech, stretches closer than GAP joined."""
    frame = rate // 50
    loud = []
    for index in range(len(samples) // frame):
        chunk = samples[index * frame : (index + 1) * frame]
        loud.append((sum(s * s for s in chunk) / frame) ** 0.5 > LOUD)
    spans: list[tuple[float, float]] = []
    for index, is_loud in enumerate(loud):
        if not is_loud:
            continue
        start, end = index / 50, (index + 1) / 50
        if spans and start - spans[-1][1] < GAP:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def pcm_spans(pcm: bytes) -> list[tuple[float, float]]:
    return speech_spans(array("h", pcm), 8000)


def recorded_spans(path: Path) -> list[tuple[float, float]]:
    with wave.open(str(path), "rb") as audio:
        rate = audio.getframerate()
        return speech_spans(array("h", audio.readframes(audio.getnframes())), rate)


def length(spans: list[tuple[float, float]]) -> float:
    return spans[-1][1] - spans[0][0]


@pytest.fixture(scope="module")
def closed_centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("ivr-closed")
    config = demo_config(directory, f"prompt_cache: {directory / 'prompts'}\n")
    (config / "calendars.yaml").write_text(NEVER_OPEN)
    with running_centre(directory, config) as running:
        yield running


def test_a_caller_outside_the_opening_hours_hears_the_closed_message_then_is_hung_up(closed_centre: Centre) -> None:
    centre = closed_centre
    heard = centre.directory / "closed.wav"
    caller = pjsip(centre, "closed", "--call", LONS, "--seconds", "40", "--record", str(heard), "--tone", "0")
    assert said(caller) == ["call ended by the ACD"]
    prompt = PromptCache(centre.directory / "prompts").speech(flow_text(centre.directory / "config", "closed"), "fr")
    expected, got = pcm_spans(prompt), recorded_spans(heard)
    assert len(got) == 1, got  # one message, then nothing: the ACD hung up
    assert abs(length(got) - length(expected)) < 0.1 * length(expected) + 0.3, (got, expected)


WAITING = "+33199000998"  # a flow of the tests: straight into a queue nobody serves now, announced every 15 s
WAITING_FLOW = """
languages: [fr]
start: queue
prompts:
  hold: {fr: "Un conseiller va vous répondre."}
nodes:
  queue: {type: queue, queue: lons-cfe, prompt: hold, announce: {every: 15}}
"""


@pytest.fixture(scope="module")
def open_centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("ivr-open")
    # Silent music: what the caller hears between announcements is then silence, and each one stands apart.
    config = demo_config(directory, f"prompt_cache: {directory / 'prompts'}\nmusic_on_hold: silence.wav\n")
    with wave.open(str(config / "silence.wav"), "wb") as silence:
        silence.setnchannels(1)
        silence.setsampwidth(2)
        silence.setframerate(8000)
        silence.writeframes(bytes(16000))
    (config / "ivr" / "waiting.yaml").write_text(WAITING_FLOW)
    with (config / "numbers.yaml").open("a") as numbers:
        numbers.write(f'- {{number: "{WAITING}", flow: waiting}}\n')
    with running_centre(directory, config) as running:
        yield running


def test_a_caller_who_presses_nothing_hears_the_welcome_and_the_language_menu_then_the_menu_waits(
    open_centre: Centre,
) -> None:
    centre = open_centre
    heard = centre.directory / "welcome.wav"
    caller = pjsip(centre, "welcome", "--call", LONS, "--seconds", "14", "--record", str(heard), "--tone", "0")
    assert said(caller) == ["call hung up"]
    cache, config = PromptCache(centre.directory / "prompts"), centre.directory / "config"
    welcome = cache.speech(flow_text(config, "welcome"), "fr")
    language = cache.speech(flow_text(config, "language"), "fr")
    expected, got = pcm_spans(welcome + language), recorded_spans(heard)
    # The welcome and the language menu said back to back, then the menu's 4 s of silence waiting for a key.
    assert len(got) >= 2, got
    assert abs(length(got[:1]) - length(expected)) < 0.1 * length(expected) + 0.3, (got, expected)
    assert got[1][0] - got[0][1] > 3.5, got


def test_a_waiting_caller_hears_its_position_and_wait_said_when_it_enters_and_again_later(open_centre: Centre) -> None:
    centre = open_centre
    heard = centre.directory / "waiting.wav"
    caller = pjsip(centre, "waiting", "--call", WAITING, "--seconds", "28", "--record", str(heard), "--tone", "0")
    assert said(caller) == ["call hung up"]
    cache = PromptCache(centre.directory / "prompts")
    # Nobody serves lons-cfe in this centre: first in line, and no estimate rather than a wrong one.
    hold = cache.speech("Un conseiller va vous répondre.", "fr")
    position, wait = cache.speech(position_sentence(1, "fr"), "fr"), cache.speech(wait_sentence(None, "fr"), "fr")
    first, again = pcm_spans(hold + position + wait), pcm_spans(position + wait)
    got = recorded_spans(heard)
    assert len(got) == 2, got  # on entering, then 15 s after the first announcement ended
    assert abs(length(got[:1]) - length(first)) < 0.1 * length(first) + 0.3, (got, first)
    assert abs(length(got[1:]) - length(again)) < 0.1 * length(again) + 0.3, (got, again)
    assert 14.0 < got[1][0] - got[0][1] < 17.0, got

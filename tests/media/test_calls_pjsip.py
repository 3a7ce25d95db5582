"""Two-way audio through the ACD, heard by the PJSIP stack (pjsua2) on both ends: a caller playing one
tone, an agent's softphone answering and playing another; each records what it hears, and the test
finds the other side's tone in it, whatever codecs the two sides chose (the bridge transcodes)."""

from __future__ import annotations

import subprocess
import sys
import wave
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.media.sipp import Centre, demo_config, running_centre, tva_for_every_lons_agent
from tests.servers import until
from tests.tones import power

PHONE = Path(__file__).with_name("pjsip_phone.py")
CALLER_TONE, AGENT_TONE = 440, 1000
TVA = "+33199000101"


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("pjsip")
    config = demo_config(directory, "offer_timeout: 10\n")
    tva_for_every_lons_agent(config)
    with running_centre(directory, config) as running:
        yield running


def pjsip(centre: Centre, name: str, *args: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        str(PHONE),
        "--server",
        f"127.0.0.1:{centre.sip}",
        "--log",
        str(centre.directory / f"{name}.log"),
        *args,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def said(process: subprocess.Popen[str], timeout: float = 90) -> list[str]:
    output, _ = process.communicate(timeout=timeout)
    # PJSIP logs its first lines to stdout before its configuration applies: the phone's own lines only.
    return [line for line in output.splitlines() if line.startswith(("registered", "call", "no call", "unregistered"))]


@pytest.mark.parametrize(
    ("agent", "caller_codec", "agent_codec"),
    [("tmoreau", "PCMU", "PCMU"), ("csimon", "PCMA", "G722"), ("mfrancois", "G722", "PCMU")],
)
def test_the_caller_and_the_agent_hear_each_other(
    centre: Centre, agent: str, caller_codec: str, agent_codec: str
) -> None:
    heard_by_agent, heard_by_caller = (
        centre.directory / f"{agent}-hears.wav",
        centre.directory / f"caller-of-{agent}-hears.wav",
    )
    assert centre.admin.post(f"/api/v1/agents/{agent}/login").status_code == 200
    phone = pjsip(
        centre, f"{agent}-phone", "--user", agent, "--password", "phone-demo", "--answer", "--unregister",
        "--tone", str(AGENT_TONE), "--record", str(heard_by_agent), "--codec", agent_codec,
    )  # fmt: skip
    until(
        "the phone registered", lambda: centre.admin.get(f"/api/v1/agents/{agent}").json()["phone"] == "registered", 30
    )
    caller = pjsip(
        centre, f"caller-of-{agent}", "--call", TVA, "--seconds", "7", "--tone", str(CALLER_TONE),
        "--record", str(heard_by_caller), "--codec", caller_codec,
    )  # fmt: skip
    assert said(caller) == ["call hung up"]
    assert said(phone) == ["registered 200 300", "call ended", "unregistered 200"]
    centre.admin.put(f"/api/v1/agents/{agent}/state", json={"state": "not_ready", "reason": "break"})
    for name, codec in ((f"{agent}-phone", agent_codec), (f"caller-of-{agent}", caller_codec)):
        log = (centre.directory / f"{name}.log").read_text(errors="replace")
        assert f"Audio updated, stream #0: {codec} " in log  # each side kept its own codec: the ACD converts
    assert dominant(last_seconds(heard_by_agent, 2)) == CALLER_TONE
    assert dominant(last_seconds(heard_by_caller, 2)) == AGENT_TONE


def last_seconds(path: Path, seconds: float) -> tuple[array[int], int]:
    with wave.open(str(path), "rb") as audio:
        rate = audio.getframerate()
        samples = array("h", audio.readframes(audio.getnframes()))
    # The recorders stop a little after the hang-up: leave out the last half second.
    end = len(samples) - rate // 2
    return samples[max(0, end - int(seconds * rate)) : end], rate


def dominant(recording: tuple[array[int], int]) -> int:
    """Of the two tones and the music's notes, the frequency with the most power (Goertzel)."""
    samples, rate = recording
    candidates = (CALLER_TONE, AGENT_TONE, 523, 659, 784)
    powers = {frequency: power(samples, rate, frequency) for frequency in candidates}
    best = max(powers, key=lambda frequency: powers[frequency])
    others = sorted(powers.values())[-2]
    assert powers[best] > 10 * others, powers  # clearly that tone, not a mixture
    return best


def test_a_waiting_caller_hears_the_music_on_hold_of_the_configuration(centre: Centre) -> None:
    # No agent is ready (each test above ends its agent's day): the caller waits, hearing config/'s music,
    # an arpeggio of C5, E5 and G5.
    heard = centre.directory / "waiting-caller-hears.wav"
    caller = pjsip(
        centre, "waiting-caller", "--call", TVA, "--seconds", "4", "--tone", str(CALLER_TONE), "--record", str(heard)
    )
    assert said(caller) == ["call hung up"]
    samples, rate = last_seconds(heard, 3)
    music = sum(power(samples, rate, frequency) for frequency in (523.25, 659.25, 783.99))
    anything_else = sum(power(samples, rate, frequency) for frequency in (CALLER_TONE, AGENT_TONE, 600, 900))
    assert music > 20 * anything_else, (music, anything_else)

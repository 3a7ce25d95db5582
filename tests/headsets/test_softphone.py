"""The agent's softphone end to end, through what an agent and a caller use: `acd softphone` (the real
command, PJSIP registering to `acd serve`) with a PulseAudio null sink and source standing for the USB
headset, its buttons a device replaying the Dell SP325's reports; a sipp caller whose voice is a 440 Hz
tone sent by the test; mosquitto between the softphone and the ACD.

The call: the phone rings (its ring LED lit), the agent lifts the hook switch, the caller's tone is heard
in the headset's earpiece and the 1,000 Hz tone played into the headset's microphone is heard by the
caller, both told by frequency; the hook switch hangs up; the agent ends its wrap-up. Then the headset is
pulled out (the agent goes not ready, reason headset) and plugged back (ready again)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.headsets.rtp_peer import RtpPeer
from tests.media.sipp import Centre, demo_config, finished, running_centre, tva_for_every_lons_agent
from tests.pulse import BUILT_IN, HEADSET, PulseServer, dominant_frequency, pulse_server
from tests.servers import MosquittoServer, mosquitto_server, until

DRIVER = Path(__file__).with_name("softphone_under_test.py")
ROOT = Path(__file__).resolve().parent.parent.parent
TVA = "+33199000101"
CALLER_TONE, AGENT_TONE = 440, 1000
# The SP325's report 5: bit 0 the hook switch (a switch: its state), bit 1 Phone Mute and bit 3 Flash
# (toggles: a press is the bit set, then cleared); the hook's bit stays set while off-hook.
OFF_HOOK, ON_HOOK, MUTE_PRESSED, FLASH_PRESSED = "0501", "0500", "0503", "0509"
RING_LED = "0504"  # report 5, bit 2 of its LEDs: Ring


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    with pulse_server(tmp_path_factory.mktemp("pulse")) as server:
        yield server


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    with mosquitto_server(tmp_path_factory.mktemp("mosquitto")) as server:
        yield server


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, broker: MosquittoServer) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("softphone")
    config = demo_config(directory, "offer_timeout: 30\n")
    tva_for_every_lons_agent(config)
    with running_centre(directory, config, "--mqtt", broker.url) as running:
        yield running


class Softphone:
    """`acd softphone` running for one agent; `type` is the agent's keyboard, `press` its headset's buttons."""

    def __init__(
        self, centre: Centre, pulse: PulseServer, broker: MosquittoServer, agent: str, *options: str,
        password: str = "agent-demo",
    ) -> None:  # fmt: skip
        self.directory = centre.directory / f"softphone-{agent}"
        self.directory.mkdir(exist_ok=True)
        self.control, self.written = self.directory / "hid-control", self.directory / "hid-written"
        self.control.write_text("")
        self.written.write_text("")
        self.log = self.directory / "softphone.log"
        command = [
            sys.executable, str(DRIVER), "--hid-control", str(self.control), "--hid-written", str(self.written), "--",
            "softphone", "--server", f"127.0.0.1:{centre.sip}", "--api", f"http://127.0.0.1:{centre.http}",
            "--user", agent, "--mqtt", broker.url, *options,
        ]  # fmt: skip
        env = {**os.environ, **pulse.env, "ACD_PASSWORD": password, "ACD_SIP_PASSWORD": "phone-demo"}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        self.process.stdin.flush()

    def press(self, report_hex: str) -> None:
        with self.control.open("a") as control:
            control.write(report_hex + "\n")

    def said(self) -> str:
        return self.log.read_text(errors="replace")

    def leds_written(self) -> list[str]:
        return self.written.read_text().split()

    def quit(self) -> int:
        self.type("q")
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdin is not None:
            self.process.stdin.close()


def agent_of(centre: Centre, agent: str) -> dict[str, object]:
    return dict(centre.admin.get(f"/api/v1/agents/{agent}").json())


def caller_hears(voice: RtpPeer, seconds: float = 1.0) -> int | None:
    """The tone the caller hears over the next `seconds`, to the hertz (None: silence, or not one tone)."""
    since = time.monotonic()
    time.sleep(seconds)
    frequency = dominant_frequency(voice.heard_since(since), 8_000)
    return None if frequency is None else round(frequency)


def noted(centre: Centre, agent: str, reason: str) -> list[dict[str, object]]:
    return [e for e in centre.events(agent=agent) + centre.events(kind="task_noted") if e.get("reason") == reason]


def test_a_call_answered_and_hung_up_with_the_headsets_hook_switch(
    centre: Centre, pulse: PulseServer, broker: MosquittoServer
) -> None:
    phone = Softphone(centre, pulse, broker, "cmartin", "--headset", "evolve")
    try:
        until("registered, headset connected", lambda: (
            agent_of(centre, "cmartin")["phone"], agent_of(centre, "cmartin")["headset"]
        ) == ("registered", "connected"), 30)  # fmt: skip
        assert agent_of(centre, "cmartin")["state"] == "not_ready"  # logs in not ready by default
        assert "cmartin · not_ready (logged_in) · phone registered · headset Jabra Evolve2 40" in phone.said()
        phone.type("r")
        until("ready", lambda: agent_of(centre, "cmartin")["state"] == "available", 10)
        with RtpPeer(CALLER_TONE) as voice:
            caller = centre.sipp("caller_media_elsewhere.xml", "-s", TVA, "-key", "rtp_port", str(voice.port))
            until("the phone rings", lambda: "RINGING: 0384000000 · lons-tva" in phone.said(), 20)
            until("the ring LED lit", lambda: RING_LED in phone.leds_written(), 10)
            pulse.play_tone(HEADSET.feed, AGENT_TONE, 20)  # the agent speaks into the headset
            phone.press(OFF_HOOK)
            until("talking", lambda: "talking with 0384000000" in phone.said(), 10)
            until("the caller's voice flows", lambda: voice.heard, 10)
            time.sleep(2)  # a little talk: the audio paths settle (jitter buffers, first packets)
            since = time.monotonic()
            earpiece = pulse.record(HEADSET.monitor, 1.5)
            heard_by_caller = voice.heard_since(since)
            assert round(dominant_frequency(earpiece, 16_000) or 0) == CALLER_TONE
            assert round(dominant_frequency(heard_by_caller, 8_000) or 0) == AGENT_TONE
            assert agent_of(centre, "cmartin")["state"] == "busy"
            phone.press(ON_HOOK)
            finished(caller, centre)  # the caller got the BYE and answered it
        until("wrap-up", lambda: agent_of(centre, "cmartin")["state"] == "wrap_up", 10)
        until("wrap-up shown", lambda: "· w to end" in phone.said(), 10)
        phone.type("w")
        until("available after wrap-up", lambda: agent_of(centre, "cmartin")["state"] == "available", 10)

        pulse.unplug(HEADSET)
        until("not ready: headset", lambda: (
            agent_of(centre, "cmartin")["state"], agent_of(centre, "cmartin")["reason"]
        ) == ("not_ready", "headset"), 10)  # fmt: skip
        assert "headset unplugged" in phone.said()
        pulse.plug(HEADSET)
        until("ready again", lambda: agent_of(centre, "cmartin")["state"] == "available", 10)
        assert phone.quit() == 0
        assert agent_of(centre, "cmartin")["state"] == "offline"
    finally:
        phone.kill()
        print(phone.said()[-3000:])


def test_the_agents_other_actions_from_the_keyboard_and_the_buttons_and_a_headset_pulled_out_mid_call(
    centre: Centre, pulse: PulseServer, broker: MosquittoServer
) -> None:
    phone = Softphone(centre, pulse, broker, "tmoreau", "--headset", "JABRA")
    try:
        until("registered", lambda: agent_of(centre, "tmoreau")["phone"] == "registered", 30)
        phone.type("p lunch")
        until("not ready: lunch", lambda: agent_of(centre, "tmoreau")["reason"] == "lunch", 10)
        phone.type("p two words")
        until("the reason refused", lambda: "reason 'two words': one word" in phone.said(), 10)
        phone.type("r")
        until("ready", lambda: agent_of(centre, "tmoreau")["state"] == "available", 10)
        pulse.play_tone(HEADSET.feed, AGENT_TONE, 60)
        pulse.play_tone(BUILT_IN.feed, 700, 60)  # the laptop's own microphone, should the sound move there
        with RtpPeer(CALLER_TONE) as first, RtpPeer(CALLER_TONE) as voice:
            refused = centre.sipp("caller_media_elsewhere.xml", "-s", TVA, "-key", "rtp_port", str(first.port))
            until("the phone rings", lambda: "RINGING: 0384000000" in phone.said(), 20)
            phone.type("x")  # refused: the call goes back to its queue, for another agent than this one
            until("refused", lambda: any(e["kind"] == "offer_refused" for e in centre.events(agent="tmoreau")), 10)
            until("the refused call gone", lambda: "call ended: 603 Decline" in phone.said(), 10)
            mark = len(phone.said())
            caller = centre.sipp("caller_media_elsewhere.xml", "-s", TVA, "-key", "rtp_port", str(voice.port))
            until("the next call rings", lambda: "RINGING: 0384000000" in phone.said()[mark:], 30)
            phone.type("a")
            until("talking", lambda: "talking with 0384000000" in phone.said(), 10)
            until("the agent heard", lambda: caller_hears(voice) == AGENT_TONE, 10)

            phone.press(OFF_HOOK)  # the headset follows the call: off-hook
            phone.press(MUTE_PRESSED)
            phone.press(OFF_HOOK)  # released
            until("muted", lambda: "· muted" in phone.said(), 10)
            assert caller_hears(voice) is None  # the microphone is not heard
            assert "0503" in phone.leds_written()  # the mute handshake: off-hook and Mute LEDs
            phone.type("m")
            until("unmuted", lambda: caller_hears(voice) == AGENT_TONE, 10)

            phone.press(FLASH_PRESSED)
            phone.press(OFF_HOOK)
            until("on hold", lambda: "0384000000 on hold" in phone.said(), 10)
            until("the ACD noted the hold", lambda: noted(centre, "tmoreau", "hold"), 10)
            assert caller_hears(voice) != AGENT_TONE  # music, not the agent
            phone.type("o")
            until("resumed", lambda: caller_hears(voice) == AGENT_TONE, 10)

            phone.type("d 5")
            until("the key reached the ACD", lambda: any(
                e["data"].get("digit") == "5" and e["data"].get("from") == "agent" for e in noted(centre, "tmoreau", "dtmf")
            ), 10)  # fmt: skip

            pulse.unplug(HEADSET)  # mid-call: the call goes on, on the laptop's speaker and microphone
            until("not ready after the call", lambda: agent_of(centre, "tmoreau")["headset"] == "disconnected", 10)
            until("the caller hears the laptop's microphone", lambda: caller_hears(voice) == 700, 10)
            assert round(dominant_frequency(pulse.record(BUILT_IN.monitor, 1.0), 16_000) or 0) == CALLER_TONE
            assert agent_of(centre, "tmoreau")["state"] == "busy"  # the call is still up
            pulse.plug(HEADSET)
            pulse.play_tone(HEADSET.feed, AGENT_TONE, 60)  # its tone went with it
            until("back on the headset", lambda: caller_hears(voice) == AGENT_TONE, 10)
            assert round(dominant_frequency(pulse.record(HEADSET.monitor, 1.0), 16_000) or 0) == CALLER_TONE

            phone.type("t bogus-queue")
            until("transfer refused", lambda: "transfer failed" in phone.said(), 10)
            assert agent_of(centre, "tmoreau")["state"] == "busy"
            mark = len(phone.said())
            phone.type("t pau-is")  # the other centre's corporate tax queue: not one this agent serves
            until("transferred: wrap-up", lambda: agent_of(centre, "tmoreau")["state"] == "wrap_up", 10)
            until("the call left the phone", lambda: "call ended" in phone.said()[mark:], 10)
            waiting = centre.admin.get("/api/v1/queues/pau-is").json()
            assert waiting["waiting"] == 1, waiting
            for sipp in (caller, refused):  # both still wait, in pau-is and in lons-tva
                sipp.terminate()
                sipp.communicate(timeout=10)
        phone.type("w")
        until("available", lambda: agent_of(centre, "tmoreau")["state"] == "available", 10)
        assert phone.quit() == 0
    finally:
        phone.kill()
        print(phone.said()[-3000:])


def test_a_wrong_password_or_a_user_who_is_no_agent_cannot_start_and_a_softphone_that_dies_takes_its_agent_out(
    centre: Centre, pulse: PulseServer, broker: MosquittoServer
) -> None:
    for user, password, said in [
        ("csimon", "wrong", "cannot log in to the ACD at"),
        ("sup-lons-a", "supervisor-demo", "403: sup-lons-a is not an agent"),
    ]:
        refused = Softphone(centre, pulse, broker, user, password=password)
        assert refused.process.wait(timeout=30) == 1
        refused.kill()
        assert said in refused.said()
    assert agent_of(centre, "csimon")["state"] == "offline"
    # Logged in already (its softphone crashed and restarts, or a supervisor logged it in): it carries on.
    assert centre.admin.post("/api/v1/agents/csimon/login", json={"ready": True}).status_code == 200
    phone = Softphone(centre, pulse, broker, "csimon", "--headset", "evolve", "--ready")
    try:
        until("ready, headset connected", lambda: (
            agent_of(centre, "csimon")["state"], agent_of(centre, "csimon")["headset"]
        ) == ("available", "connected"), 30)  # fmt: skip
        phone.process.kill()  # no goodbye: the broker sends the softphone's will
        until("its headset gone with it", lambda: (
            agent_of(centre, "csimon")["state"], agent_of(centre, "csimon")["reason"]
        ) == ("not_ready", "headset"), 10)  # fmt: skip
    finally:
        phone.kill()

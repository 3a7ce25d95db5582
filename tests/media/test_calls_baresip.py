"""baresip (libre; Debian's baresip-core) as an agent's phone, beside sipp and PJSIP in one centre.

baresip 1.0 answers a 401 carrying an SHA-256 challenge with "Function not implemented" and never
registers, as many desk phones know MD5 only; sipp takes the first challenge whatever it is. Their
entries in phones.yaml name MD5 (`digest_algorithms`) while the centre's default stays SHA-256 first,
which PJSIP takes. Then baresip is rung, answers (auto-answer), and plays a tone the caller (PJSIP)
hears while the caller's tone is heard by baresip (its `sndfile` module writes what it decodes).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.media.sipp import Centre, demo_config, finished, running_centre, tva_for_every_lons_agent
from tests.media.test_calls_pjsip import AGENT_TONE, CALLER_TONE, TVA, dominant, last_seconds, pjsip, said
from tests.servers import free_port, until

MD5_ONLY = ("cmartin", "jbernard")  # baresip's phone and sipp's: their entries name MD5 alone
CONFIG = """\
poll_method epoll
sip_listen 127.0.0.1:{port}
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
# No sound card: a sine as the microphone, a bridge to nowhere as the speaker; sndfile writes what is
# decoded (and encoded) to WAV files in snd_path. ausine makes 48 kHz stereo only.
audio_source ausine,{tone}
audio_player aubridge,nowhere
audio_alert aubridge,nowhere
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
auplay_channels 1
snd_path {directory}
"""


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    if shutil.which("baresip") is None:
        raise RuntimeError("baresip is not installed: run tests/run-all.sh, which installs baresip-core")
    directory = tmp_path_factory.mktemp("baresip")
    # SHA-256 first for the centre, as shipped (demo_config puts MD5 first for the sipp tests).
    config = demo_config(directory, "offer_timeout: 10\nsip_digest_algorithms: [SHA-256, MD5]\n")
    tva_for_every_lons_agent(config)
    phones = config / "phones.yaml"
    text = phones.read_text()
    for user in MD5_ONLY:
        start = text.index(f"  user: {user}\n")
        end = text.index("\n", text.index("  ha1: ", start)) + 1
        text = text[:end] + "  digest_algorithms: [MD5]\n" + text[end:]
    phones.write_text(text)
    with running_centre(directory, config) as running:
        yield running


@contextmanager
def baresip(centre: Centre, name: str, user: str, tone: int) -> Iterator[Path]:
    """baresip registered as `user` (answering every call at once, playing `tone`), in its own directory
    `name`; what it printed (SIP messages included) is in `output.log` there."""
    directory = centre.directory / name
    directory.mkdir()
    (directory / "config").write_text(CONFIG.format(port=free_port(), tone=tone, directory=directory))
    account = f"<sip:{user}@127.0.0.1:{centre.sip};transport=udp>;auth_pass=phone-demo;regint=300;answermode=auto"
    (directory / "accounts").write_text(account + "\n")
    with (directory / "output.log").open("wb") as out:
        process = subprocess.Popen(
            ["baresip", "-f", str(directory), "-s"], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield directory
    finally:
        process.terminate()  # baresip unregisters and closes its files on SIGTERM
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def phone_state(centre: Centre, agent: str) -> object:
    return centre.admin.get(f"/api/v1/agents/{agent}").json()["phone"]


def test_a_centre_mixing_phones_challenges_each_with_its_own_algorithms(centre: Centre) -> None:
    with baresip(centre, "baresip-registers", "cmartin", AGENT_TONE) as directory:
        until("baresip registered", lambda: phone_state(centre, "cmartin") == "registered", 30)
        trace = (directory / "output.log").read_text(errors="replace")
        assert "algorithm=MD5" in trace and "algorithm=SHA-256" not in trace  # challenged with MD5 alone
        assert "Function not implemented" not in trace
    until("baresip unregistered", lambda: phone_state(centre, "cmartin") == "unregistered", 30)
    with baresip(centre, "baresip-both-challenges", "sdubois", AGENT_TONE) as directory:  # no entry: both
        output = directory / "output.log"
        until("baresip gave up", lambda: "Register: Function not implemented" in output.read_text(errors="replace"))
        assert phone_state(centre, "sdubois") == "unregistered"  # what the entry's MD5 is for
    sipp = centre.sipp("register.xml", "-au", "jbernard", "-ap", "phone-demo", "-s", "jbernard")
    finished(sipp, centre)  # sipp answers the first challenge: MD5, the only one it is given
    log = centre.directory / "sdubois-phone.log"
    pjsua = pjsip(centre, "sdubois-phone", "--user", "sdubois", "--password", "phone-demo", "--unregister")
    assert said(pjsua) == ["registered 200 300", "unregistered 200"]
    sent = log.read_text(errors="replace")
    assert "algorithm=SHA-256" in sent and "algorithm=MD5, cnonce" not in sent  # no entry: the centre's first


def test_baresip_as_the_agents_phone_is_rung_answers_and_carries_audio_both_ways(centre: Centre) -> None:
    heard_by_caller = centre.directory / "caller-of-cmartin-hears.wav"
    assert centre.admin.post("/api/v1/agents/cmartin/login").status_code == 200
    with baresip(centre, "baresip-answers", "cmartin", AGENT_TONE) as directory:
        until("baresip registered", lambda: phone_state(centre, "cmartin") == "registered", 30)
        caller = pjsip(
            centre, "caller-of-cmartin", "--call", TVA, "--seconds", "8", "--tone", str(CALLER_TONE),
            "--record", str(heard_by_caller),
        )  # fmt: skip
        assert said(caller) == ["call hung up"]
        until("baresip told the call ended", lambda: "terminated (duration" in (directory / "output.log").read_text())
    centre.admin.put("/api/v1/agents/cmartin/state", json={"state": "not_ready", "reason": "break"})
    output = (directory / "output.log").read_text(errors="replace")
    assert "SIP/2.0 180 Ringing" in output and "Call established" in output
    accepted = [event for event in centre.events(agent="cmartin") if event["kind"] == "offer_accepted"]
    assert len(accepted) == 1
    (heard_by_agent,) = directory.glob("dump-*-dec.wav")  # what baresip decoded from the ACD
    assert dominant(last_seconds(heard_by_agent, 2)) == CALLER_TONE
    assert dominant(last_seconds(heard_by_caller, 2)) == AGENT_TONE

"""Agents' phones against a running `acd serve`, played by sipp (Debian's sip-tester): a SIP stack
nobody here wrote, over UDP and TCP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from acd.cli import DEMO_CONFIG
from tests.media.sipp import Centre, demo_config, errors, finished, running_centre


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("phones")
    # sipp answers the first challenge whatever its algorithm and knows only MD5, as some older phones:
    # the configuration offers MD5 first.
    with running_centre(directory, demo_config(directory)) as running:
        yield running


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_an_agents_phone_registers_with_its_digest_credentials(centre: Centre, transport: str) -> None:
    process = centre.sipp("register.xml", "-au", "cmartin", "-ap", "phone-demo", "-s", "cmartin", transport=transport)
    finished(process, centre)


def test_a_wrong_password_is_not_registered(centre: Centre) -> None:
    process = centre.sipp("register.xml", "-au", "cmartin", "-ap", "not-the-password", "-s", "cmartin")
    process.communicate(timeout=60)
    assert process.returncode != 0
    assert "401" in errors(process)  # challenged again instead of the 200 the scenario waits for


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_pjsip_softphone_registers_with_sha_256_then_unregisters(tmp_path: Path, transport: str) -> None:
    # The demo configuration as shipped offers SHA-256 first: PJSIP (pjsua2) takes it, as RFC 8760 asks.
    log = tmp_path / "pjsip.log"
    with running_centre(tmp_path, DEMO_CONFIG) as centre:
        phone = [
            sys.executable, str(Path(__file__).with_name("pjsip_phone.py")), "--server", f"127.0.0.1:{centre.sip}",
            "--transport", transport, "--user", "cmartin", "--password", "phone-demo", "--unregister", "--log", str(log),
        ]  # fmt: skip
        result = subprocess.run(phone, capture_output=True, text=True, timeout=60, check=False)
    # PJSIP logs its first lines to stdout before its configuration applies: the outcome lines are the phone's.
    outcome = [line for line in result.stdout.splitlines() if line.split(" ")[0] in ("registered", "unregistered")]
    assert outcome == ["registered 200 300", "unregistered 200"], (result.stdout[-2000:], result.stderr)
    sent = log.read_text(errors="replace")
    assert "algorithm=SHA-256" in sent and "algorithm=MD5, cnonce" not in sent
    assert "registration success, status=200" in sent and "unregistration success" in sent

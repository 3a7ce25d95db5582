"""Agents' phones against a running `acd serve`, played by sipp (Debian's sip-tester): a SIP stack
nobody here wrote, over UDP and TCP."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from acd.cli import DEMO_CONFIG
from tests.servers import free_port, wait_for_port

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@dataclass
class Server:
    sip_port: int
    directory: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which("sipp") is None:
        raise RuntimeError("sipp is not installed: run tests/run-all.sh, which installs sip-tester")
    directory = tmp_path_factory.mktemp("phones")
    config = directory / "config"
    shutil.copytree(DEMO_CONFIG, config)
    # sipp answers the first challenge whatever its algorithm and knows only MD5, as some older phones.
    with (config / "settings.yaml").open("a") as settings:
        settings.write("sip_digest_algorithms: [MD5, SHA-256]\n")
    http, sip = free_port(), free_port()
    command = [
        sys.executable, "-m", "acd.cli", "serve", "--config", str(config), "--port", str(http),
        "--sip", f"127.0.0.1:{sip}", "--log-level", "warning",
    ]  # fmt: skip
    with (directory / "acd.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(http, process, "acd serve", 60)
        yield Server(sip, directory)
    finally:
        process.terminate()
        process.wait(timeout=20)


def sipp(server: Server, scenario: str, *args: str, transport: str = "u1") -> subprocess.CompletedProcess[str]:
    command = [
        "sipp", f"127.0.0.1:{server.sip_port}", "-sf", str(SCENARIOS / scenario), "-m", "1", "-t", transport,
        "-i", "127.0.0.1", "-p", str(free_port()), "-nostdin", "-timeout", "20", "-timeout_error",
        "-trace_err", "-error_file", str(server.directory / f"{scenario}.errors"), *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=server.directory, check=False)


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_an_agents_phone_registers_with_its_digest_credentials(server: Server, transport: str) -> None:
    result = sipp(server, "register.xml", "-au", "cmartin", "-ap", "phone-demo", "-s", "cmartin", transport=transport)
    assert result.returncode == 0, (result.stdout[-2000:], _errors(server, "register.xml"))


def test_a_wrong_password_is_not_registered(server: Server) -> None:
    result = sipp(server, "register.xml", "-au", "cmartin", "-ap", "not-the-password", "-s", "cmartin")
    assert result.returncode != 0
    assert "401" in _errors(server, "register.xml")  # challenged again instead of the 200 the scenario waits for


def _errors(server: Server, scenario: str) -> str:
    path = server.directory / f"{scenario}.errors"
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_pjsip_softphone_registers_with_sha_256_then_unregisters(tmp_path: Path, transport: str) -> None:
    # The demo configuration offers SHA-256 first: PJSIP (pjsua2) takes it, as RFC 8760 asks.
    http, sip = free_port(), free_port()
    command = [sys.executable, "-m", "acd.cli", "serve", "--port", str(http), "--sip", f"127.0.0.1:{sip}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = tmp_path / "pjsip.log"
    try:
        wait_for_port(http, process, "acd serve", 60)
        phone = [
            sys.executable, str(Path(__file__).with_name("pjsip_phone.py")), "--server", f"127.0.0.1:{sip}",
            "--transport", transport, "--user", "cmartin", "--password", "phone-demo", "--unregister", "--log", str(log),
        ]  # fmt: skip
        result = subprocess.run(phone, capture_output=True, text=True, timeout=60, check=False)
    finally:
        process.terminate()
        process.wait(timeout=20)
    # PJSIP logs its first lines to stdout before its configuration applies: the outcome lines are the phone's.
    outcome = [line for line in result.stdout.splitlines() if line.split(" ")[0] in ("registered", "unregistered")]
    assert outcome == ["registered 200 300", "unregistered 200"], (result.stdout[-2000:], result.stderr)
    sent = log.read_text(errors="replace")
    assert "algorithm=SHA-256" in sent and "algorithm=MD5, cnonce" not in sent
    assert "registration success, status=200" in sent and "unregistration success" in sent

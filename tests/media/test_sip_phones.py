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

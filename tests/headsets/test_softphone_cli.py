"""`acd softphone` refuses bad options before it starts, and says why it cannot start: nothing registers,
nothing logs in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


def softphone(*args: str, password: str = "agent-demo") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACD_PASSWORD": password, "ACD_SIP_PASSWORD": "phone-demo"}
    return subprocess.run(
        [sys.executable, "-m", "acd.cli", "softphone", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--server", "acd example:5060", "--user", "cmartin"], "argument --server: 'acd example:5060' is not host:port: 'acd example' is not a host name"),
        (["--server", "acd.example:70000", "--user", "cmartin"], "argument --server: 'acd.example:70000' is not host:port: the port must be from 1 to 65535"),
        (["--server", "acd.example", "--user", "cmartin", "--headset", "  "], "argument --headset: the headset's name part is empty"),
        (["--server", "acd.example", "--user", "cmartin", "--mqtt", "http://broker"], "argument --mqtt: 'http://broker' is not mqtt://"),
        (["--server", "acd.example"], "the following arguments are required: --user"),
        (["--server", "acd.example", "--user", "cmartin", "--transport", "sctp"], "argument --transport: invalid choice"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_with_the_option_at_fault(args: list[str], said: str) -> None:
    completed = softphone(*args)
    assert completed.returncode == 2
    assert said in completed.stderr


def test_an_acd_that_does_not_answer_is_said_and_the_softphone_stops() -> None:
    port = free_port()  # nothing listens there
    completed = softphone("--server", "127.0.0.1:5060", "--api", f"http://127.0.0.1:{port}", "--user", "cmartin")
    assert completed.returncode == 1
    assert f"cannot log in to the ACD at http://127.0.0.1:{port}:" in completed.stdout

"""The composition root: the configuration with its flows, and the application built around the clock given."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from acd.cli import DEMO_CONFIG
from acd.deployment import ConfigError, load_deployment
from acd.serve import ServeOptions, build_app, load_configuration


class StoppedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


def test_the_configuration_holds_the_deployment_and_its_flows() -> None:
    configuration = load_configuration(DEMO_CONFIG)
    assert configuration.deployment == load_deployment(DEMO_CONFIG)
    assert set(configuration.flows) == {"accueil"}


def test_a_number_naming_a_missing_flow_is_a_problem_of_numbers_yaml(tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, directory)
    (directory / "ivr" / "accueil.yaml").rename(directory / "ivr" / "welcome.yaml")
    load_deployment(directory)  # the deployment alone is sound: the flows are the composition root's to check
    with pytest.raises(ConfigError) as refused:
        load_configuration(directory)
    lines = str(refused.value).splitlines()
    assert lines and all(line.startswith("numbers.yaml:") for line in lines)
    assert "no flow 'accueil' in ivr/ (ivr/accueil.yaml)" in lines[0]
    completed = subprocess.run(
        [sys.executable, "-m", "acd.cli", "check-config", str(directory)], capture_output=True, text=True, check=False
    )
    assert (completed.returncode, completed.stderr.splitlines()[1:]) == (1, lines)


def test_the_app_is_built_on_the_clock_given_with_only_the_routers_of_what_runs() -> None:
    clock = StoppedClock(1_750_000_000.0)
    app = build_app(ServeOptions(config=DEMO_CONFIG, sip=None), clock=clock)
    assert app.state.context.service.clock is clock
    paths = set(app.openapi()["paths"])
    assert "/api/v1/tasks" in paths
    assert not any(path.startswith("/api/v1/calls") for path in paths)  # no SIP endpoint: no calls' routes


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_STREAM], ids=["udp", "tcp"])
def test_a_sip_address_in_use_is_refused_in_one_sentence_before_anything_starts(kind: socket.SocketKind) -> None:
    with socket.socket(socket.AF_INET, kind) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        if kind == socket.SOCK_STREAM:
            taken.listen()
        completed = subprocess.run(
            [sys.executable, "-m", "acd.cli", "serve", "--port", "0", "--sip", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    transport = "udp" if kind == socket.SOCK_DGRAM else "tcp"
    assert (completed.returncode, completed.stderr.splitlines()[-1]) == (
        1,
        f"acd: SIP cannot listen on {transport} 127.0.0.1:{port}: Address already in use",
    )
    assert "Traceback" not in completed.stderr

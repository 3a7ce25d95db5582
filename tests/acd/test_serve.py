"""The composition root: the configuration with its flows, and the application built around the clock given."""

from __future__ import annotations

import shutil
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

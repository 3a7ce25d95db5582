"""The API checked as a new client would check it: schemathesis, every check on, against a running `acd serve`
(the demonstration deployment) with an administrator's token. It must find nothing.

Bounded: a fixed seed, a fixed number of examples per operation, one worker; a few minutes on two cores.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.servers import AcdServer as Server

SCHEMATHESIS = shutil.which("schemathesis", path=sysconfig.get_path("scripts"))
LOGOUT = "/api/v1/auth/logout"
#: What the checks cannot know of this API, said per operation with the reason.
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _token(server: Server) -> str:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.post("/api/v1/auth/login", json={"user": "admin", "password": "admin-demo"})
        answer.raise_for_status()
        return str(answer.json()["token"])


def _schemathesis(server: Server, tmp_path: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    assert SCHEMATHESIS is not None, "schemathesis is not installed: pip install -r requirements-test.txt"
    command = [
        SCHEMATHESIS, "--config-file", str(CONFIG), "run", f"{server.url}/openapi.json",
        "--checks", "all",
        "--header", f"Authorization: Bearer {_token(server)}",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", "40", "--seed", "20261204", "--workers", "1",
        "--generation-database", "none", "--request-timeout", "30",
        "--report", "junit", "--report-dir", str(tmp_path),
        "--no-color", "--output-truncate", "false",
        *selection,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False)


def test_schemathesis_finds_nothing(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve()
    server.wait_until_healthy()
    # Logging out revokes the token the run goes on with, after which every call would be a 401 that tests
    # nothing: the log-out has a run of its own, with a token of its own, after the rest.
    for selection in (("--exclude-path", LOGOUT), ("--include-path", LOGOUT)):
        result = _schemathesis(server, tmp_path, *selection)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "failed" not in result.stdout.split("SUMMARY")[-1], result.stdout
    # And the server is still whole: it answers, it logged no error.
    server.wait_until_healthy()
    assert "Traceback" not in server.stderr() and "ERROR" not in server.stderr(), server.stderr()

"""The `acd` command as an operator runs it: the installed script in a process of its own.

check-config and serve refuse a broken configuration naming file, line and field, without a traceback;
serve answers over HTTP on the port it is given and stops cleanly on SIGTERM; hash-password prints a hash
that acd.auth accepts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from acd.auth import verify_password
from acd.cli import DEMO_CONFIG
from acd.deployment import load_deployment
from tests.servers import PATIENCE, PROJECT, AcdServer, command, free_port, listening, until

#: priority is at most 100; line 71 is the priority of lons-email, the seventh queue.
BROKEN_PRIORITY = (
    "queues.yaml",
    "  priority: -2\n",
    "  priority: 500\n",
    "queues.yaml:71: queues[6].priority: Input should be less than or equal to 100",
)


def run(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `acd` from the project's top, where `config` is the demo."""
    completed = subprocess.run(
        [*command(), *args], input=stdin, capture_output=True, cwd=PROJECT, env=env, timeout=PATIENCE, check=False
    )
    stdout, stderr = (stream.decode(errors="replace") for stream in (completed.stdout, completed.stderr))
    return subprocess.CompletedProcess(completed.args, completed.returncode, stdout, stderr)


def broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    directory = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, directory)
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


def assert_refused(result: subprocess.CompletedProcess[str], *problems: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr == "acd: configuration refused:\n" + "".join(f"{p}\n" for p in problems)


# ------------------------------------------------------------------ check-config


def test_check_config_accepts_the_demo() -> None:
    demo = load_deployment(DEMO_CONFIG)
    result = run("check-config", "config")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        f"config: valid: {len(demo.sites)} sites, {len(demo.teams)} teams, {len(demo.agents)} agents, "
        f"{len(demo.queues)} queues, {len(demo.users)} users\n"
    )


def test_check_config_names_file_line_and_field(tmp_path: Path) -> None:
    name, old, new, problem = BROKEN_PRIORITY
    result = run("check-config", str(broken_copy(tmp_path, name, old, new)))
    assert result.stdout == ""
    assert_refused(result, problem)


def test_check_config_refuses_a_file_saved_in_latin_1(tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, directory)
    agents = directory / "agents.yaml"
    agents.write_bytes(agents.read_text(encoding="utf-8").encode("latin-1"))
    result = run("check-config", str(directory))
    assert_refused(result, "agents.yaml:35: agents: not UTF-8 text: byte 0xe9 cannot be decoded")  # "Léa"


def test_check_config_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run("check-config", str(missing))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("acd: configuration refused:\n")
    assert f"{missing}: not a directory" in result.stderr


# ------------------------------------------------------------------ serve


def test_serve_demo_logs_in_and_stops_on_sigterm(serve: Callable[..., AcdServer]) -> None:
    server = serve()
    server.wait_until_healthy()
    assert (
        "WARNING acd: demonstration passwords are in use (users admin, sup-lons-a, cmartin and others of their "
        f"roles): replace the password_hash entries in {DEMO_CONFIG}/users.yaml before real use"
    ) in server.stderr().splitlines()
    until("acd serve says where to go", lambda: "health check" in server.stderr())
    assert (
        f"INFO acd: ready: the API's documentation at {server.url}/docs, its OpenAPI document at {server.url}/openapi.json"
    ) in server.stderr().splitlines()
    assert f"INFO acd: health check (for load balancers): {server.url}/api/v1/health" in server.stderr().splitlines()

    lons_a = [a.id for a in load_deployment(DEMO_CONFIG).agents if a.team == "lons-a"]
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/api/v1/agents").status_code == 401
        wrong = client.post("/api/v1/auth/login", json={"user": "sup-lons-a", "password": "agent-demo"})
        assert wrong.status_code == 401
        login = client.post("/api/v1/auth/login", json={"user": "sup-lons-a", "password": "supervisor-demo"})
        assert login.status_code == 200
        assert (login.json()["role"], login.json()["teams"], login.json()["deployment"]) == (
            "supervisor",
            ["lons-a"],
            "demo",
        )
        agents = client.get("/api/v1/agents", headers={"authorization": f"Bearer {login.json()['token']}"})
        assert agents.status_code == 200
        assert [a["id"] for a in agents.json()] == lons_a  # a supervisor sees the agents of its plateau

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=PATIENCE) == 0
    stderr = server.stderr()
    assert "Traceback" not in stderr
    assert "Application shutdown complete." in stderr


def test_serve_refuses_a_broken_configuration_without_listening(
    serve: Callable[..., AcdServer], tmp_path: Path
) -> None:
    name, old, new, problem = BROKEN_PRIORITY
    server = serve("--config", str(broken_copy(tmp_path, name, old, new)))
    deadline = time.monotonic() + PATIENCE
    answered = False
    while server.process.poll() is None and time.monotonic() < deadline:
        answered = answered or listening(server.port)
        time.sleep(0.02)
    assert server.process.wait(timeout=PATIENCE) == 1
    stderr = server.stderr()
    assert "Traceback" not in stderr
    assert f"acd: configuration refused:\n{problem}\n" in stderr
    assert "Uvicorn running" not in stderr and "Started server process" not in stderr
    assert not answered


# ------------------------------------------------------------------ hash-password


def test_hash_password_reads_stdin() -> None:
    result = run("hash-password", stdin="mot de passe é\n".encode())
    assert (result.returncode, result.stderr) == (0, "")
    encoded, newline, rest = result.stdout.partition("\n")
    assert (encoded[:7], newline, rest) == ("scrypt$", "\n", "")
    assert verify_password("mot de passe é", encoded)
    assert not verify_password("mot de passe e", encoded)


def test_hash_password_drops_a_windows_line_ending() -> None:
    result = run("hash-password", stdin=b"secret\r\n")
    assert verify_password("secret", result.stdout.strip())


def test_hash_password_keeps_a_byte_that_is_not_utf8() -> None:
    """Under a strict UTF-8 locale too: the byte hashes as the lone surrogate the API would receive."""
    result = run("hash-password", stdin=b"caf\xe9\n", env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"})
    assert (result.returncode, result.stderr) == (0, "")
    assert verify_password("caf\udce9", result.stdout.strip())


@pytest.mark.parametrize("stdin", [b"", b"\n"], ids=["nothing", "empty-line"])
def test_hash_password_refuses_an_empty_password(stdin: bytes) -> None:
    result = run("hash-password", stdin=stdin)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", "acd: empty password\n")


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ("postgres://db/acd", "'postgres://db/acd' is not a redis://, rediss://, unix:// or redis+sentinel:// URL"),
        (
            "redis+sentinel://s1:26379,s2:port/acd",
            "'redis+sentinel://s1:26379,s2:port/acd': a Sentinel's address: 's2:port' is not host:port",
        ),
        ("redis://[::1/0", "'redis://[::1/0': the server's address: '[::1' is not host:port"),
        ("redis+sentinel://s1:26379", "'redis+sentinel://s1:26379' names no service"),
    ],
)
def test_serve_refuses_a_store_it_cannot_use_before_starting(store: str, message: str) -> None:
    result = run("serve", "--store", store, "--port", "1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"argument --store: {message}" in result.stderr


def test_sip_ha1_prints_the_digests_a_phone_entry_needs() -> None:
    result = run("sip-ha1", "cmartin", stdin=b"phone-demo\n")
    assert (result.returncode, result.stderr) == (0, "")
    # What config/phones.yaml holds for the demo agent, whose phone password is published as demo-only.
    md5 = hashlib.md5(b"cmartin:acd.demo:phone-demo").hexdigest()
    sha = hashlib.sha256(b"cmartin:acd.demo:phone-demo").hexdigest()
    assert result.stdout == f"ha1: {{MD5: {md5}, SHA-256: {sha}}}\n"
    assert f"ha1: {{MD5: {md5}, SHA-256: {sha}}}" in (DEMO_CONFIG / "phones.yaml").read_text()
    assert run("sip-ha1", "cmartin", stdin=b"\n").returncode == 2


def test_serve_refuses_to_start_when_the_ivr_prompts_cannot_be_spoken(tmp_path: Path) -> None:
    """No espeak-ng on the PATH and no prompt made before: no caller is met with silence, the ACD does not start."""
    completed = subprocess.run(
        [*command(), "serve", "--port", str(free_port()), "--sip", "127.0.0.1:0"],
        capture_output=True, cwd=tmp_path, env={"PATH": str(tmp_path)}, timeout=PATIENCE, check=False,
    )  # fmt: skip
    stderr = completed.stderr.decode(errors="replace")
    assert completed.returncode == 1, stderr
    assert (
        "acd: the IVR's prompts cannot be made: espeak-ng is not installed: apt-get install espeak-ng, "
        "or give a recorded WAV file for each prompt"
    ) in stderr
    assert "Traceback" not in stderr and "Uvicorn running" not in stderr

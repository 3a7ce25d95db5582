"""sipp (Debian's sip-tester) as callers and agents' phones against a running `acd serve`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx

from acd.cli import DEMO_CONFIG, DEMO_PASSWORDS
from tests.servers import free_port, until, wait_for_port

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
ALWAYS_OPEN = "\n".join(
    f"- id: {calendar}\n  public_holidays: false\n  hours:\n"
    + "".join(f'    {day}: ["00:00-24:00"]\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    for calendar in ("standard", "back-office")
)


def demo_config(directory: Path, settings: str = "") -> Path:
    """The demonstration deployment, open day and night, with MD5 offered first (sipp knows only MD5)."""
    if shutil.which("sipp") is None:
        raise RuntimeError("sipp is not installed: run tests/run-all.sh, which installs sip-tester")
    config = directory / "config"
    shutil.copytree(DEMO_CONFIG, config)
    (config / "calendars.yaml").write_text(ALWAYS_OPEN)
    path = config / "settings.yaml"
    lines = path.read_text().splitlines()
    for line in ["sip_digest_algorithms: [MD5, SHA-256]", *settings.splitlines()]:
        key = line.split(":", 1)[0] + ":"
        lines = [kept for kept in lines if not kept.startswith(key)] + [line]  # a YAML key once
    path.write_text("\n".join(lines) + "\n")
    return config


def tva_for_every_lons_agent(config: Path, *, record: bool = False) -> None:
    """lons-tva (the demo's number +33199000101) taken at once by any agent of Lons, with no skill to wait for."""
    queues = config / "queues.yaml"
    text = queues.read_text()
    start = text.index("- id: lons-tva\n")
    end = text.index("- id: ", start + 1)
    tva = "- id: lons-tva\n  name: TVA\n  site: lons\n  channels: [voice]\n  teams: [lons-a, lons-b, lons-c]\n"
    queues.write_text(text[:start] + tva + ("  record: true\n" if record else "") + text[end:])


@dataclass
class Centre:
    """A running `acd serve` with SIP, and an administrator's HTTP client."""

    http: int
    sip: int
    directory: Path
    admin: httpx.Client = field(repr=False)
    started: list[subprocess.Popen[str]] = field(default_factory=list, repr=False)

    def events(self, **filters: Any) -> list[dict[str, Any]]:
        reply = self.admin.get("/api/v1/events", params={"limit": 1000, **filters})
        reply.raise_for_status()
        return list(reply.json())

    def kinds(self, task: str) -> list[str]:
        return [event["kind"] for event in self.events(task=task) if event["kind"] != "agent_state"]

    def sipp(self, scenario: str, *args: str, port: int | None = None, transport: str = "u1",
             timeout: float = 30) -> subprocess.Popen[str]:  # fmt: skip
        """Start sipp on `scenario` from `port` (a free one by default), once."""
        name = f"{scenario}-{port or 'x'}-{free_port()}"
        command = [
            "sipp", f"127.0.0.1:{self.sip}", "-sf", str(SCENARIOS / scenario), "-m", "1", "-t", transport,
            "-i", "127.0.0.1", "-p", str(port or free_port()), "-nostdin", "-timeout", str(int(timeout)),
            "-timeout_error", "-trace_err", "-error_file", str(self.directory / f"{name}.errors"), *args,
        ]  # fmt: skip
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.directory
        )
        self.started.append(process)
        return process

    def stop_leftovers(self) -> None:
        """Kill the sipp runs a failed test left behind, so that none outlives its centre or leaks a pipe."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
            if process.stdout is not None and not process.stdout.closed:
                process.communicate()
        self.started.clear()


def finished(process: subprocess.Popen[str], centre: Centre, timeout: float = 60) -> None:
    """Wait for a sipp run; fail with what it said and its error file if it did not pass."""
    output, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise AssertionError(
            f"sipp {process.args[3]} failed ({process.returncode}):\n{output[-1500:]}\n{errors(process)}"
        )  # type: ignore[index]


def errors(process: subprocess.Popen[str]) -> str:
    """What sipp wrote to its error file (the messages it did not expect), the last 4,000 characters."""
    args = list(process.args)  # type: ignore[arg-type]
    path = Path(args[args.index("-error_file") + 1])
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@contextmanager
def running_centre(directory: Path, config: Path, *options: str) -> Iterator[Centre]:
    """`acd serve` on `config` with free ports, and `options` (--mqtt URL, for one)."""
    http, sip = free_port(), free_port()
    command = [
        sys.executable, "-m", "acd.cli", "serve", "--config", str(config), "--port", str(http),
        "--sip", f"127.0.0.1:{sip}", "--log-level", "info", *options,
    ]  # fmt: skip
    with (directory / "acd.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    try:
        try:
            wait_for_port(http, process, "acd serve", 60)
        except RuntimeError as error:
            raise RuntimeError(f"{error}:\n{(directory / 'acd.log').read_text()[-3000:]}") from None
        with httpx.Client(base_url=f"http://127.0.0.1:{http}", timeout=20) as admin:
            token = admin.post("/api/v1/auth/login", json={"user": "admin", "password": DEMO_PASSWORDS["admin"]})
            admin.headers["authorization"] = f"Bearer {token.json()['token']}"
            centre = Centre(http, sip, directory, admin)
            try:
                yield centre
            finally:
                centre.stop_leftovers()
    finally:
        process.terminate()
        process.wait(timeout=20)


class Phone:
    """An agent logged in with its phone registered from one port, where its sipp scenarios then answer."""

    def __init__(self, centre: Centre, agent: str, transport: str = "u1") -> None:
        self.centre, self.agent, self.transport = centre, agent, transport
        self.port = free_port()

    def __enter__(self) -> Self:
        reply = self.centre.admin.post(f"/api/v1/agents/{self.agent}/login")
        assert reply.status_code == 200, reply.text
        self.register()
        until(f"{self.agent}'s phone known to the core", lambda: self.phone_state() == "registered", 10)
        return self

    def register(self, scenario: str = "register.xml") -> None:
        process = self.centre.sipp(
            scenario, "-au", self.agent, "-ap", "phone-demo", "-s", self.agent, port=self.port, transport=self.transport
        )
        finished(process, self.centre)

    def phone_state(self) -> str | None:
        phone = self.centre.admin.get(f"/api/v1/agents/{self.agent}").json()["phone"]
        return str(phone) if phone is not None else None

    def answer(self, scenario: str, *args: str) -> subprocess.Popen[str]:
        """Start the phone's side of the next call: `scenario` answers (or not) the ACD's INVITE."""
        return self.centre.sipp(
            scenario,
            "-s",
            self.agent,
            "-mp",
            str(free_port()),
            "-rtp_echo",
            *args,
            port=self.port,
            transport=self.transport,
        )

    def __exit__(self, *exc: object) -> None:
        # Unregistered and not ready: this agent takes no more calls, whatever the next test does.
        self.register("unregister.xml")
        self.centre.admin.put(f"/api/v1/agents/{self.agent}/state", json={"state": "not_ready", "reason": "break"})

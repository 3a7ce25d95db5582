"""Real servers for the tests, each started on a free port in a fresh directory and stopped after."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sysconfig
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on {port} within {seconds} s") from None
            time.sleep(0.02)


def until(what: str, check: Callable[[], object], seconds: float = 60.0) -> None:
    """Wait for `check()` to hold, polling; fail naming `what` after `seconds` (a bound, not a measure)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)


@dataclass
class RedisServer:
    directory: Path
    port: int
    appendonly: bool
    replica_of: int | None = None  # the port of the master this one replicates
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def socket_path(self) -> Path:
        return self.directory / "redis.sock"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run tests/run-all.sh, which installs it")
        command = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
            "--unixsocket", str(self.socket_path), "--save", "", "--daemonize", "no", "--loglevel", "warning",
            "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always",
        ]  # fmt: skip
        if self.replica_of is not None:
            command += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def redis_server(directory: Path, *, appendonly: bool = False, replica_of: int | None = None) -> Iterator[RedisServer]:
    directory.mkdir(parents=True, exist_ok=True)
    server = RedisServer(directory, free_port(), appendonly, replica_of)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def redis_sentinel(directory: Path, master_port: int, service: str) -> Iterator[int]:
    """One Sentinel (quorum 1) watching the master on `master_port` as `service`; yields its port.

    It calls the master down after 1 s without an answer and promotes a replica.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run tests/run-all.sh, which installs it")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "sentinel.conf"  # Sentinel rewrites its file as it learns: its own, writable
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
        f"sentinel monitor {service} 127.0.0.1 {master_port} 1\n"
        f"sentinel down-after-milliseconds {service} 1000\n"
        f"sentinel failover-timeout {service} 5000\n"
    )
    process = subprocess.Popen([binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, "redis-sentinel")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class MosquittoServer:
    """A real MQTT broker (Debian's mosquitto) on a free port of 127.0.0.1, anonymous clients allowed."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
        if binary is None:
            raise RuntimeError("mosquitto is not installed: run tests/run-all.sh, which installs it")
        config = self.directory / "mosquitto.conf"
        config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        with (self.directory / "mosquitto.log").open("ab") as log:  # the broker keeps its own copy of the file
            self.process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, "mosquitto")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def mosquitto_server(directory: Path) -> Iterator[MosquittoServer]:
    directory.mkdir(parents=True, exist_ok=True)
    server = MosquittoServer(directory, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------ acd serve, as an operator starts it

#: The console script `pip install -e .` puts beside the interpreter running the tests.
ACD = shutil.which("acd", path=sysconfig.get_path("scripts"))
PROJECT = Path(__file__).resolve().parent.parent
#: Generous: only ever waited for, never asserted as a duration.
PATIENCE = 60.0


def command() -> list[str]:
    assert ACD is not None, "the acd console script is not installed: pip install -e '.[test]'"
    return [ACD]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class AcdServer:
    process: subprocess.Popen[bytes]
    port: int
    stderr_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_until_healthy(self) -> None:
        """Poll the health route until it answers; fail early if the process exits."""
        deadline = time.monotonic() + PATIENCE
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(f"acd serve exited with {self.process.returncode}:\n{self.stderr()}")
                try:
                    if client.get("/api/v1/health").json() == {"status": "ok", "store": "memory"}:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"acd serve did not answer within {PATIENCE} s:\n{self.stderr()}")
                time.sleep(0.05)


@contextmanager
def acd_serve(tmp_path: Path) -> Iterator[Callable[..., AcdServer]]:
    """Start `acd serve` on a free port (stdout and stderr to files); every process is killed afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> AcdServer:
        port = free_port()
        out, err = tmp_path / f"serve-{len(started)}.out", tmp_path / f"serve-{len(started)}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [*command(), "serve", "--port", str(port), "--sip", "127.0.0.1:0", *args],
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                cwd=tmp_path,
            )
        started.append(process)
        return AcdServer(process, port, err)

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=PATIENCE)

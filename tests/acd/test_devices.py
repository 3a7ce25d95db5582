"""Headsets' state over MQTT into a running `acd serve --mqtt`: a real mosquitto, messages published by a
real MQTT client (aiomqtt) as the agents' softphones publish them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import httpx
import pytest

from acd.cli import DEMO_CONFIG, DEMO_PASSWORDS
from acd.headset_topics import HeadsetState, state_topic
from acd.mqtt import Broker
from tests.servers import MosquittoServer, free_port, mosquitto_server, until, wait_for_port


@dataclass
class Running:
    broker: MosquittoServer
    admin: httpx.Client
    log: Path

    def publish(self, topic: str, payload: bytes) -> None:
        async def send() -> None:
            async with aiomqtt.Client("127.0.0.1", self.broker.port) as client:
                await client.publish(topic, payload, qos=1, retain=True)

        asyncio.run(send())

    def headset(self, agent: str, connected: bool) -> None:
        self.publish(state_topic("demo", agent), HeadsetState(agent, connected, device="Jabra Evolve2 65").payload())

    def agent(self, agent: str) -> dict[str, object]:
        return dict(self.admin.get(f"/api/v1/agents/{agent}").json())


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    directory = tmp_path_factory.mktemp("devices")
    with mosquitto_server(directory / "broker") as broker:
        port = free_port()
        command = [
            sys.executable, "-m", "acd.cli", "serve", "--port", str(port), "--sip", "off", "--mqtt", broker.url,
            "--config", str(DEMO_CONFIG),
        ]  # fmt: skip
        log = directory / "acd.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=directory)
        try:
            wait_for_port(port, process, "acd serve", 60)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as admin:
                login = admin.post("/api/v1/auth/login", json={"user": "admin", "password": DEMO_PASSWORDS["admin"]})
                admin.headers["authorization"] = f"Bearer {login.json()['token']}"
                until("the ACD following the headsets", lambda: "headsets: following" in log.read_text(), 20)
                yield Running(broker, admin, log)
        finally:
            process.terminate()
            process.wait(timeout=20)


def state(running: Running, agent: str) -> tuple[object, object, object]:
    view = running.agent(agent)
    return view["state"], view["reason"], view["headset"]


def test_an_unplugged_headset_makes_its_agent_not_ready_and_plugging_it_in_makes_it_ready(running: Running) -> None:
    assert running.admin.post("/api/v1/agents/cmartin/login").status_code == 200
    assert state(running, "cmartin") == ("available", None, None)  # nothing said of its headset yet
    running.headset("cmartin", False)
    until("cmartin not ready", lambda: state(running, "cmartin") == ("not_ready", "headset", "disconnected"), 10)
    running.headset("cmartin", True)
    until("cmartin ready again", lambda: state(running, "cmartin") == ("available", None, "connected"), 10)


def test_a_message_that_is_no_headset_state_changes_nothing_and_is_logged(running: Running) -> None:
    assert running.admin.post("/api/v1/agents/jbernard/login").status_code == 200
    running.publish(state_topic("demo", "jbernard"), b'{"connected": "no"}')
    running.publish(state_topic("demo", "nobody"), b'{"connected": false}')  # no such agent
    until(
        "the refusals logged",
        lambda: "connected must be true or false" in running.log.read_text() and "nobody" in running.log.read_text(),
        10,
    )
    assert state(running, "jbernard") == ("available", None, None)


def test_the_acd_follows_again_when_the_broker_comes_back(running: Running) -> None:
    assert running.admin.post("/api/v1/agents/sdubois/login").status_code == 200
    running.broker.stop()
    until("the loss noticed", lambda: "went away" in running.log.read_text(), 10)
    running.broker.start()  # the same port: the ACD reconnects by itself
    until("following again", lambda: running.log.read_text().count("headsets: following") == 2, 20)
    running.headset("sdubois", False)
    until("sdubois not ready", lambda: state(running, "sdubois") == ("not_ready", "headset", "disconnected"), 10)


@pytest.mark.parametrize(
    ("url", "broker"),
    [
        ("mqtt://127.0.0.1", Broker("127.0.0.1", 1883)),
        ("mqtts://broker.example:8884", Broker("broker.example", 8884, tls=True)),
        ("mqtt://[::1]:1884", Broker("::1", 1884)),
        ("mqtt://acd:s%40cret@10.0.0.5:1884", Broker("10.0.0.5", 1884, False, "acd", "s@cret")),
    ],
)
def test_a_broker_is_named_by_its_url(url: str, broker: Broker) -> None:
    assert Broker.parse(url) == broker


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1", "'redis://127.0.0.1' is not mqtt://host[:port] or mqtts://host[:port]"),
        ("mqtt://", "'mqtt://' is not mqtt://host[:port] or mqtts://host[:port]"),
        ("mqtt://host:99999", "'mqtt://host:99999': 'host:99999' is not host:port: the port must be from 1 to 65535"),
        (
            "mqtt://::1:1883",
            "'mqtt://::1:1883': '::1:1883' is not host:port: write an IPv6 address in brackets, [::1]:5060",
        ),
        ("mqtt://host/topic", "'mqtt://host/topic' is not mqtt://host[:port] or mqtts://host[:port]"),
    ],
)
def test_a_broker_url_that_is_not_one_is_refused_before_anything_starts(url: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        Broker.parse(url)
    assert str(refused.value) == message
    completed = subprocess.run(
        [sys.executable, "-m", "acd.cli", "serve", "--mqtt", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2 and f"argument --mqtt: {message}" in completed.stderr

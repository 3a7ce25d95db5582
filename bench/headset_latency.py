"""How fast an unplugged headset reaches the ACD: from a softphone's MQTT publish to the agent's state change
seen on the ACD's live feed (WebSocket), through a real mosquitto and a running `acd serve --mqtt`.

The floor, measured in the same run: the same publish reaching a bare MQTT subscriber on the same broker.
Target (the issue): the agent not ready within one second of the unplug.

    .venv/bin/python -m bench.headset_latency [--rounds 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt
import httpx
from websockets.asyncio.client import connect

from acd.cli import DEMO_CONFIG, DEMO_PASSWORDS
from acd.headset_topics import HeadsetState, state_topic
from tests.servers import free_port, mosquitto_server, until, wait_for_port

AGENT = "cmartin"


async def measure(broker_port: int, http_port: int, rounds: int) -> tuple[list[float], list[float]]:
    base = f"http://127.0.0.1:{http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        token = await http.post("/api/v1/auth/login", json={"user": "admin", "password": DEMO_PASSWORDS["admin"]})
        headers = {"authorization": f"Bearer {token.json()['token']}"}
        await http.post(f"/api/v1/agents/{AGENT}/login", headers=headers)
        feed_url = f"ws://127.0.0.1:{http_port}/api/v1/events?token={token.json()['token']}&agent={AGENT}"
        to_state, to_subscriber = [], []
        topic = state_topic("demo", AGENT)
        async with (
            connect(feed_url) as feed,
            aiomqtt.Client("127.0.0.1", broker_port) as publisher,
            aiomqtt.Client("127.0.0.1", broker_port) as subscriber,
        ):
            await subscriber.subscribe(topic, qos=1)
            messages = subscriber.messages
            for index in range(rounds * 2):
                connected = index % 2 == 1  # unplugged, then plugged in again
                wanted = "available" if connected else "not_ready"
                started = time.perf_counter()
                await publisher.publish(topic, HeadsetState(AGENT, connected).payload(), qos=1, retain=True)
                await anext(messages)
                to_subscriber.append(time.perf_counter() - started)
                while True:
                    entry = json.loads(await feed.recv())
                    if entry["kind"] == "agent_state" and entry["data"].get("state") == wanted:
                        break
                to_state.append(time.perf_counter() - started)
    return to_state, to_subscriber


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, mosquitto_server(Path(directory) / "broker") as broker:
        http_port = free_port()
        log = Path(directory) / "acd.log"
        command = [sys.executable, "-m", "acd.cli", "serve", "--port", str(http_port), "--sip", "off",
                   "--mqtt", broker.url, "--config", str(DEMO_CONFIG), "--log-level", "warning"]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=directory)
        try:
            wait_for_port(http_port, process, "acd serve", 60)
            until("the ACD following the headsets", lambda: "headsets: following" in log.read_text(), 20)
            to_state, to_subscriber = asyncio.run(measure(broker.port, http_port, args.rounds))
        finally:
            process.terminate()
            process.wait(timeout=20)
    for name, values in (("publish -> a bare subscriber (floor)", to_subscriber),
                         ("publish -> agent state on the ACD's feed", to_state)):  # fmt: skip
        values.sort()
        p99 = values[max(0, int(len(values) * 0.99) - 1)]
        print(f"{name}: p50 {statistics.median(values) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
              f"max {values[-1] * 1000:.2f} ms over {len(values)}")  # fmt: skip


if __name__ == "__main__":
    main()

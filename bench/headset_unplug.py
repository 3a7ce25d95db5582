"""How fast a headset pulled out takes its agent out of the calls' way, end to end: PulseAudio drops the
headset's devices → `acd softphone` notices (the sound server's event) → publishes on MQTT → `acd serve
--mqtt` makes the agent not ready → seen on the ACD's live feed (WebSocket). Then plugged back: ready again.

The floor, measured in the same run: the sound server's own event (the headset's sink removed) reaching a
bare listener. Target (the issue): the agent not ready within one second of the unplug.

    .venv/bin/python -m bench.headset_unplug [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pulsectl
from websockets.asyncio.client import connect

from tests.media.sipp import demo_config, running_centre
from tests.pulse import HEADSET, PulseServer, pulse_server
from tests.servers import mosquitto_server, until

AGENT = "cmartin"


def removals(server: str, seen: list[float], stop: threading.Event) -> None:
    """The floor: when the sound server says the headset's sink went away, to a bare listener."""
    with pulsectl.Pulse("bench floor", server=server) as pulse:
        pulse.event_mask_set("sink")
        pulse.event_callback_set(lambda event: seen.append(time.monotonic()) if event.t == "remove" else None)
        while not stop.is_set():
            pulse.event_listen(timeout=0.2)


async def rounds_of(pulse: PulseServer, feed_url: str, rounds: int) -> tuple[list[float], list[float]]:
    floor_seen: list[float] = []
    stop = threading.Event()
    listener = threading.Thread(target=removals, args=(pulse.server, floor_seen, stop), daemon=True)
    listener.start()
    to_agent, to_floor = [], []
    async with connect(feed_url) as feed:
        for _ in range(rounds):
            started = time.monotonic()
            await asyncio.to_thread(pulse.unplug, HEADSET)
            await _state(feed, "not_ready")
            to_agent.append(time.monotonic() - started)
            until("the floor's event", lambda: floor_seen, 5)
            to_floor.append(floor_seen.pop() - started)
            await asyncio.to_thread(pulse.plug, HEADSET)
            await _state(feed, "available")
    stop.set()
    listener.join()
    return to_agent, to_floor


async def _state(feed: object, state: str) -> None:
    while True:
        decision = json.loads(await asyncio.wait_for(feed.recv(), 10))  # type: ignore[attr-defined]
        if decision["kind"] == "agent_state" and decision["data"]["state"] == state:
            return


def summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"{name:<44} p50 {statistics.median(ms):7.1f} ms   p99 {p99:7.1f} ms   max {ms[-1]:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        config = demo_config(directory)
        with (
            pulse_server(directory / "pulse") as pulse,
            mosquitto_server(directory / "mqtt") as broker,
            running_centre(directory, config, "--mqtt", broker.url) as centre,
        ):
            env = {**os.environ, **pulse.env, "ACD_PASSWORD": "agent-demo", "ACD_SIP_PASSWORD": "phone-demo"}
            command = [
                sys.executable, "-m", "acd.cli", "softphone", "--server", f"127.0.0.1:{centre.sip}",
                "--api", f"http://127.0.0.1:{centre.http}", "--user", AGENT, "--headset", "evolve",
                "--mqtt", broker.url, "--ready",
            ]  # fmt: skip
            with (directory / "softphone.log").open("wb") as log:
                softphone = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env
                )
            try:
                until(
                    "the agent ready",
                    lambda: centre.admin.get(f"/api/v1/agents/{AGENT}").json()["state"] == "available",
                    30,
                )
                token = centre.admin.headers["authorization"].split()[1]
                feed = f"ws://127.0.0.1:{centre.http}/api/v1/events?token={token}&agent={AGENT}"
                to_agent, to_floor = asyncio.run(rounds_of(pulse, feed, args.rounds))
            except TimeoutError:
                softphone.send_signal(signal.SIGUSR1)  # its threads' stacks, into its log
                time.sleep(1)
                print((directory / "softphone.log").read_text(errors="replace")[-6000:])
                raise
            finally:
                softphone.terminate()
                try:
                    softphone.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    softphone.kill()
                    softphone.communicate()
                    print((directory / "softphone.log").read_text(errors="replace")[-4000:])
                    raise
    print(
        f"headset unplugged → agent not ready, {args.rounds} rounds (PulseAudio, mosquitto, acd serve, acd softphone)"
    )
    print(summary("unplug → agent not_ready on the ACD's feed", to_agent))
    print(summary("floor: unplug → the sound server's event", to_floor))
    return 0


if __name__ == "__main__":
    sys.exit(main())

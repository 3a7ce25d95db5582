"""The softphone's headset state on MQTT (the scheme in `acd.headset_topics`): published retained at QoS 1 on
every change, so that an ACD starting later reads the last one; the will says `connected: false`, so that
a softphone that dies (or a PC that sleeps) takes its agent out of the calls' way. A broker that goes
away is retried every second, and the latest state is published again on reconnection."""

from __future__ import annotations

import asyncio
import logging

import aiomqtt

from acd.headset_topics import HeadsetState, state_topic
from acd.mqtt import Broker

log = logging.getLogger("headsets.mqtt")
RETRY = 1.0


class HeadsetPublisher:
    def __init__(self, broker: Broker, deployment: str, agent: str) -> None:
        self.broker = broker
        self.topic = state_topic(deployment, agent)
        self.gone = HeadsetState(agent, connected=False)
        self.latest: HeadsetState | None = None
        self.sent: HeadsetState | None = None
        self._changed = asyncio.Event()

    def publish(self, state: HeadsetState) -> None:
        """Publish `state` as soon as the broker can be reached (only the latest one counts)."""
        self.latest = state
        self._changed.set()

    async def run(self) -> None:
        """Publish until cancelled; then say the headset is gone (the agent is not at this softphone any more)."""
        will = aiomqtt.Will(self.topic, self.gone.payload(), qos=1, retain=True)
        while True:
            try:
                async with self.broker.client(will=will) as client:
                    log.info("headset state on %s (%s:%d)", self.topic, self.broker.host, self.broker.port)
                    try:
                        await self._publish_changes(client)
                    except asyncio.CancelledError:
                        await asyncio.shield(client.publish(self.topic, self.gone.payload(), qos=1, retain=True))
                        raise
            except aiomqtt.MqttError as error:
                log.warning(
                    "the MQTT broker %s:%d: %s; again in %.0f s", self.broker.host, self.broker.port, error, RETRY
                )
                self.sent = None
                await asyncio.sleep(RETRY)

    async def _publish_changes(self, client: aiomqtt.Client) -> None:
        while True:
            state = self.latest
            if state is not None and state != self.sent:
                await client.publish(self.topic, state.payload(), qos=1, retain=True)
                self.sent = state
            self._changed.clear()
            if self.latest == self.sent:
                await self._changed.wait()

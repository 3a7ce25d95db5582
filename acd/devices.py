"""The agents' devices seen from the ACD (`acd serve --mqtt mqtt://host:port`): each softphone publishes its
headset's state on MQTT (`acd/headset_topics.py`); the ACD follows every agent's topic and tells the core when a
headset is plugged in or unplugged (`HeadsetChanged`). Without a broker, nothing here runs.

A message that is not a headset state is logged and changes nothing; the broker going away is retried every
second, and on reconnection the retained states bring the core up to date.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiomqtt

from acd.errors import AcdError
from acd.events import HeadsetChanged
from acd.headset_topics import HeadsetMessageError, parse_state, subscription
from acd.mqtt import Broker
from acd.service import AcdService

log = logging.getLogger("acd.devices")
RETRY = 1.0  # seconds between attempts to reach the broker


class HeadsetFeed:
    """Follows every agent's headset topic on `broker` while running; each node of a deployment may run one
    (the core takes a state it already has as no change)."""

    def __init__(self, service: AcdService, broker: Broker) -> None:
        self.service = service
        self.broker = broker
        self.topics = subscription(service.deployment.settings.name)
        self._told: dict[str, bool] = {}  # what the core was last told of each agent's headset
        self.reachable = False

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HeadsetFeed]:
        async with asyncio.TaskGroup() as group:
            follower = group.create_task(self._follow_forever())
            try:
                yield self
            finally:
                follower.cancel()

    async def _follow_forever(self) -> None:
        broker = self.broker
        while True:
            try:
                async with broker.client() as client:
                    await client.subscribe(self.topics, qos=1)
                    self.reachable = True
                    log.info("headsets: following %s on %s:%d", self.topics, broker.host, broker.port)
                    async for message in client.messages:
                        await self.take(str(message.topic), _bytes(message.payload))
            except aiomqtt.MqttError as error:
                if self.reachable:
                    log.warning("headsets: the MQTT broker %s:%d went away (%s)", broker.host, broker.port, error)
                self.reachable = False
                await asyncio.sleep(RETRY)

    async def take(self, topic: str, payload: bytes) -> None:
        """One message: the core is told when an agent's headset was plugged in or unplugged."""
        try:
            state = parse_state(self.service.deployment.settings.name, topic, payload)
        except HeadsetMessageError as error:
            log.warning("headsets: message refused: %s", error)
            return
        if self._told.get(state.agent) == state.connected:
            return  # a mute, a ring, a hook: the softphone's business, not the core's
        try:
            await self.service.submit(HeadsetChanged(state.agent, state.connected))
        except AcdError as error:
            log.warning("headsets: %s: %s", topic, error)
            return
        self._told[state.agent] = state.connected


def _bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return str(payload).encode() if payload is not None else b""

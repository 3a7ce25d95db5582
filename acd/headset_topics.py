"""The MQTT topic scheme of the agents' headsets, and the state message a softphone publishes. Pure.

    acd/<deployment>/agents/<agent>/headset      retained, QoS 1, a JSON object:

    {"connected": true, "hook": "off", "muted": false, "ringing": false, "held": false, "device": "Jabra Evolve2 65"}

`connected` is required (whether a headset is plugged in); `hook` is "on" (hung up) or "off" (off-hook,
in a call); the other flags default to false and `device` to null. A softphone publishes the whole state
on every change, retained, so that an ACD starting later reads the last one; its will (the message the
broker sends when the softphone vanishes) says `connected: false`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

PREFIX = "acd"
_IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class HeadsetMessageError(ValueError):
    """A message on a headset topic that is not a headset state: it changes nothing."""


@dataclass(frozen=True, slots=True)
class HeadsetState:
    agent: str
    connected: bool
    hook: str = "on"
    muted: bool = False
    ringing: bool = False
    held: bool = False
    device: str | None = None

    def payload(self) -> bytes:
        state = {
            "connected": self.connected, "hook": self.hook, "muted": self.muted, "ringing": self.ringing,
            "held": self.held, "device": self.device,
        }  # fmt: skip
        return json.dumps(state, separators=(",", ":")).encode()


def state_topic(deployment: str, agent: str) -> str:
    return f"{PREFIX}/{deployment}/agents/{agent}/headset"


def subscription(deployment: str) -> str:
    """Every agent's headset of one deployment."""
    return f"{PREFIX}/{deployment}/agents/+/headset"


def parse_state(deployment: str, topic: str, payload: bytes) -> HeadsetState:
    """The state a message says; HeadsetMessageError naming what is wrong."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[:3] != [PREFIX, deployment, "agents"] or parts[4] != "headset":
        raise HeadsetMessageError(f"topic {topic!r} is not {state_topic(deployment, '<agent>')}")
    agent = parts[3]
    if not _IDENTIFIER.match(agent):
        raise HeadsetMessageError(f"topic {topic!r}: {agent!r} is not an agent id")
    try:
        state = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HeadsetMessageError(f"{topic}: the payload is not JSON ({error})") from None
    if not isinstance(state, dict):
        raise HeadsetMessageError(f"{topic}: the payload is not a JSON object")
    unknown = sorted(set(state) - {"connected", "hook", "muted", "ringing", "held", "device"})
    if unknown:
        raise HeadsetMessageError(f"{topic}: unknown field {unknown[0]!r}")
    if not isinstance(state.get("connected"), bool):
        raise HeadsetMessageError(f"{topic}: connected must be true or false")
    hook = state.get("hook", "on")
    if hook not in ("on", "off"):
        raise HeadsetMessageError(f"{topic}: hook must be 'on' or 'off'")
    flags = {name: state.get(name, False) for name in ("muted", "ringing", "held")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise HeadsetMessageError(f"{topic}: {name} must be true or false")
    device = state.get("device")
    if device is not None and not (isinstance(device, str) and len(device) <= 200):
        raise HeadsetMessageError(f"{topic}: device must be a name (at most 200 characters) or null")
    return HeadsetState(agent, state["connected"], hook, device=device, **flags)

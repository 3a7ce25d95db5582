"""Which sound devices are the agent's headset: its earpiece (a sink) and its microphone (a source).

An agent names their headset by a part of its name ("evolve", "Jabra"), matched without regard to case against
what PulseAudio calls each device. `choose` decides, without I/O; `list_devices` asks the sound server.

A sink's *monitor* is a source too, whose description also carries the headset's name ("Monitor of Jabra
Evolve2 40"), but it hears the earpiece, not the agent: it is never chosen as a microphone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

CLIENT_NAME = "acd headset"  # how the sound server lists this connection
_NOT_A_MONITOR = 0xFFFFFFFF  # PA_INVALID_INDEX: a source's monitor_of_sink when it monitors no sink


class Kind(Enum):
    SINK = "sink"  # plays: the earpiece
    SOURCE = "source"  # records: the microphone


class AudioDeviceError(RuntimeError):
    """The sound server could not be reached, or refused to list its devices."""


@dataclass(frozen=True, slots=True)
class Device:
    """A sink or a source, as the sound server lists it."""

    name: str  # the server's identifier, e.g. "alsa_output.usb-GN_Audio_A_S_Jabra_Evolve2_40_…analog-stereo"
    description: str  # what people read, e.g. "Jabra Evolve2 40 Analog Stereo"
    kind: Kind
    monitor: bool = False  # a sink's monitor source
    serial: str | None = None  # udev's device.serial: what a USB card's sink and source share

    def __post_init__(self) -> None:
        if self.monitor and self.kind is not Kind.SOURCE:
            raise ValueError(f"sink {self.name!r} cannot be a monitor: only sources monitor sinks")


def matches(devices: list[Device], name_part: str, kind: Kind) -> list[Device]:
    """The devices of `kind` whose description or name holds `name_part` (any case), the best first.

    The best is a device whose card has both a sink and a source (a headset, rather than a lone loopback or
    virtual sink that happens to share the name), then one whose description holds the words rather than only
    its identifier; otherwise the server's order is kept.
    """
    wanted = name_part.strip().casefold()
    if not wanted:
        raise ValueError("the name part is empty: it would match every device")
    found = [
        device
        for device in devices
        if device.kind is kind
        and not device.monitor
        and (wanted in device.description.casefold() or wanted in device.name.casefold())
    ]
    other = Kind.SOURCE if kind is Kind.SINK else Kind.SINK
    paired = {device.serial for device in devices if device.kind is other and not device.monitor and device.serial}

    def rank(device: Device) -> tuple[bool, bool]:
        return device.serial not in paired, wanted not in device.description.casefold()

    return sorted(found, key=rank)  # sorted() is stable: ties keep the server's order


def choose(devices: list[Device], name_part: str, kind: Kind) -> Device | None:
    """The best device of `kind` for `name_part`, or None when none matches."""
    found = matches(devices, name_part, kind)
    return found[0] if found else None


def list_devices(server: str | None = None) -> list[Device]:
    """The sinks then the sources of a PulseAudio server (or PipeWire's pulse server).

    `server` is a libpulse server string such as "unix:/run/user/1000/pulse/native"; None means the one libpulse
    finds by itself (PULSE_SERVER, then the user's own).
    """
    import pulsectl  # imported here: choosing needs no sound server library

    try:
        with pulsectl.Pulse(CLIENT_NAME, server=server) as pulse:
            sinks: list[Any] = pulse.sink_list()
            sources: list[Any] = pulse.source_list()
    except pulsectl.PulseError as exc:
        raise AudioDeviceError(f"cannot list the sound devices of {server or 'the default server'}: {exc}") from exc
    return [
        *(Device(sink.name, sink.description, Kind.SINK, serial=sink.proplist.get("device.serial")) for sink in sinks),
        *(
            Device(
                source.name,
                source.description,
                Kind.SOURCE,
                monitor=source.monitor_of_sink != _NOT_A_MONITOR or source.proplist.get("device.class") == "monitor",
                serial=source.proplist.get("device.serial"),
            )
            for source in sources
        ),
    ]

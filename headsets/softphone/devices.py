"""The headset's earpiece and microphone as sound streams (`sounddevice`), fed by and feeding `Sound`.

The pjsua2 wheel has no sound device of its own; PortAudio (as Debian builds it) speaks ALSA, whose
`pulse` device reaches the desktop's sound server (PulseAudio, or PipeWire's pulse server). Each stream
opens on that device with PULSE_SINK / PULSE_SOURCE naming the headset's sink and source, which libpulse
reads at every open.

When the headset goes away mid-call the sound server moves both streams to the default device at once
(the call goes on, heard on the laptop's speaker); with no device left the streams die, and they are
opened again as soon as a device comes. When the headset comes back, the streams are opened on it again.
`refresh()` looks (the softphone calls it twice a second) and says when the headset came or went.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from headsets.audio_devices import AudioDeviceError, Device, Kind, choose, list_devices
from headsets.softphone.events import HeadsetPresence
from headsets.softphone.sound import RATE, Sound

log = logging.getLogger("headsets.sound")
BLOCK = RATE // 100  # 10 ms blocks: the device's clock asks for little at a time, latency stays low


@dataclass(frozen=True, slots=True)
class Route:
    """Where the streams go: the headset's sink and source, or the server's defaults (None)."""

    sink: Device | None
    source: Device | None

    @property
    def on_headset(self) -> bool:
        return self.sink is not None


class HeadsetSound:
    def __init__(self, sound: Sound, headset: str | None, server: str | None = None) -> None:
        self.sound, self.headset, self.server = sound, headset, server
        self.route: Route | None = None
        self.streams: list[Any] = []
        self.reachable = True
        self._silent = False  # no device could be opened: said once, tried again at each refresh

    def start(self) -> HeadsetPresence | None:
        """Open the streams on the headset if it is there, else on the default devices; say whether the
        headset the agent named is there (None when it named none)."""
        if self.server is not None:
            os.environ["PULSE_SERVER"] = self.server
        route = self._route()
        self._open(route)
        if self.headset is None:
            return None
        if route.sink is not None:
            return HeadsetPresence(True, route.sink.description)
        return HeadsetPresence(False, self._fallback_name())

    def refresh(self) -> HeadsetPresence | None:
        """Look at the devices; open the streams again where needed; say when the headset came or went."""
        route = self._route()
        before = self.route
        streams_dead = not self.streams or not all(stream.active for stream in self.streams)
        if route != before or streams_dead:
            self._open(route)
        if self.headset is None or before is None or route.on_headset == before.on_headset:
            return None
        if route.sink is not None:
            return HeadsetPresence(True, route.sink.description)
        return HeadsetPresence(False, self._fallback_name())

    def close(self) -> None:
        for stream in self.streams:
            try:
                stream.stop()
                stream.close()
            except Exception as error:  # noqa: BLE001 — a stream whose device died may refuse: nothing to keep
                log.debug("closing a stream: %s", error)
        self.streams = []

    # ---------------------------------------------------------------------------------------------------

    def _route(self) -> Route:
        if self.headset is None:
            return Route(None, None)
        try:
            devices = list_devices(self.server)
        except AudioDeviceError as error:
            if self.reachable:
                log.warning("%s", error)
            self.reachable = False
            return self.route or Route(None, None)
        self.reachable = True
        return Route(choose(devices, self.headset, Kind.SINK), choose(devices, self.headset, Kind.SOURCE))

    def _fallback_name(self) -> str | None:
        try:
            devices = list_devices(self.server)
        except AudioDeviceError:
            return None
        sinks = [d for d in devices if d.kind is Kind.SINK]
        return sinks[0].description if sinks else None

    def _open(self, route: Route) -> None:
        import sounddevice

        self.close()
        self.sound.forget()
        self.route = route
        try:
            self.streams = [
                self._stream(sounddevice.RawOutputStream, "PULSE_SINK", route.sink, self._play),
                self._stream(sounddevice.RawInputStream, "PULSE_SOURCE", route.source, self._record),
            ]
        except sounddevice.PortAudioError as error:  # no device at all: silence until one comes
            self.close()
            if not self._silent:
                log.warning("no sound device: %s", error)
            self._silent = True
            return
        self._silent = False
        log.info("sound on %s", route.sink.description if route.sink else "the default sound device")

    def _stream(self, kind: Any, variable: str, device: Device | None, callback: Any) -> Any:
        if device is not None:
            os.environ[variable] = device.name
        else:
            os.environ.pop(variable, None)
        stream = kind(
            device=_pulse_device(), samplerate=RATE, channels=1, dtype="int16",
            blocksize=BLOCK, latency="low", callback=callback,
        )  # fmt: skip
        stream.start()
        return stream

    def _play(self, out: Any, frames: int, time: Any, status: Any) -> None:
        out[:] = self.sound.play(len(out))

    def _record(self, data: Any, frames: int, time: Any, status: Any) -> None:
        self.sound.record(bytes(data))


def _pulse_device() -> str | None:
    """ALSA's `pulse` device where PortAudio lists it (libasound2-plugins), else ALSA's default."""
    import sounddevice

    names = {device["name"] for device in sounddevice.query_devices()}
    return "pulse" if "pulse" in names else None

"""The headset's earpiece and microphone as sound streams (`sounddevice`), fed by and feeding `Sound`.

The pjsua2 wheel has no sound device of its own; PortAudio (as Debian builds it) speaks ALSA, whose
`pulse` device reaches the desktop's sound server (PulseAudio, or PipeWire's pulse server). Each stream
opens on that device with PULSE_SINK / PULSE_SOURCE naming the headset's sink and source (libpulse reads
them at every open) and a property naming it, so that the softphone finds its streams on the server.

When the headset goes away mid-call the sound server moves both streams to the default device at once:
the call goes on, heard on the laptop's speaker. When it comes back, the streams are moved back to it
through the sound server: no stream is closed or opened for that, because PortAudio can block for good
when it starts a stream on a device that is going. Only streams that died (no device left at all) are
opened again, once the devices have stopped changing.

`look()` (quick: it lists the server's devices) says where the streams should be and `change()` whether
the headset came or went; `follow()` (blocking: run in the `SoundThread`) puts the streams there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from headsets.audio_devices import AudioDeviceError, Device, Kind, choose, list_devices
from headsets.softphone.events import HeadsetPresence
from headsets.softphone.sound import RATE, Sound
from headsets.threads import ThreadBridge

log = logging.getLogger("headsets.sound")
T = TypeVar("T")
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
        self.seen: Route | None = None  # where the headset was at the last look
        self.route: Route | None = None  # where the streams were put
        self.streams: list[Any] = []
        self.fallback: str | None = None  # the name of the first sink the last look found
        self.reachable = True
        self._silent = False  # no device could be opened: said once, tried again at each look

    def start(self) -> HeadsetPresence | None:
        """Open the streams on the headset if it is there, else on the default devices; say whether the
        headset the agent named is there (None when it named none)."""
        if self.server is not None:
            os.environ["PULSE_SERVER"] = self.server
        route = self.look()
        self.seen = route
        self._open(route)
        return None if self.headset is None else self._presence(route)

    def look(self) -> Route:
        """Where the headset's sink and source are now (both None: not there, or none named)."""
        if self.headset is None:
            return Route(None, None)
        try:
            devices = list_devices(self.server)
        except AudioDeviceError as error:
            if self.reachable:
                log.warning("%s", error)
            self.reachable = False
            return self.seen or Route(None, None)
        self.reachable = True
        sinks = [device for device in devices if device.kind is Kind.SINK]
        self.fallback = sinks[0].description if sinks else None  # where the sound goes without the headset
        return Route(choose(devices, self.headset, Kind.SINK), choose(devices, self.headset, Kind.SOURCE))

    def change(self, route: Route) -> HeadsetPresence | None:
        """The headset came or went since the last look: what to tell the desk (None: no change)."""
        before, self.seen = self.seen, route
        if self.headset is None or before is None or route.on_headset == before.on_headset:
            return None
        return self._presence(route)

    def follow(self, route: Route) -> bool:
        """Put the streams where `route` says: moved by the sound server, or opened again if they died and
        the devices have not changed since (`route` is still what a new look finds). Blocking. Whether it
        did anything (then the devices may have changed meanwhile: worth another look)."""
        alive = bool(self.streams) and all(stream.active for stream in self.streams)
        if not alive:
            if self.look() != route:
                return True
            return self._open(route)  # when no device opens, the next event (or look) tries again
        if route != self.route:
            self._move(route)
            return True
        return False

    def close(self) -> None:
        for stream in self.streams:
            try:
                stream.abort()  # not stop(): no waiting for the buffers of a device that may be gone
                stream.close()
            except Exception as error:  # noqa: BLE001 — a stream whose device died may refuse: nothing to keep
                log.debug("closing a stream: %s", error)
        self.streams = []

    # ---------------------------------------------------------------------------------------------------

    def _presence(self, route: Route) -> HeadsetPresence:
        if route.sink is not None:
            return HeadsetPresence(True, route.sink.description)
        return HeadsetPresence(False, self.fallback)

    def _move(self, route: Route) -> None:
        """Move this softphone's two streams on the sound server (to the server's defaults for None)."""
        import pulsectl

        try:
            with pulsectl.Pulse("acd softphone", server=self.server) as pulse:
                defaults = pulse.server_info()
                sink = route.sink.name if route.sink else defaults.default_sink_name
                source = route.source.name if route.source else defaults.default_source_name
                for stream in pulse.sink_input_list():
                    if _ours(stream, "earpiece"):
                        pulse.sink_input_move(stream.index, pulse.get_sink_by_name(sink).index)
                for stream in pulse.source_output_list():
                    if _ours(stream, "microphone"):
                        pulse.source_output_move(stream.index, pulse.get_source_by_name(source).index)
        except pulsectl.PulseError as error:  # the device went again meanwhile: the next look sees it
            log.info("moving the sound to %s: %s", route.sink.description if route.sink else "the default", error)
            return
        self.route = route
        log.info("sound on %s", route.sink.description if route.sink else "the default sound device")

    def _open(self, route: Route) -> bool:
        import sounddevice

        self.close()
        self.sound.forget()
        self.route = route
        try:
            self.streams = [
                self._stream(sounddevice.RawOutputStream, "PULSE_SINK", route.sink, "earpiece", self._play),
                self._stream(sounddevice.RawInputStream, "PULSE_SOURCE", route.source, "microphone", self._record),
            ]
        except sounddevice.PortAudioError as error:  # no device at all: silence until one comes
            self.close()
            if not self._silent:
                log.warning("no sound device: %s", error)
            self._silent = True
            return False
        self._silent = False
        log.info("sound on %s", route.sink.description if route.sink else "the default sound device")
        return True

    def _stream(self, kind: Any, variable: str, device: Device | None, leg: str, callback: Any) -> Any:
        if device is not None:
            os.environ[variable] = device.name
        else:
            os.environ.pop(variable, None)
        os.environ[_LEG] = leg  # libpulse gives the stream this property: `_move` finds it by it
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


_LEG = "PULSE_PROP_acd.softphone.leg"


def _ours(stream: Any, leg: str) -> bool:
    properties = stream.proplist
    return bool(
        properties.get("acd.softphone.leg") == leg and properties.get("application.process.id") == str(os.getpid())
    )


def _pulse_device() -> str | None:
    """ALSA's `pulse` device where PortAudio lists it (libasound2-plugins), else ALSA's default."""
    import sounddevice

    names = {device["name"] for device in sounddevice.query_devices()}
    return "pulse" if "pulse" in names else None


class SoundThread:
    """The one thread where the sound devices are opened, looked at and closed: PortAudio and the sound
    server block (seconds, when a device is going), the event loop must not. A daemon thread, so that a
    call stuck in a sound library never keeps the softphone from exiting."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.bridge = ThreadBridge(loop)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="softphone-sound", daemon=True)
        self._thread.start()

    def run(self, job: Callable[[], T]) -> asyncio.Future[T]:
        """`job()` in the sound thread; its result (or its exception) in the returned future."""
        future: asyncio.Future[T] = self.loop.create_future()

        def done(result: T | None, error: BaseException | None) -> None:
            if future.cancelled():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        def call() -> None:
            try:
                result = job()
            except Exception as error:  # noqa: BLE001 — handed to the awaiting side
                self.bridge.post(done, None, error)
            else:
                self.bridge.post(done, result, None)

        self._jobs.put(call)
        return future

    def stop(self) -> None:
        self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

"""A headset's HID device for real: hidapi's hidraw backend, read in a thread of its own.

`Transport` is what the reader needs of a device (a test replays captured bytes through it); `Hidraw`
opens a /dev/hidraw node with hidapi (`hidraw` module of the `hidapi` package). `HeadsetReader` is the one
bridge between the blocking reads and asyncio: it reads in its thread, hands each report to the event loop
(`headsets.threads.ThreadBridge`), where the protocol turns it into events and its answers are written.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Protocol

from headsets.hid.controls import Controls
from headsets.hid.protocol import Event, HeadsetProtocol, Leds
from headsets.hid.usages import Usage
from headsets.threads import ThreadBridge

READ_TIMEOUT = 0.2  # seconds a read waits: how soon the reader notices it is asked to stop
TELEPHONY_HEADSET = (0x0B, 0x05)  # usage page and usage of a headset's top-level collection


class Transport(Protocol):
    def descriptor(self) -> bytes: ...

    def read(self, timeout: float) -> bytes | None:
        """One input report, or None when none came within `timeout`; OSError when the device is gone."""

    def write(self, report: bytes) -> None: ...

    def close(self) -> None: ...


class Hidraw:
    """A hidraw node through hidapi."""

    def __init__(self, path: bytes) -> None:
        import hidraw  # hidapi's hidraw backend: the kernel's view of the device, as the issue asks

        self._device: Any = hidraw.device()
        self._device.open_path(path)
        self.path = path

    @staticmethod
    def headsets() -> list[dict[str, Any]]:
        """The telephony headsets plugged in (their top-level collection is Telephony / Headset)."""
        import hidraw

        return [d for d in hidraw.enumerate() if (d.get("usage_page"), d.get("usage")) == TELEPHONY_HEADSET]

    def descriptor(self) -> bytes:
        return bytes(self._device.get_report_descriptor())

    def read(self, timeout: float) -> bytes | None:
        data = self._device.read(64, int(timeout * 1000))
        return bytes(data) if data else None

    def write(self, report: bytes) -> None:
        self._device.write(report)

    def close(self) -> None:
        self._device.close()


class HeadsetReader:
    """Reads `transport` in a thread; `on_event` (on the event loop) hears each button, `on_lost` the device
    going away. `show` lights the LEDs for the call's state."""

    def __init__(
        self,
        transport: Transport,
        loop: asyncio.AbstractEventLoop,
        on_event: Callable[[Event], None],
        on_lost: Callable[[], None],
    ) -> None:
        controls = Controls.from_descriptor(transport.descriptor())
        controls.require_hook_switch(Usage.HOOK_SWITCH)
        self.protocol = HeadsetProtocol(controls)
        self.transport, self.loop = transport, loop
        self.bridge = ThreadBridge(loop)
        self.on_event, self.on_lost = on_event, on_lost
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._read_forever, name="headset-hid", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5 * READ_TIMEOUT)
        self.transport.close()

    def show(self, leds: Leds) -> None:
        for report in self.protocol.show(leds):
            self._write(report)

    def _read_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                report = self.transport.read(READ_TIMEOUT)
            except OSError:  # unplugged: hidraw reads fail once the node is gone
                self.bridge.post(self.on_lost)
                return
            if report is not None:
                self.bridge.post(self._received, report)

    def _received(self, report: bytes) -> None:
        events = self.protocol.receive(report)
        pending, self.protocol.pending = self.protocol.pending, []
        for answer in pending:  # the mute handshake first: the headset waits for it
            self._write(answer)
        for event in events:
            self.on_event(event)

    def _write(self, report: bytes) -> None:
        try:
            self.transport.write(report)
        except OSError:
            self.loop.call_soon(self.on_lost)

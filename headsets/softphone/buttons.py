"""The headset's buttons and lights, found again whenever it is plugged in.

`HeadsetButtons` holds at most one HID reader (`headsets.hid.transport.HeadsetReader`) on the headset
the agent chose: `scan()` (called at start and whenever devices come or go) opens it when it is there,
and a reader whose device went away is dropped until the next scan finds it again. The LEDs the desk
asks for are remembered, so a headset plugged in mid-call lights up as the call is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from headsets.hid.controls import DescriptorError
from headsets.hid.protocol import Event, Leds
from headsets.hid.transport import HeadsetReader, Hidraw, Transport

log = logging.getLogger("headsets.buttons")


def hidraw_named(part: str | None) -> Callable[[], Transport | None]:
    """Finds the telephony headset whose product name holds `part` (any headset without one)."""

    def find() -> Transport | None:
        for device in Hidraw.headsets():
            name = f"{device.get('manufacturer_string') or ''} {device.get('product_string') or ''}"
            if part is None or part.casefold() in name.casefold():
                try:
                    return Hidraw(device["path"])
                except OSError as error:  # not ours to open (permissions: see the README's udev rule)
                    log.warning("headset %s: %s", name.strip(), error)
        return None

    return find


class HeadsetButtons:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        find: Callable[[], Transport | None],
        on_event: Callable[[Event], None],
    ) -> None:
        self.loop, self.find, self.on_event = loop, find, on_event
        self.reader: HeadsetReader | None = None
        self.leds = Leds()

    @property
    def present(self) -> bool:
        return self.reader is not None

    def scan(self) -> None:
        """Open the headset's buttons if they are not open and the headset is there."""
        if self.reader is not None:
            return
        transport = self.find()
        if transport is None:
            return
        try:
            reader = HeadsetReader(transport, self.loop, self.on_event, self._lost)
        except DescriptorError as error:
            log.warning("the headset's buttons cannot be used: %s", error)
            transport.close()
            return
        self.reader = reader
        reader.start()
        reader.show(self.leds)
        log.info("the headset's buttons are read")

    def show(self, leds: Leds) -> None:
        self.leds = leds
        if self.reader is not None and leds != self.reader.protocol.leds:
            self.reader.show(leds)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.stop()
            self.reader = None

    def _lost(self) -> None:
        log.info("the headset's buttons went away")
        self.close()

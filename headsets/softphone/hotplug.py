"""Headsets plugged in and pulled out, told by udev where it runs (its netlink socket, read with pyudev on
the event loop): the softphone looks at its devices at once instead of at its next periodic look."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

log = logging.getLogger("headsets.hotplug")
UDEV_RUNNING = "/run/udev/control"  # udevd's socket: without udevd no device event is ever sent


def follow_udev(loop: asyncio.AbstractEventLoop, on_change: Callable[[], None]) -> Callable[[], None] | None:
    """Call `on_change` whenever a HID or sound device comes or goes; the returned function stops it.
    None where udev does not run (a container) or pyudev cannot open its netlink socket."""
    if not os.path.exists(UDEV_RUNNING):
        return None
    try:
        import pyudev

        monitor = pyudev.Monitor.from_netlink(pyudev.Context())
        monitor.filter_by("hidraw")
        monitor.filter_by("sound")
        monitor.start()
    except (ImportError, OSError) as error:
        log.info("no udev events (%s): devices are looked at periodically", error)
        return None

    def readable() -> None:
        while monitor.poll(timeout=0) is not None:  # drain: one look serves every event
            pass
        on_change()

    loop.add_reader(monitor.fileno(), readable)

    def stop() -> None:
        loop.remove_reader(monitor.fileno())

    return stop

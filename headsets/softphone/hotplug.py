"""Headsets plugged in and pulled out, told as they happen: by udev where it runs (its netlink socket,
read with pyudev on the event loop), and by the sound server (its sink and source events, in a thread of
its own). Either way the softphone looks at its devices at once instead of at its next periodic look."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from headsets.threads import ThreadBridge

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


def follow_sound_server(
    loop: asyncio.AbstractEventLoop, on_change: Callable[[], None], server: str | None = None
) -> Callable[[], None] | None:
    """Call `on_change` whenever the sound server gains or loses a sink or a source (a headset's sound
    comes or goes), from a thread of its own listening to the server's events; the returned function stops
    it. None where no sound server answers (the periodic look still runs)."""
    import pulsectl

    try:
        pulse = pulsectl.Pulse("acd softphone events", server=server)
    except pulsectl.PulseError as error:
        log.info("no sound server events (%s): devices are looked at periodically", error)
        return None
    stopping = threading.Event()
    bridge = ThreadBridge(loop)

    def changed(event: Any) -> None:
        if event.t in ("new", "remove"):  # "change" events (volumes, states) come by the dozen: not devices
            bridge.post(on_change)

    def listen() -> None:
        pulse.event_mask_set("sink", "source")
        pulse.event_callback_set(changed)
        try:
            while not stopping.is_set():
                pulse.event_listen(timeout=0.2)  # returns at least every 0.2 s to see whether to stop
        except pulsectl.PulseError as error:  # the server went away: the periodic look takes over
            log.info("the sound server's events stopped: %s", error)
        finally:
            pulse.close()

    thread = threading.Thread(target=listen, name="softphone-sound-events", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=2)

    return stop

"""The one bridge from the softphone's blocking threads (PJSIP's, the sound devices', the sound server's events,
the headset's HID reads) to its event loop.

A thread never touches the loop's objects itself: it posts a callback, which the loop runs in its own thread
(`call_soon_threadsafe`). When the loop has closed (the softphone is ending, the thread not yet), what is
posted is dropped: there is no one left to hear it, and raising in the thread would only kill it noisily.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVarTuple, Unpack

log = logging.getLogger("headsets.threads")
Args = TypeVarTuple("Args")


class ThreadBridge:
    """Posts callbacks from any thread to `loop`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def post(self, callback: Callable[[Unpack[Args]], object], *args: *Args) -> bool:
        """Run `callback(*args)` on the loop, soon; False (and nothing run) if the loop has closed."""
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # "Event loop is closed": the only RuntimeError call_soon_threadsafe raises
            log.debug("the event loop has closed: %r dropped", callback)
            return False
        return True

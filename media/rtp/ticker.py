"""One 20 ms clock for everything the ACD sends or writes on its own time: music, prompts, recordings.

One task for every call rather than one per call: a thousand sleeping coroutines cost more than one
loop over a thousand listeners, and the frames of every call leave together on the packet clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from acd.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger("media.rtp")

FRAME_SECONDS = 0.020
#: Behind by more than this (the machine paused), the clock starts again from now rather than bursting.
MAX_LAG = 0.2


class Ticker:
    """Ticks on the centre's monotonic clock (`clock`), sleeping on the event loop between ticks."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._listeners: dict[object, Callable[[], None]] = {}

    def add(self, key: object, listener: Callable[[], None]) -> None:
        self._listeners[key] = listener

    def remove(self, key: object) -> None:
        self._listeners.pop(key, None)

    async def run(self) -> None:
        """Tick until cancelled, each tick FRAME_SECONDS after the previous one's due time (no drift)."""
        due = self.clock.monotonic()
        while True:
            due += FRAME_SECONDS
            now = self.clock.monotonic()
            if now - due > MAX_LAG:
                due = now
            await asyncio.sleep(max(0.0, due - now))
            for key, listener in list(self._listeners.items()):
                try:
                    listener()
                except Exception:  # one broken listener must not stop the music of every other call
                    log.exception("media listener %r failed: removed", key)
                    self._listeners.pop(key, None)

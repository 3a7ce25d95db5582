"""The one clock of a running centre, injected into every part that needs the time.

Wall time (`time()`, seconds since the epoch) is what people read: opening hours, public holidays, the
times in the events. Monotonic time (`monotonic()`) measures durations that a changed system clock must not
bend: retransmissions, media timeouts, session refreshes. The pure cores never read a clock; their drivers
read this one and pass `now` in, so that a test drives the whole centre with a clock it moves itself.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (wall time)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never steps back."""
        ...


class SystemClock:
    """The machine's clocks."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = SystemClock()

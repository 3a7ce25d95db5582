"""The agent's terminal: typed lines in, the status and messages out.

On a terminal the status block is redrawn in place every second (the call timer runs) and messages
scroll above it; anywhere else (a log file, a pipe) a status line is written only when something other
than the time changed, so the log reads as the day's history.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

from headsets.softphone.desk import Desk
from headsets.softphone.screen import status

_UP_AND_CLEAR = "\x1b[{n}F\x1b[J"  # cursor up n lines to their start, then clear to the end of the screen


class Terminal:
    def __init__(self, out: TextIO = sys.stdout, live: bool | None = None) -> None:
        self.out = out
        self.live = out.isatty() if live is None else live
        self._drawn = 0  # lines of the status block on screen (live)
        self._last: list[str] = []  # the last status written (log)

    def say(self, text: str) -> None:
        self._erase()
        self.out.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        self._drawn = 0

    def show(self, desk: Desk, now: float) -> None:
        if self.live:
            self._erase()
            lines = status(desk, now)
            self.out.write("".join(f"{line}\n" for line in lines))
            self._drawn = len(lines)
        else:
            lines = status(desk)
            if lines != self._last:
                self._last = lines
                self.out.write("".join(f"{time.strftime('%H:%M:%S')} | {line}\n" for line in lines))
        self.out.flush()

    def _erase(self) -> None:
        if self.live and self._drawn:
            self.out.write(_UP_AND_CLEAR.format(n=self._drawn))


async def read_lines(on_line: Callable[[str], None], source: TextIO = sys.stdin) -> None:
    """Hand each typed line to `on_line` until the input ends (Ctrl-D), which returns."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), source)
    while line := await reader.readline():
        on_line(line.decode(errors="replace").rstrip("\r\n"))

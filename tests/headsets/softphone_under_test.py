"""`acd softphone` as the tests run it: the real command, whose headset buttons are a device replaying the
Dell SP325's reports (its real descriptor, tests/data/hid) that the test writes as hex lines to a file
(--hid-control), one report per line, or `unplug` / `plug`; what the softphone writes to the device (its
LED reports) goes as hex lines to --hid-written. Everything else is as an agent runs it:

    python tests/headsets/softphone_under_test.py --hid-control F --hid-written G -- softphone --server …
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from acd.cli import main
from headsets.softphone import app

SP325 = bytes.fromhex(
    (Path(__file__).resolve().parent.parent / "data" / "hid" / "dell-sp325.descriptor.hex").read_text()
)


class ControlledHeadset:
    """A HID transport reading the reports the test appends to `control`, from where it was opened."""

    def __init__(self, control: Path, written: Path, offset: int) -> None:
        self.control, self.written, self.offset = control, written, offset

    def descriptor(self) -> bytes:
        return SP325

    def read(self, timeout: float) -> bytes | None:
        with self.control.open("rb") as source:
            source.seek(self.offset)
            line = source.readline()
        if not line.endswith(b"\n"):  # nothing new (or a line still being written)
            time.sleep(min(timeout, 0.02))
            return None
        self.offset += len(line)
        text = line.decode().strip()
        if text == "unplug":
            raise OSError(19, "No such device")
        return None if text == "plug" else bytes.fromhex(text)

    def write(self, report: bytes) -> None:
        with self.written.open("a") as sink:
            sink.write(report.hex() + "\n")

    def close(self) -> None:
        pass


def finder(control: Path, written: Path) -> app.FindButtons:
    def find() -> ControlledHeadset | None:
        lines = control.read_bytes().splitlines() if control.exists() else []
        if lines and lines[-1].strip() == b"unplug":
            return None
        return ControlledHeadset(control, written, control.stat().st_size if control.exists() else 0)

    return find


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--hid-control", type=Path, required=True)
    parser.add_argument("--hid-written", type=Path, required=True)
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    app.find_buttons = lambda part: finder(args.hid_control, args.hid_written)  # the one thing replaced
    sys.exit(main(args.rest[1:] if args.rest[:1] == ["--"] else args.rest))

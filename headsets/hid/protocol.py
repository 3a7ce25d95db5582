"""A telephony headset's HID conversation, sans I/O: `receive(report)` gives the button events an input
report holds; `show(leds)` gives the output reports that light the LEDs for the call's state.

What real headsets need, handled here once:
- a switch (Absolute) hook reports its state, a toggle (Relative) hook a press: both become HookChanged;
- a report that only repeats the state the host set (many headsets echo the Off-Hook LED as a hook-switch
  report) is an acknowledgement, not a press;
- Phone Mute is answered with the Mute LED at once (the mute handshake), or the headset reverts its own
  mute after a moment: `receive` queues that answer in `pending`, to be written by the driver;
- buttons other than hook and mute are presses on their rising edge only (a report repeats held buttons).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from headsets.hid.controls import Bit, Controls
from headsets.hid.usages import Usage


class Button(StrEnum):
    FLASH = "flash"  # hold / resume
    REDIAL = "redial"
    LINE_BUSY = "line_busy"


@dataclass(frozen=True, slots=True)
class HookChanged:
    off_hook: bool  # True: the agent answers (or takes the line); False: hangs up


@dataclass(frozen=True, slots=True)
class MuteChanged:
    muted: bool


@dataclass(frozen=True, slots=True)
class Pressed:
    button: Button


Event = HookChanged | MuteChanged | Pressed


@dataclass(frozen=True, slots=True)
class Leds:
    off_hook: bool = False
    ring: bool = False
    mute: bool = False
    hold: bool = False


_PRESSES = {Usage.FLASH: Button.FLASH, Usage.REDIAL: Button.REDIAL, Usage.LINE_BUSY: Button.LINE_BUSY}


class HeadsetProtocol:
    def __init__(self, controls: Controls) -> None:
        self.controls = controls
        self.leds = Leds()
        self.pending: list[bytes] = []  # output reports the driver must write, in order
        self._last: dict[int, bool] = {}  # each control's last value read

    def receive(self, report: bytes) -> list[Event]:
        events: list[Event] = []
        off_hook = self._changed(Usage.HOOK_SWITCH, self.leds.off_hook, report)
        if off_hook is not None:
            events.append(HookChanged(off_hook))
            self.leds = replace(self.leds, off_hook=off_hook, ring=False if off_hook else self.leds.ring)
        muted = self._changed(Usage.PHONE_MUTE, self.leds.mute, report)
        if muted is not None:
            events.append(MuteChanged(muted))
            self.leds = replace(self.leds, mute=muted)
            self.pending += self._reports()  # the handshake: the headset keeps its mute only if told
        for usage, button in _PRESSES.items():
            if self._rising(usage, report):
                events.append(Pressed(button))
        for usage in (Usage.HOOK_SWITCH, Usage.PHONE_MUTE, *_PRESSES):
            read = self._read(usage, report)
            if read is not None:
                self._last[usage] = read[1]
        return events

    def show(self, leds: Leds) -> list[bytes]:
        """The output reports for `leds` (each beginning with its report id, 0 for a device without ids);
        what the headset then echoes of them is not taken as a press."""
        self.leds = leds
        return self._reports()

    def _changed(self, usage: int, current: bool, report: bytes) -> bool | None:
        """The new state of a hook switch or mute control if `report` changes it: a switch's value is the
        state, a toggle's press flips it; None when the report does not change it (an echo, a release)."""
        read = self._read(usage, report)
        if read is None:
            return None
        bit, value = read
        if bit.toggle:
            return (not current) if self._rising(usage, report) else None
        return value if value != current else None

    def _rising(self, usage: int, report: bytes) -> bool:
        """The control reads 1 in `report` and read 0 before: a press (a report repeats held buttons)."""
        read = self._read(usage, report)
        return read is not None and read[1] and not self._last.get(usage, False)

    def _read(self, usage: int, report: bytes) -> tuple[Bit, bool] | None:
        bit = self.controls.inputs.get(usage)
        if bit is None or not report or (bit.report_id and report[0] != bit.report_id):
            return None
        byte, shift = divmod(bit.offset, 8)
        if byte >= len(report):
            return None
        return bit, bool(report[byte] >> shift & 1)

    def _reports(self) -> list[bytes]:
        lit = {
            Usage.LED_OFF_HOOK: self.leds.off_hook, Usage.LED_RING: self.leds.ring,
            Usage.LED_MUTE: self.leds.mute, Usage.LED_HOLD: self.leds.hold,
        }  # fmt: skip
        reports: dict[int, bytearray] = {}
        for usage, bit in self.controls.outputs.items():
            # A report always begins with its id, 0 for a device without ids (what hidapi writes expect).
            unnumbered = 0 if bit.report_id else 1
            size = self.controls.output_sizes[bit.report_id] + unnumbered
            report = reports.setdefault(bit.report_id, bytearray(size))
            report[0] = bit.report_id
            if lit.get(Usage(usage), False):
                byte, shift = divmod(bit.offset + 8 * unnumbered, 8)
                report[byte] |= 1 << shift
        return [bytes(reports[report_id]) for report_id in sorted(reports)]

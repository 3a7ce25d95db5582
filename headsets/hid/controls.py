"""Where a headset's telephony controls are in its reports, found by parsing its report descriptor with
hid-tools: each button's bit in an input report, each LED's bit in an output report.

A button declared Relative (HID main item bit 2) is a toggle: a press is 1 then 0, whatever the state it
toggles. One declared Absolute is a switch: its value is the state (a hook switch reading 1 off-hook).
Vendors that put the buttons elsewhere (a vendor page, a bare bitmap) are mapped by `headsets.hid.quirks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hidtools.hid import ParseError, RangeError, ReportDescriptor

from headsets.hid.usages import INPUTS, OUTPUTS

_CONSTANT, _RELATIVE = 0x01, 0x04


class DescriptorError(ValueError):
    """A report descriptor that cannot be read, or that holds no hook switch."""


@dataclass(frozen=True, slots=True)
class Bit:
    """One control: its report, the bit's offset from the report's first byte (the id byte included when
    the report has one) and whether it toggles (Relative) or holds a state (Absolute)."""

    report_id: int  # 0: the device's reports carry no id
    offset: int
    toggle: bool = False


@dataclass(frozen=True, slots=True)
class Controls:
    inputs: Mapping[int, Bit]  # usage -> its bit in an input report
    outputs: Mapping[int, Bit]  # usage -> its bit in an output report
    output_sizes: Mapping[int, int] = field(default_factory=dict)  # report id -> bytes, id byte included

    @classmethod
    def from_descriptor(cls, descriptor: bytes) -> Controls:
        try:
            parsed = ReportDescriptor.from_bytes(list(descriptor))
        # hid-tools checks some item values with `assert` (a 2-byte Collection item, for one)
        except (ParseError, RangeError, IndexError, KeyError, ValueError, AssertionError) as error:
            raise DescriptorError(f"not a HID report descriptor: {error or type(error).__name__}") from None
        inputs = _bits(parsed.input_reports, INPUTS)
        outputs = _bits(parsed.output_reports, OUTPUTS)
        sizes = {bit.report_id: parsed.output_reports[_key(parsed.output_reports, bit.report_id)].size
                 for bit in outputs.values()}  # fmt: skip
        return cls(inputs, outputs, sizes)

    def require_hook_switch(self, hook: int) -> None:
        if hook not in self.inputs:
            raise DescriptorError("no hook switch in its input reports: not a telephony headset")


def _key(reports: Mapping[int, object], report_id: int) -> int:
    return report_id if report_id in reports else -1


def _bits(reports: Mapping[int, object], wanted: frozenset[int]) -> dict[int, Bit]:
    found: dict[int, Bit] = {}
    for report_id, report in reports.items():
        for hid_field in report:  # type: ignore[attr-defined]
            if hid_field.type & _CONSTANT or hid_field.size != 1:
                continue
            usages = hid_field.usages or [hid_field.usage] * hid_field.count
            if hid_field.is_array:
                continue  # an array reports indexes, not bits: no telephony headset seen uses one for these
            for index, usage in enumerate(usages[: hid_field.count]):
                if usage in wanted and usage not in found:
                    bit = Bit(max(report_id, 0), hid_field.start + index, bool(hid_field.type & _RELATIVE))
                    found[usage] = bit
    return found

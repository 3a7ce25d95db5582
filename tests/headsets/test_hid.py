"""The HID telephony protocol against real report descriptors (tests/data/hid, each with its source): the
controls found by parsing them, and the input reports they lay out turned into button events, the call's
state into LED reports. No captured input reports of these devices are public; the reports here are built
bit by bit from the layout the real descriptor declares."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from headsets.hid import Button, Controls, DescriptorError, HeadsetProtocol, HookChanged, Leds, MuteChanged, Pressed
from headsets.hid.controls import Bit
from headsets.hid.usages import Usage

DATA = Path(__file__).resolve().parent.parent / "data" / "hid"


def descriptor(name: str) -> bytes:
    return bytes.fromhex((DATA / f"{name}.descriptor.hex").read_text())


SP325 = descriptor("dell-sp325")  # Linux sysfs capture: report 5 holds the telephony buttons and LEDs
HOOK, MUTE, REDIAL, FLASH, LINE_BUSY = 0x01, 0x02, 0x04, 0x08, 0x10  # report 5's input bits, as declared


def report(bits: int) -> bytes:
    return bytes((5, bits))


def test_the_controls_are_found_where_the_descriptor_declares_them() -> None:
    controls = Controls.from_descriptor(SP325)
    assert controls.inputs == {
        Usage.HOOK_SWITCH: Bit(5, 8, toggle=False),  # Absolute: a switch
        Usage.PHONE_MUTE: Bit(5, 9, toggle=True),  # Relative: a toggle
        Usage.REDIAL: Bit(5, 10, toggle=True),
        Usage.FLASH: Bit(5, 11, toggle=True),
        Usage.LINE_BUSY: Bit(5, 12, toggle=True),
    }
    assert controls.outputs == {
        Usage.LED_OFF_HOOK: Bit(5, 8), Usage.LED_MUTE: Bit(5, 9), Usage.LED_RING: Bit(5, 10), Usage.LED_HOLD: Bit(5, 11),
    }  # fmt: skip
    assert controls.output_sizes == {5: 2}
    controls.require_hook_switch(Usage.HOOK_SWITCH)


def test_a_device_with_no_hook_switch_is_refused() -> None:
    # Only the consumer collection of a Plantronics Blackwire 3220 (volume keys): no telephony there.
    controls = Controls.from_descriptor(descriptor("plantronics-blackwire-3220-consumer-win-reconstructed"))
    with pytest.raises(DescriptorError, match="no hook switch in its input reports: not a telephony headset"):
        controls.require_hook_switch(Usage.HOOK_SWITCH)


def test_the_hook_switch_answers_and_hangs_up_and_its_echo_of_the_led_is_no_press() -> None:
    headset = HeadsetProtocol(Controls.from_descriptor(SP325))
    assert headset.show(Leds(ring=True)) == [report(0x04)]  # a call rings: the Ring LED
    assert headset.receive(report(HOOK)) == [HookChanged(True)]  # lifted: the call is answered
    assert headset.leds == Leds(off_hook=True)  # ringing stops with the answer
    assert headset.receive(report(HOOK)) == []  # the same state again is no new event
    assert headset.receive(report(0)) == [HookChanged(False)]  # put down: hang up
    assert headset.show(Leds(off_hook=True)) == [report(0x01)]  # answered from the screen: Off-Hook lit
    assert headset.receive(report(HOOK)) == []  # the headset acknowledges with its hook switch: not a press


def test_phone_mute_toggles_and_is_answered_with_the_mute_led_at_once() -> None:
    headset = HeadsetProtocol(Controls.from_descriptor(SP325))
    headset.show(Leds(off_hook=True))
    assert headset.receive(report(HOOK | MUTE)) == [MuteChanged(True)]
    assert headset.pending == [report(0x01 | 0x02)]  # the handshake: Off-Hook and Mute lit, or it reverts
    assert headset.receive(report(HOOK)) == []  # released: a toggle acts on its press only
    assert headset.receive(report(HOOK | MUTE)) == [MuteChanged(False)]
    assert headset.pending[-1] == report(0x01)


def test_flash_and_redial_are_presses_once_however_long_held() -> None:
    headset = HeadsetProtocol(Controls.from_descriptor(SP325))
    assert headset.receive(report(FLASH)) == [Pressed(Button.FLASH)]
    assert headset.receive(report(FLASH)) == []  # still held
    assert headset.receive(report(0)) == []
    assert headset.receive(report(FLASH | REDIAL)) == [Pressed(Button.FLASH), Pressed(Button.REDIAL)]
    assert headset.show(Leds(off_hook=True, hold=True)) == [report(0x01 | 0x08)]


def test_reports_of_other_collections_are_not_telephony() -> None:
    headset = HeadsetProtocol(Controls.from_descriptor(SP325))
    assert headset.receive(bytes((0x0C, 0xFF))) == []  # the consumer keys' report (volume, play...)
    assert headset.receive(b"") == [] and headset.receive(bytes((5,))) == []  # empty, or cut short


# Poly: the Plantronics Blackwire 3220's raw descriptor (its first collections): Phone Mute Relative, Hook
# Switch and Flash Absolute in report 8; each LED its own one-byte output report.
BLACKWIRE = descriptor("plantronics-blackwire-3220-first-collections")
BW_MUTE, BW_HOOK, BW_FLASH = 0x01, 0x02, 0x04  # report 8's input bits, as declared


def test_the_blackwires_controls_and_its_one_report_per_led() -> None:
    controls = Controls.from_descriptor(BLACKWIRE)
    assert controls.inputs == {
        Usage.PHONE_MUTE: Bit(8, 8, toggle=True), Usage.HOOK_SWITCH: Bit(8, 9), Usage.FLASH: Bit(8, 10),
    }  # fmt: skip
    assert controls.outputs == {
        Usage.LED_MUTE: Bit(9, 8), Usage.LED_OFF_HOOK: Bit(0x17, 8), Usage.LED_RING: Bit(0x18, 8), Usage.LED_HOLD: Bit(0x20, 8),
    }  # fmt: skip
    headset = HeadsetProtocol(controls)
    # Ringing: every LED's report written, the Ring one lit.
    assert headset.show(Leds(ring=True)) == [bytes((9, 0)), bytes((0x17, 0)), bytes((0x18, 1)), bytes((0x20, 0))]
    assert headset.receive(bytes((8, BW_HOOK))) == [HookChanged(True)]  # lifted: a switch, its state
    assert headset.receive(bytes((8, BW_HOOK | BW_MUTE))) == [MuteChanged(True)]
    assert headset.pending == [bytes((9, 1)), bytes((0x17, 1)), bytes((0x18, 0)), bytes((0x20, 0))]  # the handshake
    assert headset.receive(bytes((8, BW_HOOK))) == []  # the mute button released
    # Flash is Absolute here (a switch, where the SP325's is a toggle): a press still counts once.
    assert headset.receive(bytes((8, BW_HOOK | BW_FLASH))) == [Pressed(Button.FLASH)]
    assert headset.receive(bytes((8, BW_HOOK | BW_FLASH))) == []
    assert headset.receive(bytes((8, BW_HOOK))) == []
    assert headset.receive(bytes((8, 0))) == [HookChanged(False)]  # hung up
    assert headset.receive(bytes((1, 0x01))) == []  # volume up, in the consumer collection: not telephony


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
@example(b"\xa2\x00\x01")  # a Collection item of two bytes: 256 collections, refused by an assert
def test_any_bytes_are_controls_or_refused_as_no_descriptor(data: bytes) -> None:
    try:
        controls = Controls.from_descriptor(data)
    except DescriptorError:
        return
    headset = HeadsetProtocol(controls)
    headset.receive(data[:8])  # and whatever a device with those controls sends is read or ignored


@given(st.lists(st.integers(0, 0x1F), max_size=40))
def test_whatever_is_pressed_the_events_follow_the_state(presses: list[int]) -> None:
    headset = HeadsetProtocol(Controls.from_descriptor(SP325))
    for bits in presses:
        for event in headset.receive(report(bits)):
            if isinstance(event, HookChanged):
                assert event.off_hook == bool(bits & HOOK)  # a switch: the event is the state read
        assert headset.leds.off_hook == bool(bits & HOOK)

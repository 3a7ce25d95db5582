"""USB HID telephony headsets, without I/O: the controls found in a report descriptor, and the protocol
that turns input reports into button events and the call's state into LED output reports."""

from headsets.hid.controls import Controls, DescriptorError
from headsets.hid.protocol import Button, HeadsetProtocol, HookChanged, Leds, MuteChanged, Pressed

__all__ = [
    "Button", "Controls", "DescriptorError", "HeadsetProtocol", "HookChanged", "Leds", "MuteChanged", "Pressed",
]  # fmt: skip

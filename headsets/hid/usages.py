"""The HID usages a telephony headset speaks (HID Usage Tables 1.5, §14 Telephony Device Page 0x0B and §11
LED Page 0x08), as 32-bit usages: page << 16 | id."""

from __future__ import annotations

from enum import IntEnum

TELEPHONY, LED = 0x0B, 0x08


class Usage(IntEnum):
    HEADSET = TELEPHONY << 16 | 0x05
    HOOK_SWITCH = TELEPHONY << 16 | 0x20
    FLASH = TELEPHONY << 16 | 0x21
    REDIAL = TELEPHONY << 16 | 0x24
    PHONE_MUTE = TELEPHONY << 16 | 0x2F
    LINE_BUSY = TELEPHONY << 16 | 0x97
    LED_MUTE = LED << 16 | 0x09
    LED_OFF_HOOK = LED << 16 | 0x17
    LED_RING = LED << 16 | 0x18
    LED_HOLD = LED << 16 | 0x20


#: What the headset's buttons send.
INPUTS = frozenset({Usage.HOOK_SWITCH, Usage.FLASH, Usage.REDIAL, Usage.PHONE_MUTE, Usage.LINE_BUSY})
#: What the host lights.
OUTPUTS = frozenset({Usage.LED_MUTE, Usage.LED_OFF_HOOK, Usage.LED_RING, Usage.LED_HOLD})

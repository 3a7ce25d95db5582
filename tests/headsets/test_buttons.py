"""The headset's buttons found again after a hot-plug: a scan opens the headset when it is there, a device
that goes away is dropped, the next scan that finds it lights its LEDs as the call is. Through the replay
transport over the real SP325 descriptor (tests/headsets/test_transport.py)."""

from __future__ import annotations

import asyncio

from headsets.hid import HookChanged, Leds
from headsets.softphone.buttons import HeadsetButtons
from tests.headsets.test_transport import SP325, Replay


def test_a_headset_plugged_in_pulled_out_and_plugged_in_again() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        plugged: list[Replay] = []
        heard: asyncio.Queue[object] = asyncio.Queue()
        buttons = HeadsetButtons(loop, lambda: plugged[-1] if plugged else None, heard.put_nowait)
        buttons.scan()
        assert not buttons.present  # nothing plugged in: nothing opened, nothing said
        buttons.show(Leds(ring=True))  # a call rings meanwhile: remembered

        first = Replay(SP325)
        plugged.append(first)
        buttons.scan()
        assert buttons.present and first.written == [bytes((5, 0x04))]  # lit as the call is: ringing
        first.reports.put(bytes((5, 0x01)))
        assert await asyncio.wait_for(heard.get(), 10) == HookChanged(True)

        plugged.clear()
        first.unplug()
        for _ in range(100):
            if not buttons.present:
                break
            await asyncio.sleep(0.05)
        assert not buttons.present and first.closed.is_set()
        buttons.show(Leds(off_hook=True, mute=True))  # the call goes on without the headset
        buttons.scan()
        assert not buttons.present

        second = Replay(SP325)
        plugged.append(second)
        buttons.scan()
        assert buttons.present and second.written == [bytes((5, 0x03))]  # off-hook and muted, as the call is
        buttons.scan()  # already open: not opened twice
        assert second.written == [bytes((5, 0x03))]
        buttons.close()

    asyncio.run(scenario())


def test_a_device_without_a_hook_switch_is_not_taken_for_the_headset() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        # A boot keyboard's report descriptor (the HID specification's example, modifiers and six keys): it
        # parses, and holds no telephony control.
        keyboard = Replay(
            bytes.fromhex("05010906a101050719e029e71500250175019508810295017508810195067508150025650507190029658100c0")
        )
        buttons = HeadsetButtons(loop, lambda: keyboard, lambda event: None)
        buttons.scan()
        assert not buttons.present and keyboard.closed.is_set()

    asyncio.run(scenario())

"""The headset reader: reports read in its thread reach the event loop as button events, the mute handshake
and the LEDs are written back, an unplugged device is noticed. Through a transport that replays reports
over a real descriptor (the Dell SP325's sysfs capture), and through the kernel's uhid where /dev/uhid can
be written (a virtual HID device with that same descriptor, read back through hidapi's hidraw backend)."""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from pathlib import Path

import pytest

from headsets.hid import Button, DescriptorError, HookChanged, Leds, MuteChanged, Pressed
from headsets.hid.transport import HeadsetReader

DATA = Path(__file__).resolve().parent.parent / "data" / "hid"
SP325 = bytes.fromhex((DATA / "dell-sp325.descriptor.hex").read_text())
HOOK, MUTE, FLASH = 0x01, 0x02, 0x08  # report 5's bits, as its descriptor declares them


class Replay:
    """A device that sends the queued reports and keeps what is written to it; unplugged by `unplug()`."""

    def __init__(self, descriptor: bytes) -> None:
        self._descriptor = descriptor
        self.reports: queue.Queue[bytes | None] = queue.Queue()
        self.written: list[bytes] = []
        self.closed = threading.Event()

    def descriptor(self) -> bytes:
        return self._descriptor

    def read(self, timeout: float) -> bytes | None:
        try:
            report = self.reports.get(timeout=timeout)
        except queue.Empty:
            return None
        if report is None:
            raise OSError(19, "No such device")
        return report

    def write(self, report: bytes) -> None:
        self.written.append(report)

    def close(self) -> None:
        self.closed.set()

    def unplug(self) -> None:
        self.reports.put(None)


async def heard(events: asyncio.Queue[object], count: int) -> list[object]:
    return [await asyncio.wait_for(events.get(), 10) for _ in range(count)]


def test_presses_read_in_the_readers_thread_reach_the_loop_and_the_answers_are_written() -> None:
    async def scenario() -> None:
        device = Replay(SP325)
        events: asyncio.Queue[object] = asyncio.Queue()
        lost = asyncio.Event()
        reader = HeadsetReader(device, asyncio.get_running_loop(), events.put_nowait, lost.set)
        reader.start()
        try:
            reader.show(Leds(ring=True))
            for bits in (HOOK, HOOK | MUTE, HOOK, HOOK | FLASH, 0):
                device.reports.put(bytes((5, bits)))
            got = await heard(events, 4)
            assert got == [HookChanged(True), MuteChanged(True), Pressed(Button.FLASH), HookChanged(False)]
            # The Ring LED, then the mute handshake (Off-Hook and Mute lit) written as soon as the press came.
            assert device.written == [bytes((5, 0x04)), bytes((5, 0x03))]
            device.unplug()
            await asyncio.wait_for(lost.wait(), 10)
        finally:
            reader.stop()
        assert device.closed.is_set()

    asyncio.run(scenario())


def test_a_device_that_is_no_telephony_headset_is_refused_before_any_read() -> None:
    consumer_only = bytes.fromhex(
        (DATA / "plantronics-blackwire-3220-consumer-win-reconstructed.descriptor.hex").read_text()
    )

    async def scenario() -> None:
        with pytest.raises(DescriptorError, match="no hook switch"):
            HeadsetReader(Replay(consumer_only), asyncio.get_running_loop(), print, print)

    asyncio.run(scenario())


UHID = "/dev/uhid"


@pytest.mark.skipif(
    not os.access(UHID, os.W_OK),
    reason=f"no writable {UHID} here (no uhid module, or not allowed): a virtual HID device cannot be created",
)
def test_a_virtual_headset_through_the_kernel_and_hidraw() -> None:  # pragma: no cover (needs /dev/uhid)
    from hidtools.uhid import UHIDDevice

    from headsets.hid.transport import Hidraw

    class Virtual(UHIDDevice):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.name, self.info, self.rdesc = "Test Telephony Headset", (3, 0x413C, 0x8223), list(SP325)
            self.outputs: list[bytes] = []

        def output_report(self, data: list[int], size: int, rtype: int) -> None:
            self.outputs.append(bytes(data[:size]))

    device = Virtual()
    device.create_kernel_device()
    try:
        for _ in range(100):  # the kernel names the node through udev: a few dispatches
            if device.hidraw_nodes:
                break
            device.dispatch(100)
        assert device.hidraw_nodes, "the kernel made no hidraw node for the virtual headset"
        path = device.hidraw_nodes[0].encode()

        async def scenario() -> None:
            transport = Hidraw(path)
            assert transport.descriptor() == SP325
            events: asyncio.Queue[object] = asyncio.Queue()
            reader = HeadsetReader(transport, asyncio.get_running_loop(), events.put_nowait, lambda: None)
            reader.start()
            try:
                device.call_input_event([5, HOOK])
                assert await heard(events, 1) == [HookChanged(True)]
                reader.show(Leds(off_hook=True))
                for _ in range(20):
                    device.dispatch(50)
                assert device.outputs and device.outputs[-1][-1] & 0x01
            finally:
                reader.stop()

        asyncio.run(scenario())
    finally:
        device.destroy()

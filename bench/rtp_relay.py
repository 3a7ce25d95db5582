"""The bridge's per-packet header work, ours against aiortp's packet objects, on one core.

media/rtp relays each packet as it comes, rewriting its header onto the leg's own stream; it takes
aiortp's codecs but not its RTPSession, whose receive path puts every packet through a jitter buffer
and decodes it to PCM (what a softphone needs, and a relay must not do). This times the header work
alone (no sockets), per packet, to see whether aiortp's packet objects would cost more for it:

- ours: `media.rtp.packets.RtpPacket.parse` then `header()` + payload, as `RtpPort.relay` does;
- aiortp 0.8: `aiortp.RtpPacket.parse`, set sequence/timestamp/SSRC, `serialize()`.

They cost about the same (1.1x in the README's run): the choice is about RTPSession, not the packets.

    .venv/bin/python -m bench.rtp_relay [--packets 200000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from aiortp import RtpPacket as TheirPacket

from media.rtp.packets import RtpPacket, header


def ours(data: bytes) -> bytes:
    packet = RtpPacket.parse(data)
    return (
        header(packet.payload_type, packet.marker, packet.sequence + 1, packet.timestamp + 160, 0x1234) + packet.payload
    )


def theirs(data: bytes) -> bytes:
    packet = TheirPacket.parse(data)
    packet.sequence_number = (packet.sequence_number + 1) & 0xFFFF
    packet.timestamp = (packet.timestamp + 160) & 0xFFFFFFFF
    packet.ssrc = 0x1234
    return bytes(packet.serialize())


def per_packet(work: object, data: bytes, packets: int) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(packets):
            work(data)  # type: ignore[operator]
        runs.append((time.perf_counter() - start) / packets)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packets", type=int, default=200_000)
    args = parser.parse_args()
    data = header(0, False, 1, 160, 0xBEEF) + bytes(160)
    assert ours(data)[12:] == theirs(data)[12:] == bytes(160)
    mine, other = per_packet(ours, data, args.packets), per_packet(theirs, data, args.packets)
    print(f"per packet (PCMU, 20 ms), median of 5 runs of {args.packets}:")
    print(f"  media.rtp (parse + own header):       {mine * 1e6:6.2f} µs")
    print(f"  aiortp RtpPacket (parse + serialize): {other * 1e6:6.2f} µs  ({other / mine:.1f}x)")


if __name__ == "__main__":
    main()

"""The RTP header (RFC 3550 §5.1), read and written without copying the payload more than once.

Pure. The relay reads only what it rewrites (payload type, marker, sequence, timestamp, SSRC); a
datagram that is not RTP version 2 or is shorter than its own header is refused with RtpError.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from media.errors import MediaError

_HEADER = struct.Struct("!BBHII")
HEADER_SIZE = _HEADER.size


class RtpError(MediaError):
    """A datagram that is not an RTP packet the relay can read: dropped."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        if len(data) < HEADER_SIZE:
            raise RtpError(f"RTP packet of {len(data)} bytes is shorter than its header")
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != 2:
            raise RtpError(f"RTP version {first >> 6}, not 2")
        start = HEADER_SIZE + 4 * (first & 0x0F)  # CSRC list
        if first & 0x10:  # header extension (RFC 3550 §5.3.1): skipped whole
            if len(data) < start + 4:
                raise RtpError("RTP header extension cut short")
            start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
        end = len(data)
        if first & 0x20:  # padding: its count is the last octet
            end -= data[-1] if data[-1] else end
        if start > end:
            raise RtpError("RTP header longer than the packet")
        return cls(second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc, bytes(data[start:end]))

    def __bytes__(self) -> bytes:
        return header(self.payload_type, self.marker, self.sequence, self.timestamp, self.ssrc) + self.payload


def header(payload_type: int, marker: bool, sequence: int, timestamp: int, ssrc: int) -> bytes:
    return _HEADER.pack(0x80, payload_type | (0x80 if marker else 0), sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)


def is_rtcp(data: bytes) -> bool:
    """RTCP sent to the RTP port (RFC 5761 §4: packet types 192 to 223 are not RTP payload types)."""
    return len(data) > 1 and 192 <= data[1] <= 223

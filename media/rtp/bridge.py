"""Two legs joined: each one's frames to the other, converted where their codecs differ.

DTMF sent as telephone-events (RFC 4733) is told to the bridge's owner once per key press (on the
event's end, which a sender repeats three times) and passed on to the other side when it takes events.
Recording taps see each direction as 8 kHz PCM.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from media.rtp.packets import RtpPacket
from media.rtp.port import RtpPort
from media.rtp.transcode import converter, to_pcm8k
from media.sdp import TELEPHONE_EVENT, Stream

DIGITS = "0123456789*#ABCD"


@dataclass(slots=True)
class Side:
    """One leg's port and the stream agreed with its peer."""

    port: RtpPort
    stream: Stream

    @property
    def event_types(self) -> frozenset[int]:
        # Events may come with the type the peer offered or the one the ACD answered (RFC 4733 §7.1.1).
        offered = self.stream.telephone_event
        return frozenset({TELEPHONE_EVENT} if offered is None else {TELEPHONE_EVENT, offered})


@dataclass(slots=True)
class DtmfWatch:
    """The digits in a stream of telephone-events, each reported once."""

    on_digit: Callable[[str], None]
    _last: tuple[int, int] | None = field(default=None)  # (ssrc, timestamp) of the last event reported

    def feed(self, packet: RtpPacket) -> None:
        if len(packet.payload) < 4:
            return
        event, flags, _duration = struct.unpack_from("!BBH", packet.payload)
        if not flags & 0x80 or event >= len(DIGITS):
            return  # not yet its end, or not a key
        key = (packet.ssrc, packet.timestamp)
        if key != self._last:
            self._last = key
            self.on_digit(DIGITS[event])


Tap = Callable[[bytes], None]


class Bridge:
    """Joins `caller` and `agent` until closed; `on_digit(side, digit)` hears the keys either presses."""

    def __init__(
        self,
        caller: Side,
        agent: Side,
        on_digit: Callable[[str, str], None],
        taps: tuple[Tap, Tap] | None = None,
    ) -> None:
        self.sides = (caller, agent)
        self._watches = (DtmfWatch(lambda d: on_digit("caller", d)), DtmfWatch(lambda d: on_digit("agent", d)))
        for index, (source, target) in enumerate(((caller, agent), (agent, caller))):
            tap = taps[index] if taps is not None else None
            source.port.listener = self._relay(source, target, self._watches[index], tap)

    def _relay(self, source: Side, target: Side, watch: DtmfWatch, tap: Tap | None) -> Callable[[RtpPacket], None]:
        audio_in, audio_out = source.stream.payload_type, target.stream.payload_type
        events_in, events_out = source.event_types, target.stream.telephone_event
        convert = converter(audio_in, audio_out)
        decode = to_pcm8k(audio_in) if tap is not None else None
        port = target.port

        def relay(packet: RtpPacket) -> None:
            payload_type = packet.payload_type
            if payload_type == audio_in:
                payload = packet.payload
                port.relay(packet, payload if convert is None else convert(payload), audio_out)
                if tap is not None and decode is not None:
                    tap(decode(payload))
            elif payload_type in events_in:
                watch.feed(packet)
                if events_out is not None:
                    port.relay(packet, packet.payload, events_out)

        return relay

    def close(self) -> None:
        for side in self.sides:
            side.port.listener = None


def watch_digits(side: Side, on_digit: Callable[[str], None]) -> None:
    """Listen to one leg alone (a caller waiting in queue): its key presses, nothing relayed."""
    watch, events = DtmfWatch(on_digit), side.event_types

    def listen(packet: RtpPacket) -> None:
        if packet.payload_type in events:
            watch.feed(packet)

    side.port.listener = listen

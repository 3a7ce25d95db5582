"""The RTP pieces on their own: the header, the codecs' conversions, key presses, the bridge's relay,
recordings, music, and a port's latching onto its peer (real UDP sockets on the loopback)."""

from __future__ import annotations

import asyncio
import math
import socket
import struct
import wave
from array import array
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.rtp.bridge import Bridge, DtmfWatch, Side
from media.rtp.music import FRAME_BYTES, Music
from media.rtp.packets import RtpError, RtpPacket, header
from media.rtp.port import RELATCH_AFTER, PortRange, RtpPort
from media.rtp.recording import MAX_FRAMES_BEHIND, Recording
from media.rtp.transcode import ALAW_TO_ULAW, ULAW_TO_ALAW, converter, from_pcm8k, to_pcm8k
from media.sdp import Stream
from tests import tones

PCMU, PCMA, G722 = 0, 8, 9


def tone(frequency: float, frames: int = 10, amplitude: int = 8000) -> bytes:
    samples = array("h", (int(amplitude * math.sin(2 * math.pi * frequency * n / 8000)) for n in range(160 * frames)))
    return samples.tobytes()


def power(pcm: bytes, frequency: float, rate: int = 8000) -> float:
    return tones.power(array("h", pcm), rate, frequency)


# ----------------------------------------------------------------------------------------- header


def test_a_packet_is_read_past_its_csrcs_extension_and_padding() -> None:
    plain = header(0, True, 7, 160, 0xABCD) + b"voice"
    assert RtpPacket.parse(plain) == RtpPacket(0, True, 7, 160, 0xABCD, b"voice")
    assert bytes(RtpPacket.parse(plain)) == plain
    csrc = bytes([0x81]) + plain[1:12] + b"\x00\x00\x00\x01" + b"voice"
    assert RtpPacket.parse(csrc).payload == b"voice"
    extension = bytes([0x90]) + plain[1:12] + b"\xbe\xde\x00\x01" + b"\x00" * 4 + b"voice"
    assert RtpPacket.parse(extension).payload == b"voice"
    padded = bytes([0xA0]) + plain[1:] + b"\x00\x00\x03"
    assert RtpPacket.parse(padded).payload == b"voice"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x00", "RTP packet of 2 bytes is shorter than its header"),
        (b"\x40" + bytes(11), "RTP version 1, not 2"),
        (b"\x90" + bytes(11) + b"\x00\x00", "RTP header extension cut short"),
        (b"\x83" + bytes(11) + bytes(4), "RTP header longer than the packet"),
        (b"\xa0" + bytes(11) + b"ab\x09", "RTP header longer than the packet"),
    ],
)
def test_a_datagram_that_is_not_rtp_is_refused_by_name(data: bytes, message: str) -> None:
    with pytest.raises(RtpError) as refused:
        RtpPacket.parse(data)
    assert str(refused.value) == message


@given(st.binary(max_size=200))
def test_any_datagram_reads_as_a_packet_or_raises_rtp_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpError:
        return
    assert len(packet.payload) <= len(data) - 12


# ----------------------------------------------------------------------------------------- codecs


def test_g711_laws_map_onto_each_other_byte_for_byte() -> None:
    decode = to_pcm8k(PCMU)
    levels = array("h", decode(bytes(range(256))))
    back = array("h", decode(bytes(range(256)).translate(ULAW_TO_ALAW).translate(ALAW_TO_ULAW)))
    # Each µ-law level comes back as itself or the nearest A-law can say: within A-law's step at that level.
    assert all(abs(a - b) <= max(64, abs(a) // 16) for a, b in zip(levels, back, strict=True))


@pytest.mark.parametrize(("source", "target"), [(PCMU, PCMA), (PCMA, PCMU), (PCMU, G722), (G722, PCMA), (PCMA, G722)])
def test_a_tone_keeps_its_frequency_through_every_conversion(source: int, target: int) -> None:
    encode, convert, decode = from_pcm8k(source), converter(source, target), to_pcm8k(target)
    assert convert is not None
    heard = b"".join(decode(convert(encode(frame))) for frame in _frames(tone(440)))
    assert len(heard) == len(tone(440))
    assert power(heard[1600:], 440) > 50 * power(heard[1600:], 1000)  # past the G.722 coder's start-up


def _frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + 320] for i in range(0, len(pcm), 320)]


def test_the_same_codec_needs_no_conversion() -> None:
    assert converter(PCMU, PCMU) is None and converter(G722, G722) is None


# ------------------------------------------------------------------------------------- keys, bridge


def event(key: int, end: bool, timestamp: int = 800, ssrc: int = 1) -> RtpPacket:
    return RtpPacket(101, False, 1, timestamp, ssrc, struct.pack("!BBH", key, 0x80 if end else 0, 400))


def test_a_key_is_told_once_for_its_three_end_packets() -> None:
    heard: list[str] = []
    watch = DtmfWatch(heard.append)
    for packet in (event(5, False), event(5, False), event(5, True), event(5, True), event(5, True)):
        watch.feed(packet)
    watch.feed(event(11, True, timestamp=1600))  # the next press: '#'
    watch.feed(event(20, True, timestamp=2400))  # not a key (a tone event): ignored
    assert heard == ["5", "#"]


class Relayed:
    """A port that keeps what the bridge relays to it."""

    def __init__(self) -> None:
        self.frames: list[tuple[bytes, int]] = []
        self.listener = None

    def relay(self, packet: RtpPacket, payload: bytes, payload_type: int) -> None:
        self.frames.append((payload, payload_type))


def test_the_bridge_converts_between_codecs_passes_keys_on_and_taps_both_ways() -> None:
    caller_port, agent_port = Relayed(), Relayed()
    caller = Side(caller_port, Stream(("192.0.2.1", 4000), PCMA, 101, "sendrecv"))  # type: ignore[arg-type]
    agent = Side(agent_port, Stream(("192.0.2.2", 4002), PCMU, 96, "sendrecv"))  # type: ignore[arg-type]
    keys: list[tuple[str, str]] = []
    taps: tuple[list[bytes], list[bytes]] = ([], [])
    Bridge(caller, agent, lambda who, digit: keys.append((who, digit)), (taps[0].append, taps[1].append))
    voice = from_pcm8k(PCMA)(tone(440, 1))
    caller_port.listener(RtpPacket(PCMA, False, 1, 160, 7, voice))  # type: ignore[misc]
    caller_port.listener(event(1, True))  # type: ignore[misc]
    assert agent_port.frames == [(voice.translate(ALAW_TO_ULAW), PCMU), (event(1, True).payload, 96)]
    assert keys == [("caller", "1")] and len(taps[0]) == 1 and taps[1] == []


# ---------------------------------------------------------------------------------- recording, music


def test_a_recording_keeps_both_sides_in_step_silence_for_the_one_that_sends_nothing(tmp_path: Path) -> None:
    recording = Recording(tmp_path / "call.wav")
    # (Tones of whole periods in 20 ms: a frame repeated is then the same tone, not a comb of 50 Hz lines.)
    for _ in range(MAX_FRAMES_BEHIND + 3):  # a burst from the caller: the oldest beyond the bound go
        recording.caller(tone(400, 1))
    recording.agent(tone(1000, 1))
    for _ in range(MAX_FRAMES_BEHIND + 1):
        recording.tick()
    recording.close()
    with wave.open(str(tmp_path / "call.wav"), "rb") as audio:
        assert (audio.getnchannels(), audio.getframerate(), audio.getnframes()) == (
            2,
            8000,
            160 * (MAX_FRAMES_BEHIND + 1),
        )
        samples = array("h", audio.readframes(audio.getnframes()))
    left, right = samples[0::2].tobytes(), samples[1::2].tobytes()
    assert power(left, 400) > 100 * power(left, 1000)
    assert right[320:] == bytes(len(right) - 320)  # one agent frame, then silence


def test_music_is_cut_in_frames_and_a_bad_file_is_refused(tmp_path: Path) -> None:
    music = Music(tone(440, 3) + bytes(100))  # the tail shorter than a frame is left out
    assert [len(frame) for frame in music.frames(PCMU)] == [160, 160, 160]
    assert len(music.frames(G722)) == 3
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as audio:
        audio.setnchannels(2)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(bytes(FRAME_BYTES * 4))
    with pytest.raises(Exception, match="music must be mono 16-bit 8000 Hz WAV, not \\(2, 2, 8000\\)"):
        Music.load(stereo)


# ------------------------------------------------------------------------------------------- ports


def test_a_port_latches_onto_its_peer_and_drops_others_until_the_peer_falls_silent() -> None:
    asyncio.run(_latching())


async def _latching() -> None:
    now = [0.0]
    ports = PortRange("127.0.0.1", 30000, 30999, _MovedClock(now))
    port: RtpPort = await ports.open()
    heard: list[int] = []
    port.listener = lambda packet: heard.append(packet.sequence)
    peer, stranger = _socket(), _socket()
    try:
        port.expect(("127.0.0.1", 9))  # what the SDP said
        peer.sendto(header(0, False, 1, 160, 1) + b"a", port.local)
        await _until(lambda: heard == [1])
        assert port.remote == peer.getsockname() and port.latched
        stranger.sendto(header(0, False, 2, 320, 2) + b"b", port.local)
        peer.sendto(header(0, False, 3, 480, 1) + b"c", port.local)
        await _until(lambda: heard == [1, 3])  # the stranger's packet was dropped
        port.expect(("127.0.0.1", 10))  # a later SDP does not undo the latch
        assert port.remote == peer.getsockname()
        now[0] += RELATCH_AFTER + 0.1  # the peer fell silent: its NAT binding may have moved
        stranger.sendto(header(0, False, 4, 640, 2) + b"d", port.local)
        await _until(lambda: heard == [1, 3, 4])
        assert port.remote == stranger.getsockname()
    finally:
        port.close()
        peer.close()
        stranger.close()


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _until(done: object) -> None:
    for _ in range(200):
        if done():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not seen")


def test_a_port_range_says_when_it_is_full() -> None:
    with pytest.raises(ValueError, match="RTP port range 80-90 is not within 1024-65535"):
        PortRange("127.0.0.1", 80, 90)

    async def exhaust() -> None:
        blocker = _socket()
        taken = blocker.getsockname()[1]
        ports = PortRange("127.0.0.1", taken, taken)
        try:
            with pytest.raises(OSError, match=f"no free RTP port in {taken}-{taken}"):
                await ports.open()
        finally:
            blocker.close()

    asyncio.run(exhaust())


class _MovedClock:
    """A clock the test moves: `now[0]` is its time."""

    def __init__(self, now: list[float]) -> None:
        self.now = now

    def time(self) -> float:
        return self.now[0]

    def monotonic(self) -> float:
        return self.now[0]

"""The two frame queues between PJSIP's clock and the sound device's: bounded latency, silence rather
than a stall, mute in the audio path, any block size, noise suppression on the microphone."""

from __future__ import annotations

from array import array

from hypothesis import given
from hypothesis import strategies as st

from headsets.softphone.sip import caller_of, subject_of
from headsets.softphone.sound import FRAME_BYTES, MOST_FRAMES, SILENCE, Sound, webrtc_cleaner
from tests.tones import dominant_frequency, tone_samples


def frames_of(samples: array[int]) -> list[bytes]:
    data = samples.tobytes()
    return [data[i : i + FRAME_BYTES] for i in range(0, len(data) - FRAME_BYTES + 1, FRAME_BYTES)]


def test_the_earpiece_plays_the_calls_frames_then_silence_and_keeps_no_more_than_a_few() -> None:
    sound = Sound()
    frames = [bytes([n]) * FRAME_BYTES for n in range(1, 8)]
    for frame in frames:
        sound.earpiece_frame(frame)
    # The device was late: only the newest MOST_FRAMES are played, the latency stays bounded.
    played = sound.play(FRAME_BYTES * (MOST_FRAMES + 1))
    assert played == b"".join(frames[-MOST_FRAMES:]) + SILENCE


def test_the_earpiece_takes_any_block_size_without_losing_a_byte() -> None:
    sound = Sound()
    tone = tone_samples(440, 0.2, 16_000).tobytes()
    for frame in frames_of(array("h", tone))[:MOST_FRAMES]:
        sound.earpiece_frame(frame)
    blocks = [sound.play(size) for size in (100, 642, 2, 638, 1178)]
    assert b"".join(blocks) == tone[: FRAME_BYTES * MOST_FRAMES]


@given(st.lists(st.integers(1, 3 * FRAME_BYTES), max_size=30))
def test_the_microphone_gives_whole_frames_in_order_whatever_the_blocks(sizes: list[int]) -> None:
    sound = Sound()
    data = b"".join(n.to_bytes(2, "little") for n in range(sum(sizes) // 2 + 1))  # every frame unlike the others
    aligned = {data[i : i + FRAME_BYTES]: i // FRAME_BYTES for i in range(0, len(data), FRAME_BYTES)}
    offset, given, waiting = 0, [], 0
    for size in sizes:
        sound.record(data[offset : offset + size])
        offset += size
        waiting = max(waiting, offset // FRAME_BYTES - len(given))  # frames recorded, not yet taken
        frame = sound.microphone_frame()  # PJSIP takes one frame each time
        if frame != SILENCE:
            given.append(aligned[frame])  # a whole frame of what was recorded, never a made-up one
    assert given == sorted(set(given))  # in order, none twice
    if waiting <= MOST_FRAMES:  # the device never ran ahead by more than the queue holds: nothing dropped
        assert given == list(range(len(given)))


def test_muted_the_microphone_is_silence_and_forget_drops_what_was_queued() -> None:
    sound = Sound()
    loud = tone_samples(1000, 0.02, 16_000).tobytes()
    sound.record(loud)
    sound.muted = True
    assert sound.microphone_frame() == SILENCE
    sound.muted = False
    sound.record(loud)
    sound.earpiece_frame(loud)
    sound.forget()
    assert sound.microphone_frame() == SILENCE and sound.play(FRAME_BYTES) == SILENCE
    sound.record(loud)
    assert sound.microphone_frame() == loud


def test_noise_suppression_keeps_the_voice_and_its_length() -> None:
    sound = Sound(webrtc_cleaner())
    voice = tone_samples(300, 1.0, 16_000, amplitude=6_000)
    cleaned = b""
    for frame in frames_of(voice):
        sound.record(frame)
        cleaned += sound.microphone_frame()
    assert len(cleaned) == len(voice.tobytes())
    assert round(dominant_frequency(array("h", cleaned[len(cleaned) // 2 :]), 16_000) or 0) == 300


def test_the_caller_and_the_queue_are_read_from_the_acds_invite() -> None:
    assert caller_of('"0384000000" <sip:0384000000@127.0.0.1:5060>;tag=x') == "0384000000"
    assert caller_of("<sip:anonymous@acd.example>") == "anonymous"
    assert caller_of("Marie Dupont <sips:+33612345678@acd.example>") == "Marie Dupont"
    assert caller_of("not a uri") == "not a uri"
    invite = b"INVITE sip:cmartin@10.0.0.5 SIP/2.0\r\nsubject: lons-tva\r\nContent-Length: 0\r\n\r\nSubject: body"
    assert subject_of(invite) == "lons-tva"
    assert subject_of(b"INVITE sip:x SIP/2.0\r\ns:pau-is\r\n\r\n") == "pau-is"  # the compact form
    assert subject_of(b"INVITE sip:x SIP/2.0\r\n\r\nSubject: in the body") == ""

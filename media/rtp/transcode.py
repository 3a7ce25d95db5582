"""Turning one codec's payload into another's: PCMU, PCMA and G.722, 20 ms at a time.

PCMU and PCMA map byte to byte (one `bytes.translate` through a table, as a G.711 gateway does).
G.722 goes through linear PCM: decoded at 16 kHz and halved to 8 kHz by taking every other sample
(which folds the 4–8 kHz band back into speech; a low-pass before it is the known improvement), or
doubled from 8 kHz by repeating each sample. The G.722 coders keep state, so each direction of each
bridge has its own `Transcoder`.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

from aiortp.codecs import get_codec
from aiortp.codecs.g711 import PcmaCodec, PcmuCodec

PCMU, PCMA, G722 = 0, 8, 9

Convert = Callable[[bytes], bytes]


def _table(decode: Convert, encode: Convert) -> bytes:
    return bytes(encode(decode(bytes([value])))[0] for value in range(256))


ULAW_TO_ALAW = _table(PcmuCodec().decode, PcmaCodec().encode)
ALAW_TO_ULAW = _table(PcmaCodec().decode, PcmuCodec().encode)


def to_pcm8k(payload_type: int) -> Convert:
    """Decoder to 16-bit 8 kHz PCM (what recordings and music are kept in)."""
    codec = get_codec(payload_type)
    if payload_type == G722:
        return lambda payload: halve(codec.decode(payload))
    return codec.decode


def from_pcm8k(payload_type: int) -> Convert:
    """Encoder from 16-bit 8 kHz PCM."""
    codec = get_codec(payload_type)
    if payload_type == G722:
        return lambda pcm: codec.encode(double(pcm))
    return codec.encode


def converter(source: int, target: int) -> Convert | None:
    """What turns a `source` payload into a `target` one; None when they are the same codec."""
    if source == target:
        return None
    if (source, target) == (PCMU, PCMA):
        return lambda payload: payload.translate(ULAW_TO_ALAW)
    if (source, target) == (PCMA, PCMU):
        return lambda payload: payload.translate(ALAW_TO_ULAW)
    decode, encode = to_pcm8k(source), from_pcm8k(target)
    return lambda payload: encode(decode(payload))


def halve(pcm16k: bytes) -> bytes:
    samples = array("h", pcm16k[: len(pcm16k) // 4 * 4])
    return samples[::2].tobytes()


def double(pcm8k: bytes) -> bytes:
    samples = array("h", pcm8k[: len(pcm8k) // 2 * 2])
    doubled = array("h", bytes(len(samples) * 4))
    doubled[0::2] = samples
    doubled[1::2] = samples
    return doubled.tobytes()

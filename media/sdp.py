"""Session descriptions (RFC 4566) and the offer/answer of one audio stream (RFC 3264).

Pure. aiosipua parses and writes SDP; this module decides what the ACD accepts: one audio stream of
PCMU, PCMA or G.722 over RTP/AVP, telephone-events (RFC 4733) when the peer offers them, and the
direction a phone puts a call on hold with (sendonly or inactive, or the old c=0.0.0.0 of RFC 2543).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiosipua.sdp import SdpMessage, parse_sdp, serialize_sdp
from aiosipua.sdp_negotiate import SdpNegotiationError, build_sdp, negotiate_sdp

from media.errors import MediaError

#: The codecs the bridge carries, in the order the ACD offers them: the first is the one it prefers
#: (G.711 first, as every trunk and phone has it; G.722 where both sides of a bridge agree on it).
CODECS = {0: "PCMU", 8: "PCMA", 9: "G722"}
OFFERED = (0, 8, 9)
TELEPHONE_EVENT = 101
_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


class SdpError(MediaError):
    """A description the ACD cannot use: the call is refused 488 Not Acceptable Here."""

    status = 488


@dataclass(frozen=True, slots=True)
class Stream:
    """The audio stream agreed with one peer: where to send, in which codec, and how DTMF comes."""

    address: tuple[str, int]
    payload_type: int
    telephone_event: int | None
    direction: str  # as the peer says it: sendrecv, sendonly (it holds the call), recvonly, inactive

    @property
    def codec(self) -> str:
        return CODECS[self.payload_type]

    @property
    def on_hold(self) -> bool:
        """The peer stopped listening (RFC 3264 §8.4): it holds the call."""
        return self.direction in ("sendonly", "inactive") or self.address[0] in ("0.0.0.0", "::")


def read(body: bytes) -> SdpMessage:
    """The description in a body, or SdpError naming what is wrong."""
    if not body:
        raise SdpError("no session description")
    try:
        description = parse_sdp(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, IndexError) as error:
        raise SdpError(f"malformed session description: {error}") from error
    audio = description.audio
    if audio is None or audio.port == 0:
        raise SdpError("no audio stream")
    if audio.proto != "RTP/AVP":
        raise SdpError(f"audio over {audio.proto} is not carried (RTP/AVP only)")
    if description.rtp_address is None:
        raise SdpError("no connection address for the audio stream")
    return description


@dataclass(slots=True)
class Origin:
    """The o= line of one side of a session: the same id throughout, a version that grows with each
    new description (RFC 4566 §5.2), so that a phone sees a re-INVITE's answer as new."""

    session: int
    version: int = 0

    def next(self) -> tuple[str, str]:
        self.version += 1
        return str(self.session), str(self.version)


def answer(offer_body: bytes, host: str, port: int, origin: Origin) -> tuple[bytes, Stream]:
    """The answer to an offer, and the stream it agrees on; SdpError if no offered codec is carried."""
    offer = read(offer_body)
    session, version = origin.next()
    try:
        description, payload_type = negotiate_sdp(
            offer, host, port, supported_codecs=list(OFFERED), dtmf_payload_type=TELEPHONE_EVENT,
            session_id=session, session_name="acd",
        )  # fmt: skip
    except SdpNegotiationError as error:
        raise SdpError(str(error)) from error
    description.origin.session_version = version
    offered_dtmf = _telephone_event(offer)
    stream = Stream(_address(offer), payload_type, offered_dtmf, _direction(offer))
    return serialize_sdp(description).encode(), stream


def offer(
    host: str, port: int, origin: Origin, codecs: tuple[int, ...] = OFFERED, direction: str = "sendrecv"
) -> bytes:
    """An offer of the ACD's codecs (the preferred first) with telephone-events."""
    session, version = origin.next()
    description = build_sdp(host, port, codecs[0], CODECS[codecs[0]], dtmf_payload_type=TELEPHONE_EVENT,
                            session_id=session)  # fmt: skip
    description.origin.session_version = version
    audio = description.media[0]
    audio.formats = [str(pt) for pt in codecs] + [str(TELEPHONE_EVENT)]
    audio.attributes["rtpmap"] = [f"{pt} {CODECS[pt]}/8000" for pt in codecs] + [
        f"{TELEPHONE_EVENT} telephone-event/8000"
    ]
    if direction != "sendrecv":
        del audio.attributes["sendrecv"]
        audio.attributes[direction] = []
    return serialize_sdp(description).encode()


def agreed(answer_body: bytes, offered: tuple[int, ...] = OFFERED) -> Stream:
    """The stream a peer's answer to the ACD's offer agrees on; SdpError if it picked nothing offered."""
    description = read(answer_body)
    audio = description.audio
    assert audio is not None  # read() refuses a description without audio
    chosen = next((codec.payload_type for codec in audio.codecs if codec.payload_type in offered), None)
    if chosen is None:
        raise SdpError("the answer chose no codec that was offered")
    return Stream(_address(description), chosen, _telephone_event(description), _direction(description))


def _address(description: SdpMessage) -> tuple[str, int]:
    address = description.rtp_address
    assert address is not None  # read() refuses a description without one
    return address


def _telephone_event(description: SdpMessage) -> int | None:
    audio = description.audio
    assert audio is not None
    return next((c.payload_type for c in audio.codecs if c.encoding_name.lower() == "telephone-event"), None)


def _direction(description: SdpMessage) -> str:
    audio = description.audio
    assert audio is not None
    for attributes in (audio.attributes, description.attributes):  # the media's own first (RFC 4566 §6)
        for direction in _DIRECTIONS:
            if direction in attributes:
                return direction
    return "sendrecv"

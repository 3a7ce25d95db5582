"""sipp callers that press keys (RFC 4733 telephone-events from sip-tester's pcaps, kept in tests/data/sip-tester)
at chosen moments, written as a scenario per test."""

from __future__ import annotations

import struct
from pathlib import Path

DTMF = Path(__file__).resolve().parent.parent / "data" / "sip-tester"
PCAP_NAMES = {**{str(d): str(d) for d in range(10)}, "*": "star", "#": "pound"}
#: A key's pcap lasts about 100 ms; keys of one entry are sent this far apart.
KEY_GAP_MS = 350


INVITE = """  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""

CALLER_HANGS_UP = """  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
"""

ACD_HANGS_UP = """  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""


def press(key: str, number: int, directory: Path) -> Path:
    """The pcap of `key` as the `number`th press of a call: sipp replays a pcap's RTP headers as they are, so
    pressing the same key twice would send one event twice (same SSRC and timestamp), which a receiver rightly
    takes as one press (RFC 4733 §2.5.1.4); a phone gives each press its own timestamp, and so does this copy."""
    data = bytearray((DTMF / f"dtmf_2833_{PCAP_NAMES[key]}.pcap").read_bytes())
    offset = 24  # the pcap file header; then each record: 16-byte header, Ethernet 14, IPv4 20, UDP 8, RTP
    while offset < len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        udp, rtp = offset + 16 + 14 + 20, offset + 16 + 42
        struct.pack_into("!H", data, udp + 6, 0)  # no UDP checksum (IPv4 allows it) over the changed bytes
        timestamp = struct.unpack_from("!I", data, rtp + 4)[0]
        struct.pack_into("!I", data, rtp + 4, (timestamp + number * 8000) & 0xFFFFFFFF)
        offset += 16 + length
    path = directory / f"press-{number}-{PCAP_NAMES[key]}.pcap"
    path.write_bytes(bytes(data))
    return path


def keys(entry: str, *, after_ms: int) -> list[tuple[int, str | Path]]:
    """The keys of `entry` typed one after the other, the first `after_ms` after the previous step."""
    return [(after_ms if index == 0 else KEY_GAP_MS, key) for index, key in enumerate(entry)]


def scenario(
    path: Path,
    steps: list[tuple[int, str | Path]],
    *,
    then_ms: int,
    acd_hangs_up: bool = False,
    caller: str = "0384000000",
) -> Path:
    """A caller scenario at `path`: answered, then each step (pause in ms, key) in turn, then `then_ms` more
    before it hangs up — or, with `acd_hangs_up`, until the ACD hangs up. A step that is a path plays that pcap
    (the caller's voice); it goes on while the next pauses, and the next key cuts it (one pcap at a time)."""
    body = [INVITE.format(caller=caller)]
    (path.parent / f"{path.stem}-keys").mkdir(exist_ok=True)
    for number, (pause, key) in enumerate(steps):
        body.append(f'  <pause milliseconds="{pause}"/>\n')
        pcap = key if isinstance(key, Path) else press(key, number, path.parent / f"{path.stem}-keys")
        body.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n')
    if acd_hangs_up:
        body.append(ACD_HANGS_UP)
    else:
        body.append(f'  <pause milliseconds="{then_ms}"/>\n')
        body.append(CALLER_HANGS_UP.format(caller=caller))
    xml = '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
    xml += f'<scenario name="{path.stem}">\n{"".join(body)}</scenario>\n'
    path.write_text(xml)
    return path

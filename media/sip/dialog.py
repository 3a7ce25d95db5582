"""A SIP dialog (RFC 3261 §12): the identifiers and sequence that every request inside a call carries.

Pure. The ACD is a back-to-back user agent: the caller's leg is a dialog where it is the UAS, each ring
of an agent's phone one where it is the UAC. Both send their own requests (BYE, re-INVITE, CANCEL) by
the same rules, built here as bytes.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from acd.hostport import parse_host_port
from media.sip.responses import spelled

_URI = re.compile(r"<([^>]*)>")
_TAG = re.compile(r";\s*tag\s*=\s*([^;>\s]+)", re.IGNORECASE)
_BRANCH = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.IGNORECASE)
MAGIC = "z9hG4bK"  # RFC 3261 §8.1.1.7: a branch that starts so is unique to its transaction
Headers = tuple[tuple[str, str], ...]


def new_branch() -> str:
    return MAGIC + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def uri_of(address: str) -> str:
    """The URI of a name-addr or addr-spec header value (From, To, Contact)."""
    match = _URI.search(address)
    return match.group(1).strip() if match else address.split(";", 1)[0].strip()


def tag_of(address: str) -> str | None:
    after = address.rsplit(">", 1)[-1] if ">" in address else address
    match = _TAG.search(after)
    return match.group(1) if match else None


def branch_of(via: str) -> str | None:
    match = _BRANCH.search(via.split(",", 1)[0])
    return match.group(1) if match else None


def user_of(address: str) -> str:
    uri = uri_of(address)
    rest = uri.split(":", 1)[-1]
    return rest.split("@", 1)[0].split(";", 1)[0] if "@" in rest else ""


def contact_address(uri: str) -> tuple[str, int]:
    """Host and port of a SIP URI (5060 where it names none): where to open a connection to reach it. Read by
    the product's one host:port reader; a host part it refuses raises its `AddressError`."""
    rest = uri.split(":", 1)[-1].split("@", 1)[-1].split(";", 1)[0]
    return parse_host_port(rest, default_port=5060)


def build_request(
    method: str, uri: str, headers: Headers, body: bytes = b"", content_type: str = "application/sdp"
) -> bytes:
    lines = [f"{method} {uri} SIP/2.0", *(f"{spelled(name)}: {value}" for name, value in headers)]
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines += ["Max-Forwards: 70", "User-Agent: acd", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(slots=True)
class Dialog:
    """One side of a call as the ACD sees it, and where its requests go."""

    call_id: str
    local: str  # the ACD's address header value, with its tag
    remote: str  # the peer's, with its tag once known
    target: str  # the peer's Contact URI: the Request-URI of requests inside the dialog
    contact: str  # the ACD's Contact URI
    cseq: int
    transport: str  # how to reach the peer: "udp" or "tcp", at `address`
    address: tuple[str, int]
    via_host: str = ""  # the ACD's sent-by, host:port

    def request(self, method: str, extra: Headers = (), body: bytes = b"", *, cseq: int | None = None,
                branch: str | None = None, content_type: str = "application/sdp") -> tuple[bytes, str]:  # fmt: skip
        """A request in this dialog, with a new CSeq unless one is given (ACK and CANCEL reuse the INVITE's)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = branch or new_branch()
        headers: Headers = (
            ("via", f"SIP/2.0/{self.transport.upper()} {self.via_host};branch={branch};rport"),
            ("from", self.local),
            ("to", self.remote),
            ("call-id", self.call_id),
            ("cseq", f"{cseq} {method}"),
            ("contact", f"<{self.contact}>"),
            *extra,
        )
        return build_request(method, self.target, headers, body, content_type), branch

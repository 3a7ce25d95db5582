"""Responses to requests, as bytes: the headers RFC 3261 §8.2.6 copies, and the ones a status needs.

Pure. A response to a request that failed the checks is built from the header lines that can still be
read: its Via, From, To, Call-ID and CSeq as they came.
"""

from __future__ import annotations

import secrets

from media.sip.checks import COMPACT, Request, header_lines, split_head

SERVER = "acd"
_COPIED = ("via", "from", "to", "call-id", "cseq")
_SPELLING = {"call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate", "min-se": "Min-SE"}
Headers = tuple[tuple[str, str], ...]


def answer(
    request: Request | bytes,
    status: int,
    reason: str,
    extra: Headers = (),
    body: bytes = b"",
    *,
    tag: str | None = None,
) -> bytes | None:
    """The response, or None when the request has no Via to route an answer by (then it is dropped).

    `tag` is the To tag of the dialog the response belongs to; without one, a final response gets a new tag.
    """
    headers = request.headers if isinstance(request, Request) else _salvage(request)
    copied = [(name, value) for name, value in headers if name in _COPIED]
    if not any(name == "via" for name, _ in copied):
        return None
    lines = [f"SIP/2.0 {status} {reason}"]
    for name, value in copied:
        if name == "to" and status > 100 and ";tag=" not in value.replace(" ", "").lower():
            value += f";tag={tag or secrets.token_hex(6)}"  # the UAS's tag, which a final response must carry
        lines.append(f"{spelled(name)}: {value}")
    lines += [f"{spelled(name)}: {value}" for name, value in extra]
    if body:
        lines.append("Content-Type: application/sdp")
    lines += [f"Server: {SERVER}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def spelled(name: str) -> str:
    """A header's name as it is usually written: lower-case names are what the checks keep."""
    return _SPELLING.get(name, "-".join(part.capitalize() for part in name.split("-")))


def _salvage(data: bytes) -> Headers:
    """The copied headers of a message that could not be checked, read leniently, one line each."""
    split = split_head(data)
    text = (data if split is None else split[0]).decode("utf-8", "replace")
    found = []
    for line in header_lines(text)[1:]:
        name, colon, value = line.partition(":")
        name = COMPACT.get(name.strip().lower(), name.strip().lower())
        if colon and name in _COPIED:
            found.append((name, value.strip()))
    return tuple(found)

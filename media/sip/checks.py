"""What a SIP request must be before anything acts on it: RFC 3261's syntax, checked on the bytes.

aiosipua's parser is lenient (it reads nearly any text as a message and drops what it cannot read
without an answer): the RFC 4475 torture messages it accepts include a negative Content-Length,
duplicated Call-IDs and unbalanced quotes. So every request goes through `check` first, which says
how to refuse it (the status, its reason and the headers the answer needs) or that it may be parsed
and acted on. Pure: bytes in, a verdict out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from media.sip.reasons import reason

#: Methods this server acts on; others it knows answer 405, unknown ones 501 (RFC 3261 §8.2.1).
ALLOWED = ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "INFO", "REFER", "NOTIFY", "UPDATE")
KNOWN = frozenset((*ALLOWED, "PRACK", "SUBSCRIBE", "MESSAGE", "PUBLISH"))
#: Option tags a Require may name: session timers (RFC 4028). Any other is refused 420 rather than taken
#: on a promise.
SUPPORTED: frozenset[str] = frozenset({"timer"})
URI_SCHEMES = frozenset({"sip", "sips", "tel"})
ACCEPTED_BODIES = ("application/sdp",)
MAX_CSEQ = 2**31 - 1
MAX_FORWARDS = 255
MAX_EXPIRES = 2**32 - 1

COMPACT = {
    "i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length", "c": "content-type",
    "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via", "o": "event", "r": "refer-to",
    "b": "referred-by", "x": "session-expires", "u": "allow-events",
}  # fmt: skip
REQUIRED = ("via", "from", "to", "call-id", "cseq")
SINGLE = frozenset({"from", "to", "call-id", "cseq", "content-length", "content-type", "max-forwards", "expires"})

_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_REQUEST_LINE = re.compile(rf"({_TOKEN}) ([^\s<>]+) (SIP/[0-9]+\.[0-9]+)")
_HEADER_NAME = re.compile(_TOKEN)
_DIGITS = re.compile(r"[0-9]+")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*):")
_PARAM = re.compile(rf"{_TOKEN}([ \t]*=[ \t]*({_TOKEN}|\"([^\"\\]|\\.)*\"|\[[0-9A-Fa-f:.]+\]))?")  # LWS around = (SWS)
_DISPLAY_TOKENS = re.compile(rf"{_TOKEN}([ \t]+{_TOKEN})*")
_QUOTED = re.compile(r"\"([^\"\\]|\\.)*\"")
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(r"\r?\n")
_VIA = re.compile(rf"SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*{_TOKEN}[ \t]+[^;,\s]+")


@dataclass(frozen=True, slots=True)
class Refusal:
    """How to answer a request that is refused before anything acts on it."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False  # over TCP: the stream cannot be framed any more, close the connection


@dataclass(frozen=True, slots=True)
class Request:
    """A request that passed the checks, framed: its start line, headers (lower-case names, unfolded,
    compact forms expanded, in order) and body bounded by Content-Length."""

    method: str
    uri: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    raw: bytes = field(repr=False)  # the request alone (a datagram may carry octets after it)

    def first(self, name: str) -> str | None:
        return next((value for header, value in self.headers if header == name), None)


@dataclass(frozen=True, slots=True)
class Response:
    """A response to one of the ACD's own requests (it rings agents' phones): status, headers, body.

    `status` is 0 for a response too malformed to match to any request; it is dropped.
    """

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def first(self, name: str) -> str | None:
        return next((value for header, value in self.headers if header == name), None)

    @property
    def cseq_method(self) -> str:
        return (self.first("cseq") or "").partition(" ")[2].strip()


Verdict = Request | Refusal | Response
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9])(?: (.*))?")  # the reason may be empty


class _Refused(Exception):
    def __init__(self, status: int, reason: str, *headers: tuple[str, str], close: bool = False) -> None:
        self.refusal = Refusal(status, reason, headers, close)


def check(data: bytes, *, reliable: bool = False) -> Verdict:
    """The request in `data` (a UDP datagram, or one framed message of a TCP stream), or its refusal."""
    try:
        return _check(data, reliable)
    except _Refused as refused:
        return refused.refusal


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """The header section of a message (its start line and headers, without the empty line that ends
    them) and what follows it; None if no empty line ends the headers.

    RFC 3261 §7 ends lines with CRLF; a bare LF is read as one too, as many stacks do (a hand-typed or
    scripted request often has them). The body is left as it came."""
    end = _END_OF_HEAD.search(data)
    return None if end is None else (data[: end.start()], data[end.end() :])


def header_lines(head: str) -> list[str]:
    """The lines of a header section, each ended by CRLF or a bare LF."""
    return _LINE_END.split(head)


def _check(data: bytes, reliable: bool) -> Verdict:
    split = split_head(data)
    if split is None:
        raise _Refused(400, reason(400, "no empty line after the headers"))
    try:
        text = split[0].decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, reason(400, "not UTF-8")) from None
    rest = split[1]
    start, *lines = header_lines(text)
    if start.startswith("SIP/"):
        return _response(start, lines, rest)
    match = _REQUEST_LINE.fullmatch(start)
    if match is None:
        raise _Refused(400, reason(400, "malformed Request-Line"))
    method, uri, version = match.groups()
    if version != "SIP/2.0":
        raise _Refused(505, reason(505))
    headers = _headers(lines)
    names = [name for name, _ in headers]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise _Refused(400, reason(400, f"missing {', '.join(missing)}"))
    doubled = sorted({name for name in names if name in SINGLE and names.count(name) > 1})
    if doubled:
        raise _Refused(400, reason(400, f"more than one {', '.join(doubled)}"))
    body = _body(dict(headers).get("content-length"), rest, reliable)
    head = "\r\n".join([start, *lines]).encode()  # CRLF whatever ended the lines: the request as the RFC writes it
    request = Request(method, uri, tuple(headers), body, head + b"\r\n\r\n" + body)
    _check_fields(request)
    _check_method_and_uri(request)
    _check_extensions(request)
    return request


def _response(start: str, lines: list[str], rest: bytes) -> Response:
    """A response, read as leniently as a UAC can afford: what cannot be matched to a request is dropped."""
    match = _STATUS_LINE.fullmatch(start)
    try:
        headers = _headers(lines)
    except _Refused:
        return Response(0, "malformed header line")
    names = [name for name, _ in headers]
    if match is None or any(name not in names for name in REQUIRED):
        return Response(0, "malformed status line" if match is None else "missing headers")
    length = dict(headers).get("content-length")
    body = rest[: int(length)] if length is not None and length.isdigit() else rest
    return Response(int(match.group(1)), match.group(2) or "", tuple(headers), body)


def _headers(lines: list[str]) -> list[tuple[str, str]]:
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not unfolded:
                raise _Refused(400, reason(400, "continuation line before any header"))
            unfolded[-1] += " " + line.strip()
        else:
            unfolded.append(line)
    headers = []
    for line in unfolded:
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or _HEADER_NAME.fullmatch(name) is None:
            raise _Refused(400, reason(400, "malformed header line"))
        name = name.lower()
        headers.append((COMPACT.get(name, name), value.strip(" \t")))
    return headers


def _body(length: str | None, rest: bytes, reliable: bool) -> bytes:
    if length is None:
        if reliable:
            raise _Refused(400, reason(400, "Content-Length is required over a stream"), close=True)
        return rest  # a datagram: the body is the rest of it
    if _DIGITS.fullmatch(length) is None:
        raise _Refused(400, reason(400, "Content-Length is not a number"), close=True)
    size = int(length)
    if size > len(rest):
        raise _Refused(400, reason(400, "Content-Length larger than the body"))
    return rest[:size]  # what follows in a datagram is not this message's (RFC 3261 §18.3)


def _check_fields(request: Request) -> None:
    sequence, _, cseq_method = (request.first("cseq") or "").partition(" ")
    cseq_method = cseq_method.strip(" \t")
    if _DIGITS.fullmatch(sequence) is None or int(sequence) > MAX_CSEQ or not cseq_method:
        raise _Refused(400, reason(400, "malformed CSeq"))
    for name, limit in (("max-forwards", MAX_FORWARDS), ("expires", MAX_EXPIRES)):
        value = request.first(name)
        if value is not None and (_DIGITS.fullmatch(value) is None or int(value) > limit):
            raise _Refused(400, reason(400, f"malformed {name.title()}"))
    for name, value in request.headers:
        if name == "via":
            _check_vias(value)
        elif name in ("from", "to", "contact"):
            _check_addresses(name, value)
    if request.method in KNOWN and cseq_method != request.method:
        raise _Refused(400, reason(400, "CSeq method differs from the request's"))


def _check_method_and_uri(request: Request) -> None:
    if request.method not in KNOWN:
        raise _Refused(501, reason(501), ("allow", ", ".join(ALLOWED)))
    scheme = _SCHEME.match(request.uri)
    if scheme is None or scheme.group(1).lower() not in URI_SCHEMES:
        raise _Refused(416, reason(416))
    if "?" in request.uri:
        raise _Refused(400, reason(400, "headers in the Request-URI"))
    if request.method not in ALLOWED:
        raise _Refused(405, reason(405), ("allow", ", ".join(ALLOWED)))


def _check_extensions(request: Request) -> None:
    required = [tag.strip() for value in _all(request, "require") for tag in value.split(",") if tag.strip()]
    unsupported = [tag for tag in required if tag.lower() not in SUPPORTED]
    if unsupported and request.method not in ("ACK", "CANCEL"):
        raise _Refused(420, reason(420), ("unsupported", ", ".join(unsupported)))
    content_type = (request.first("content-type") or "").split(";")[0].strip().lower()
    if request.body and request.method in ("INVITE", "UPDATE") and content_type not in ACCEPTED_BODIES:
        raise _Refused(415, reason(415), ("accept", ", ".join(ACCEPTED_BODIES)))
    accepts = [item.split(";")[0].strip().lower() for value in _all(request, "accept") for item in value.split(",")]
    wanted = {"application/sdp", "application/*", "*/*"}
    if request.method in ("INVITE", "OPTIONS") and accepts and any(accepts) and not wanted & set(accepts):
        raise _Refused(406, reason(406), ("accept", ", ".join(ACCEPTED_BODIES)))


def _all(request: Request, name: str) -> list[str]:
    return [value for header, value in request.headers if header == name]


def _check_vias(value: str) -> None:
    for via in split_unquoted(value, ","):
        sent_by, *params = split_unquoted(via, ";")
        if _VIA.fullmatch(sent_by.strip()) is None or not all(_PARAM.fullmatch(p.strip()) for p in params):
            raise _Refused(400, reason(400, "malformed Via"))


def _check_addresses(name: str, value: str) -> None:
    # From and To hold one address; Contact a list, or "*".
    values = split_unquoted(value, ",") if name == "contact" else [value]
    if name == "contact" and value == "*":
        return
    for address in values:
        if not _is_address(address.strip()):
            raise _Refused(400, reason(400, f"malformed {name.title()}"))


def _is_address(text: str) -> bool:
    """name-addr or addr-spec, then header parameters (RFC 3261 §20.10, §25.1)."""
    if "<" in text:
        display, _, rest = text.partition("<")
        uri, closed, params = rest.partition(">")
        display = display.strip(" \t")
        if not closed or uri != uri.strip() or not uri or " " in uri:
            return False  # no spaces inside the angle brackets (RFC 4475 §3.1.2.14)
        if display and not (_QUOTED.fullmatch(display) or _DISPLAY_TOKENS.fullmatch(display)):
            return False
        after = params.strip(" \t")
        if after and not after.startswith(";"):
            return False
        parameters = split_unquoted(after[1:], ";") if after else []
    else:
        uri, *parameters = split_unquoted(text, ";")
        uri = uri.strip(" \t")
        if _SCHEME.match(uri) is None or any(c in uri for c in ' ?,"'):
            return False  # a URI with ? or , must be enclosed in <> (RFC 3261 §20)
    return all(_PARAM.fullmatch(p.strip()) for p in parameters)


def split_unquoted(text: str, separator: str) -> list[str]:
    """Split on `separator` outside quoted strings and angle brackets; an unbalanced quote is refused."""
    parts: list[str] = []
    current: list[str] = []
    quoted = angle = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char in "<>":
            angle = char == "<"
        elif char == separator and not quoted and not angle:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise _Refused(400, reason(400, "unterminated quoted string"))
    parts.append("".join(current))
    return parts

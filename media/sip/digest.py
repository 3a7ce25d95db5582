"""Digest authentication of SIP requests (RFC 3261 §22, RFC 8760 for SHA-256, computed as RFC 7616 says).

The server never holds a password: an account keeps HA1 = H(user:realm:password) per algorithm, as
Kamailio and Asterisk keep them. Nonces carry their own issue time and an HMAC of it under the
server's secret, so any node of a deployment sharing the secret can check a nonce it did not issue,
and an old one is refused as stale (the phone retries with the new one, without asking its user).
Nonce counts are not tracked: within a nonce's lifetime the same answer is accepted again, so a
REGISTER seen on the wire could be replayed for those minutes (TLS is what protects against that).

Pure: the clock and the secret are given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
NONCE_LIFETIME = 300.0
_MAC = 16  # bytes of HMAC-SHA-256 a nonce keeps  # seconds a nonce is good for; then the answer says stale=true
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')


def ha1(algorithm: str, user: str, realm: str, password: str) -> str:
    return _hash(algorithm, f"{user}:{realm}:{password}")


def _hash(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode("utf-8", "surrogateescape")).hexdigest()  # bytes as typed


@dataclass(frozen=True, slots=True)
class Credentials:
    """An Authorization header of scheme Digest, its parameters unquoted."""

    params: dict[str, str]

    @property
    def username(self) -> str:
        return self.params.get("username", "")

    @property
    def algorithm(self) -> str:
        return self.params.get("algorithm", "MD5").upper()


def parse_credentials(value: str) -> Credentials | None:
    """The Digest credentials of an Authorization value, or None if it is another scheme or malformed."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            return None
        name, raw = match.group(1).lower(), match.group(2)
        params[name] = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw.startswith('"') else raw
        position = match.end()
    return Credentials(params)


class Nonces:
    """Issues nonces and tells whether one is genuine and still fresh."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def issue(self, now: float) -> str:
        stamp = f"{now:.3f}".encode()
        mac = hmac.new(self.secret, stamp, hashlib.sha256).digest()[:_MAC]
        return base64.urlsafe_b64encode(stamp + mac).decode().rstrip("=")

    def age(self, nonce: str, now: float) -> float | None:
        """Seconds since `nonce` was issued, or None if this server (or its deployment) did not issue it."""
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
            stamp, mac = raw[:-_MAC], raw[-_MAC:]  # the issue time, then its HMAC
            issued = float(stamp)
        except ValueError:
            return None
        expected = hmac.new(self.secret, stamp, hashlib.sha256).digest()[:_MAC]
        if not hmac.compare_digest(mac, expected):
            return None
        return now - issued


def expected_response(credentials: Credentials, method: str, ha1_hex: str) -> str | None:
    """The response a phone knowing the password sends, or None if the credentials lack a field."""
    params, algorithm = credentials.params, credentials.algorithm
    if algorithm not in ALGORITHMS or "nonce" not in params or "uri" not in params:
        return None
    ha2 = _hash(algorithm, f"{method}:{params['uri']}")
    qop = params.get("qop")
    if qop is None:  # RFC 2069 style, still sent by some phones
        return _hash(algorithm, f"{ha1_hex}:{params['nonce']}:{ha2}")
    if qop != "auth" or "nc" not in params or "cnonce" not in params:
        return None
    return _hash(algorithm, f"{ha1_hex}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{qop}:{ha2}")


def challenges(
    realm: str, nonce: str, algorithms: Sequence[str], *, stale: bool = False
) -> tuple[tuple[str, str], ...]:
    """WWW-Authenticate values, one per algorithm in the order of preference."""
    flag = ", stale=true" if stale else ""
    return tuple(
        ("www-authenticate", f'Digest realm="{realm}", nonce="{nonce}", algorithm={algorithm}, qop="auth"{flag}')
        for algorithm in algorithms
    )

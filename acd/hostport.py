"""The one reader of `host:port` in the product: options (`--sip`, `--server`, `--mqtt`), the trunk of settings.yaml.
Pure.

    acd.example:5060    192.0.2.7:5060    [2001:db8::7]:5060    [::1]:5060

An IPv6 address is written in brackets (RFC 3986 §3.2.2), since its colons would be taken for the port's.
The port is 1 to 65535 (0 too where the caller asks for a free port); a host may go without a port where a
default is given. Anything else raises `AddressError` naming the text.
"""

from __future__ import annotations

import ipaddress
import re

#: A host name or an IPv4 address (RFC 1123 §2.1 labels, and the underscore some internal names carry).
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}")
_PORT = re.compile(r"[0-9]{1,5}")


class AddressError(ValueError):
    """A text that is not host:port; the message names the text and what is wrong with it."""


def parse_host_port(text: str, *, default_port: int | None = None, free: bool = False) -> tuple[str, int]:
    """(host, port) of `text`: the host without brackets, the port an int. `default_port`: the port when the
    text names none (else a port is required); `free`: port 0 ("any free port") is allowed."""
    host, port_text = _split(text)
    if port_text is None:
        if default_port is None:
            raise AddressError(f"{text!r} is not host:port: the port is missing")
        port = default_port
    else:
        if not _PORT.fullmatch(port_text):
            raise AddressError(f"{text!r} is not host:port: the port {port_text!r} is not a number")
        port = int(port_text)
    lowest = 0 if free else 1
    if not lowest <= port <= 65535:
        raise AddressError(f"{text!r} is not host:port: the port must be from {lowest} to 65535")
    return host, port


def join_host_port(host: str, port: int) -> str:
    """The text `parse_host_port` reads back: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _split(text: str) -> tuple[str, str | None]:
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket:
            raise AddressError(f"{text!r} is not host:port: the '[' of an IPv6 address is not closed")
        try:
            ipaddress.IPv6Address(inside)
        except ValueError:
            raise AddressError(f"{text!r} is not host:port: {inside!r} is not an IPv6 address") from None
        if not rest:
            return inside, None
        if not rest.startswith(":"):
            raise AddressError(f"{text!r} is not host:port: ':' must follow the ']'")
        return inside, rest[1:]
    if text.count(":") > 1:
        raise AddressError(f"{text!r} is not host:port: write an IPv6 address in brackets, [::1]:5060")
    host, colon, port = text.partition(":")
    if not _NAME.fullmatch(host) or ".." in host:
        raise AddressError(f"{text!r} is not host:port: {host!r} is not a host name or address")
    return host, (port if colon else None)

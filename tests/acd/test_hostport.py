"""The one host:port reader: what parses, each refusal by its words, and the invariant on any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.hostport import AddressError, join_host_port, parse_host_port


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acd.example:5060", ("acd.example", 5060)),
        ("192.0.2.7:1", ("192.0.2.7", 1)),
        ("localhost:65535", ("localhost", 65535)),
        ("[::1]:5060", ("::1", 5060)),
        ("[2001:db8::7]:5080", ("2001:db8::7", 5080)),
        ("sip_trunk-1.internal:5060", ("sip_trunk-1.internal", 5060)),
    ],
)
def test_host_and_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("acd.example", "the port is missing"),
        ("acd.example:", "the port '' is not a number"),
        ("acd.example:50x", "the port '50x' is not a number"),
        ("acd.example:+50", "the port '+50' is not a number"),
        ("acd.example:٥٠٦٠", "the port '٥٠٦٠' is not a number"),  # Arabic-Indic digits: str.isdigit's, not ours
        ("acd.example:5060\n", "the port '5060\\n' is not a number"),
        ("acd.example:0", "the port must be from 1 to 65535"),
        ("acd.example:65536", "the port must be from 1 to 65535"),
        ("acd.example:123456", "the port '123456' is not a number"),
        (":5060", "'' is not a host name or address"),
        ("acd example:5060", "'acd example' is not a host name or address"),
        ("acd..example:5060", "'acd..example' is not a host name or address"),
        ("::1:5060", "write an IPv6 address in brackets, [::1]:5060"),
        ("[::1:5060", "the '[' of an IPv6 address is not closed"),
        ("[::g]:5060", "'::g' is not an IPv6 address"),
        ("[acd.example]:5060", "'acd.example' is not an IPv6 address"),
        ("[::1]5060", "':' must follow the ']'"),
        ("", "'' is not a host name or address"),
    ],
)
def test_refusals_name_the_text(text: str, why: str) -> None:
    with pytest.raises(AddressError) as refused:
        parse_host_port(text)
    assert str(refused.value) == f"{text!r} is not host:port: {why}"


def test_a_default_port_and_a_free_port() -> None:
    assert parse_host_port("broker", default_port=1883) == ("broker", 1883)
    assert parse_host_port("[::1]", default_port=8883) == ("::1", 8883)
    assert parse_host_port("broker:1884", default_port=1883) == ("broker", 1884)
    assert parse_host_port("127.0.0.1:0", free=True) == ("127.0.0.1", 0)
    with pytest.raises(AddressError, match="from 0 to 65535"):
        parse_host_port("127.0.0.1:65536", free=True)


@given(st.text())
def test_any_text_parses_or_raises_the_one_error(text: str) -> None:
    try:
        host, port = parse_host_port(text)
    except AddressError as error:
        assert repr(text) in str(error)
        return
    assert 0 < port < 65536 and host
    assert parse_host_port(join_host_port(host, port)) == (host, port)


@given(
    st.one_of(st.ip_addresses().map(str), st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True)),
    st.integers(1, 65535),
)
def test_what_is_joined_reads_back(host: str, port: int) -> None:
    assert parse_host_port(join_host_port(host, port)) == (host, port)

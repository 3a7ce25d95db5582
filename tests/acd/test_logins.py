"""The log-in limits' pure parts: the decision from the counts, and the bounded counter of one node."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from acd.errors import InvalidEvent
from acd.events import LoginFailed
from acd.logins import AttemptCounter, LoginLimits, Refusal, Window, address_group, keys

LIMITS = LoginLimits(per_user=5, per_address=20, window=300)


def test_below_every_limit_nothing_is_refused() -> None:
    assert LIMITS.refusal("ana", "192.0.2.1", (None, None), now=0.0) is None
    assert LIMITS.refusal("ana", "192.0.2.1", (Window(19, 100.0), Window(4, 100.0)), now=0.0) is None


def test_the_user_limit_refuses_until_its_window_ends() -> None:
    refusal = LIMITS.refusal("ana", "192.0.2.1", (Window(1, 50.0), Window(5, 120.5)), now=20.0)
    assert refusal == Refusal("user", "user:ana", 101)  # whole seconds, rounded up
    assert LIMITS.refusal("ana", "192.0.2.1", (None, Window(5, 120.5)), now=120.5) is None  # ended


def test_the_address_limit_is_named_first_and_the_later_window_is_waited_for() -> None:
    refusal = LIMITS.refusal("ana", "192.0.2.1", (Window(20, 30.0), Window(7, 200.0)), now=10.0)
    assert refusal == Refusal("address", "address:192.0.2.1", 190)
    assert LIMITS.refusal("ana", "192.0.2.1", (Window(20, 10.2), None), now=10.0) == Refusal(
        "address", "address:192.0.2.1", 1
    )


@pytest.mark.parametrize(
    ("per_user", "per_address", "window", "message"),
    [
        (0, 20, 300, "login limits must allow at least one failure"),
        (5, 0, 300, "login limits must allow at least one failure"),
        (5, 20, 0, "the login window must be positive, not 0"),
    ],
)
def test_limits_are_checked(per_user: int, per_address: int, window: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LoginLimits(per_user, per_address, window)


def test_a_window_opens_at_the_first_failure_and_is_not_extended() -> None:
    counter = AttemptCounter()
    assert counter.fail("user:ana", now=10.0, window=300) == Window(1, 310.0)
    assert counter.fail("user:ana", now=200.0, window=300) == Window(2, 310.0)
    assert counter.read("user:ana", now=309.9) == Window(2, 310.0)
    assert counter.read("user:ana", now=310.0) is None and len(counter) == 0
    assert counter.fail("user:ana", now=310.0, window=300) == Window(1, 610.0)  # a new window


def test_clear_forgets_a_key() -> None:
    counter = AttemptCounter()
    counter.fail("user:ana", now=0.0, window=300)
    counter.clear("user:ana")
    counter.clear("user:ana")  # twice is harmless
    assert counter.read("user:ana", now=1.0) is None


def test_a_refusal_is_noted_once_per_window() -> None:
    counter = AttemptCounter()
    assert not counter.first_refusal("user:ana", now=0.0)  # no window: nothing to refuse
    counter.fail("user:ana", now=0.0, window=300)
    assert counter.first_refusal("user:ana", now=1.0)
    assert not counter.first_refusal("user:ana", now=2.0)
    counter.fail("user:ana", now=300.0, window=300)
    assert counter.first_refusal("user:ana", now=301.0)  # the next window's


@given(st.lists(st.tuples(st.integers(0, 500), st.floats(0, 10)), max_size=300))
def test_memory_stays_bounded_whatever_the_keys(failures: list[tuple[int, float]]) -> None:
    counter = AttemptCounter(capacity=50)
    now = 0.0
    for key, step in failures:
        now += step
        counter.fail(f"user:{key}", now, window=60)
        assert len(counter) <= 50
        assert counter.read(f"user:{key}", now) is not None  # the key just counted is kept


def test_a_flood_of_distinct_users_evicts_the_oldest_windows() -> None:
    counter = AttemptCounter(capacity=1000)
    for n in range(100_000):
        counter.fail(f"user:{n}", now=float(n) / 1000, window=300)
    assert len(counter) == 1000
    assert counter.read("user:0", now=100.0) is None and counter.read("user:99999", now=100.0) == Window(1, 399.999)


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1, not 0"):
        AttemptCounter(capacity=0)


def test_the_keys_of_an_attempt() -> None:
    assert keys("ana", "192.0.2.1") == ("address:192.0.2.1", "user:ana")
    assert keys("ana", "2001:db8:1:2:3:4:5:6") == ("address:2001:db8:1:2::/64", "user:ana")


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:DB8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::1", "::/64"),
        ("unknown", "unknown"),
        ("010.1.1.1", "010.1.1.1"),  # not an address Python reads: counted as given
    ],
)
def test_an_address_is_counted_by_its_group(address: str, group: str) -> None:
    assert address_group(address) == group


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_every_address_of_an_ipv6_64_counts_as_one_and_no_other(network: int, host: int, other: int) -> None:
    assume(network != 0)  # ::/64 holds ::ffff:0:0/96, the IPv4-mapped addresses: counted as IPv4
    one, two = (str(ipaddress.IPv6Address(network << 64 | h)) for h in (host, other))
    assert address_group(one) == address_group(two) == str(ipaddress.IPv6Network((network << 64, 64)))
    assert address_group(str(ipaddress.IPv6Address((network ^ 1) << 64 | host))) != address_group(one)


@given(st.integers(0, 2**32 - 1))
def test_an_ipv4_address_counts_alone_and_the_same_mapped_in_ipv6(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    assert address_group(str(address)) == str(address) == address_group(f"::ffff:{address}")


@given(st.text(max_size=128))
def test_any_text_has_a_group(address: str) -> None:
    assert isinstance(address_group(address), str)


@pytest.mark.parametrize(
    ("user", "address", "limit", "message"),
    [
        ("", "192.0.2.1", None, "user must be a non-empty string of at most 128 characters"),
        ("ana", "x" * 129, None, "address must be a non-empty string of at most 128 characters"),
        ("ana", "192.0.2.1", "password", "a log-in's limit is user or address"),
    ],
)
def test_a_login_event_is_validated(user: str, address: str, limit: str | None, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        LoginFailed(user, address, limit)

"""Log-in limits on the running API: refusals before any password check, a few checks at once, the audit.

The password check's cost is counted, not timed: `acd.auth._scrypt` is wrapped to count its calls and how
many run at once (the server runs in a thread of this process). bench/login_flood.py measures what this
means for the calls' audio.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

import acd.auth
from acd.api.logins import MAX_WAITING, LoginGuard
from acd.auth import Directory, InvalidCredentials, LoginsBusy
from acd.logins import LoginLimits, MemoryAttempts
from acd.service import AcdService
from tests.acd import builders
from tests.acd.api.conftest import PASSWORD, Running, serving, shared_state, with_users

PER_USER, PER_ADDRESS, CHECKS_AT_ONCE = 3, 6, 2


@dataclass
class Checks:
    """The password checks (scrypt runs) the server made, and the most that ran at once."""

    calls: int = 0
    running: int = 0
    peak: int = 0
    held: threading.Event | None = None  # if given, each check waits for it: checks started together overlap

    def __post_init__(self) -> None:
        self.lock = threading.Lock()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    seen = Checks()
    real: Callable[..., bytes] = acd.auth._scrypt

    def counted(*args: object) -> bytes:
        with seen.lock:
            seen.calls += 1
            seen.running += 1
            seen.peak = max(seen.peak, seen.running)
        try:
            if seen.held is not None:
                seen.held.wait(30)
            return real(*args)
        finally:
            with seen.lock:
                seen.running -= 1

    monkeypatch.setattr(acd.auth, "_scrypt", counted)
    return seen


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest) -> Iterator[Running]:
    """An ACD allowing 3 failures per user and 6 per address in 5 minutes, 2 password checks at once."""
    deployment = builders.deployment(
        hours="00:00-24:00",
        login_failures_per_user=PER_USER,
        login_failures_per_address=PER_ADDRESS,
        login_window=300,
        login_checks_at_once=CHECKS_AT_ONCE,
    )
    with serving(AcdService(with_users(deployment), shared=shared_state(request))) as running:
        yield running


def attempt(server: Running, user: str, password: str = "wrong", address: str = "192.0.2.1") -> httpx.Response:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 (FORWARDED_ALLOW_IPS' default): the attempt's address.
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return client.post(
            "/api/v1/auth/login", json={"user": user, "password": password}, headers={"x-forwarded-for": address}
        )


def attempts_at_once(server: Running, logins: list[tuple[str, str]]) -> list[httpx.Response]:
    """(user, address) pairs tried together with a wrong password."""

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post(
                            "/api/v1/auth/login",
                            json={"user": user, "password": "wrong"},
                            headers={"x-forwarded-for": address},
                        )
                        for user, address in logins
                    )
                )
            )

    return asyncio.run(run())


def assert_refused(answer: httpx.Response, limit: str) -> None:
    assert answer.status_code == 429, answer.text
    body = answer.json()
    assert set(body) == {"error", "message", "details"}
    assert body["error"] == "too-many-attempts" and body["details"]["limit"] == limit
    assert (
        body["message"] == f"too many failed log-ins for this {limit}: try again in {body['details']['retry_after']} s"
    )
    assert answer.headers["retry-after"] == str(body["details"]["retry_after"])
    assert 1 <= body["details"]["retry_after"] <= 300


def test_past_the_users_limit_attempts_are_refused_without_checking_the_password(
    limited: Running, checks: Checks
) -> None:
    for _ in range(PER_USER):
        assert attempt(limited, "ana").status_code == 401
    assert checks.calls == PER_USER
    for _ in range(5):
        assert_refused(attempt(limited, "ana"), "user")
    assert_refused(attempt(limited, "ana", PASSWORD), "user")  # the right password too: nothing is checked
    assert checks.calls == PER_USER
    assert attempt(limited, "bob", PASSWORD).status_code == 200  # another user of the same address


def test_an_unknown_user_is_limited_as_a_known_one(limited: Running, checks: Checks) -> None:
    for _ in range(PER_USER):
        assert attempt(limited, "ghost").status_code == 401
    assert_refused(attempt(limited, "ghost"), "user")
    assert checks.calls == PER_USER


def test_a_success_clears_the_users_failures(limited: Running) -> None:
    for _ in range(PER_USER - 1):
        assert attempt(limited, "ana").status_code == 401
    assert attempt(limited, "ana", PASSWORD).status_code == 200
    for _ in range(PER_USER - 1):
        assert attempt(limited, "ana").status_code == 401
    assert attempt(limited, "ana", PASSWORD).status_code == 200


def test_the_address_limit_counts_every_user_tried_from_it(limited: Running, checks: Checks) -> None:
    for n in range(PER_ADDRESS):
        assert attempt(limited, f"user-{n}", address="203.0.113.7").status_code == 401
    assert_refused(attempt(limited, "someone-else", address="203.0.113.7"), "address")
    assert_refused(attempt(limited, "ana", PASSWORD, address="203.0.113.7"), "address")
    assert checks.calls == PER_ADDRESS
    assert attempt(limited, "ana", PASSWORD, address="203.0.113.8").status_code == 200


def test_the_addresses_of_one_ipv6_64_share_the_address_limit(limited: Running) -> None:
    for n in range(PER_ADDRESS):
        assert attempt(limited, f"user-{n}", address=f"2001:db8:7:7::{n + 1:x}").status_code == 401
    assert_refused(attempt(limited, "someone-else", address="2001:db8:7:7:ffff::9"), "address")
    assert attempt(limited, "ana", PASSWORD, address="2001:db8:7:8::1").status_code == 200  # the next /64


def test_attempts_sent_together_cannot_pass_the_limit(limited: Running, checks: Checks) -> None:
    # Each from its own address: only the user's limit applies. A check's turn reads the count again,
    # so at most the checks already running when the limit was reached go past it.
    answers = attempts_at_once(limited, [("ana", f"198.51.100.{n}") for n in range(12)])
    statuses = sorted(answer.status_code for answer in answers)
    assert checks.calls <= PER_USER + CHECKS_AT_ONCE - 1
    assert statuses == [401] * checks.calls + [429] * (12 - checks.calls)


def guard_of(checks_at_once: int, max_waiting: int = MAX_WAITING) -> tuple[LoginGuard, Directory]:
    """A node's log-in guard, driven directly: what waits for a turn can be seen (`_waiting`)."""
    deployment = with_users(builders.deployment())
    guard = LoginGuard(AcdService(deployment), LoginLimits(5, 20, 300), MemoryAttempts(), checks_at_once, max_waiting)
    return guard, Directory(deployment, agent_queues={})


def test_at_most_k_passwords_are_checked_at_once(checks: Checks) -> None:
    checks.held = release = threading.Event()
    guard, directory = guard_of(CHECKS_AT_ONCE)

    async def scenario() -> None:
        tries = [
            asyncio.create_task(guard.authenticate(directory, f"user-{n}", "wrong", f"198.51.100.{n}"))
            for n in range(10)
        ]
        try:
            # Until every attempt is either checking or waiting for its turn, or more checks run than allowed.
            while checks.running <= CHECKS_AT_ONCE and checks.running + guard._waiting < 10:
                await asyncio.sleep(0.01)
            assert (checks.peak, guard._waiting) == (CHECKS_AT_ONCE, 10 - CHECKS_AT_ONCE)
        finally:
            release.set()
        for each in tries:
            with pytest.raises(InvalidCredentials):
                await each
        assert (checks.calls, checks.peak) == (10, CHECKS_AT_ONCE)

    asyncio.run(scenario())


def test_failures_and_one_refusal_per_window_are_in_the_event_log(limited: Running) -> None:
    for _ in range(PER_USER):
        attempt(limited, "ana", address="192.0.2.9")
    for _ in range(4):
        assert_refused(attempt(limited, "ana", address="192.0.2.9"), "user")
    admin = limited.client("admin")
    failed = admin.get("/api/v1/events", params={"kind": "login_failed"}).json()
    assert [(e["data"], e["reason"]) for e in failed] == [({"user": "ana", "address": "192.0.2.9"}, None)] * PER_USER
    refused = admin.get("/api/v1/events", params={"kind": "login_refused"}).json()
    assert [(e["data"], e["reason"]) for e in refused] == [({"user": "ana", "address": "192.0.2.9"}, "user")]
    # The operators' view: an agent or a supervisor sees none of it.
    for user in ("bob", "sup-lons"):
        seen = limited.client(user).get("/api/v1/events", params={"kind": ["login_failed", "login_refused"]})
        assert seen.json() == []


def test_a_node_lets_only_so_many_log_ins_wait_for_their_check(checks: Checks) -> None:
    checks.held = release = threading.Event()
    guard, directory = guard_of(checks_at_once=1, max_waiting=1)

    async def scenario() -> None:
        first = asyncio.create_task(guard.authenticate(directory, "ana", "wrong", "192.0.2.1"))
        second = asyncio.create_task(guard.authenticate(directory, "bob", "wrong", "192.0.2.2"))
        while guard._waiting < 1:  # the second waits for the first's check
            await asyncio.sleep(0.01)
        with pytest.raises(LoginsBusy) as busy:
            await guard.authenticate(directory, "admin", PASSWORD, "192.0.2.3")
        assert (busy.value.status_code, busy.value.error_id, busy.value.details) == (
            503,
            "logins-busy",
            {"retry_after": 1},
        )
        release.set()
        for waiting in (first, second):
            with pytest.raises(InvalidCredentials):
                await waiting
        assert (await guard.authenticate(directory, "admin", PASSWORD, "192.0.2.3")).user_id == "admin"

    asyncio.run(scenario())


def test_a_client_gone_mid_check_keeps_its_turn_until_the_check_ends(checks: Checks) -> None:
    checks.held = release = threading.Event()
    guard, directory = guard_of(checks_at_once=1)

    async def scenario() -> None:
        gone = asyncio.create_task(guard.authenticate(directory, "ana", "wrong", "192.0.2.1"))
        while checks.calls < 1:
            await asyncio.sleep(0.01)
        gone.cancel()  # the client hung up; its scrypt goes on in its thread
        with pytest.raises(asyncio.CancelledError):
            await gone
        following = asyncio.create_task(guard.authenticate(directory, "admin", PASSWORD, "192.0.2.3"))
        while guard._waiting < 1:
            await asyncio.sleep(0.01)
        assert checks.calls == 1  # no second scrypt beside the one still running
        release.set()
        assert (await following).user_id == "admin" and checks.calls == 2

    asyncio.run(scenario())

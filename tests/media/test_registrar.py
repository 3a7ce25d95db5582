"""Digest authentication and the registrar, as a phone meets them: aiosipua's client side answers the
challenges (another implementation than the one checking them), RFC 7616's worked example checks the
arithmetic."""

from __future__ import annotations

import pytest
from aiosipua import SipDigestAuth, build_credentials, parse_auth, stringify_auth

from media.sip.checks import Request, check
from media.sip.digest import Credentials, Nonces, expected_response, ha1, parse_credentials
from media.sip.registrar import MAX_EXPIRES, MIN_EXPIRES, Account, Registrar

REALM = "acd.demo"
PASSWORD = "phone-demo"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


def account(user: str, agent: str) -> Account:
    return Account(agent, {algorithm: ha1(algorithm, user, REALM, PASSWORD) for algorithm in ("MD5", "SHA-256")})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registrar(clock: Clock) -> Registrar:
    return Registrar(REALM, {"ana": account("ana", "ana"), "bob": account("bob", "bob")}, Nonces(b"k" * 32), clock)


def register(user: str, contact: str = "<sip:ana@192.0.2.7:5062>", *, to: str | None = None, expires: str | None = None,
             authorization: str | None = None, cseq: int = 1) -> Request:  # fmt: skip
    lines = [
        f"REGISTER sip:{REALM} SIP/2.0", "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKreg",
        f"To: <sip:{to or user}@{REALM}>", f"From: <sip:{user}@{REALM}>;tag=1", "Call-ID: reg-1",
        f"CSeq: {cseq} REGISTER", "Max-Forwards: 70", f"Contact: {contact}",
    ]  # fmt: skip
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    verdict = check(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())
    assert isinstance(verdict, Request), verdict
    return verdict


def answered(
    registrar: Registrar, user: str, password: str = PASSWORD, algorithm: str = "SHA-256", **fields: object
) -> object:
    """REGISTER, take the challenge of `algorithm`, answer it as aiosipua's UAC does, REGISTER again."""
    challenge = registrar.register(register(user, **fields), "udp", ("192.0.2.7", 5062))  # type: ignore[arg-type]
    assert challenge.status == 401
    offered = [parse_auth(value) for name, value in challenge.headers if name == "www-authenticate"]
    assert [c.params["algorithm"] for c in offered] == ["SHA-256", "MD5"]
    chosen = next(c for c in offered if c.params["algorithm"] == algorithm)
    credentials = build_credentials(SipDigestAuth(user, password), chosen, "REGISTER", f"sip:{REALM}")
    assert credentials is not None
    request = register(user, authorization=stringify_auth(credentials), **fields)  # type: ignore[arg-type]
    return registrar.register(request, "udp", ("192.0.2.7", 5062))


def test_the_arithmetic_is_rfc_7616s_worked_example() -> None:
    params = {
        "username": "Mufasa", "realm": "http-auth@example.org", "uri": "/dir/index.html", "qop": "auth",
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "nc": "00000001",
        "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    }  # fmt: skip
    expected = {"MD5": "8ca523f5e9506fed4657c9700eebdbec",
                "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"}  # fmt: skip
    for algorithm, response in expected.items():
        secret = ha1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life")
        assert expected_response(Credentials({**params, "algorithm": algorithm}), "GET", secret) == response


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_a_phone_registers_after_the_challenge(registrar: Registrar, clock: Clock, algorithm: str) -> None:
    outcome = answered(registrar, "ana", algorithm=algorithm, expires="600")
    assert outcome.status == 200  # type: ignore[attr-defined]
    assert outcome.headers == (("contact", "<sip:ana@192.0.2.7:5062>;expires=600"),)  # type: ignore[attr-defined]
    (binding,) = registrar.bindings("ana")
    assert (binding.contact, binding.source, binding.transport) == (
        "sip:ana@192.0.2.7:5062",
        ("192.0.2.7", 5062),
        "udp",
    )
    clock.now += 599
    assert registrar.bindings("ana") and registrar.registered() == {"ana"}
    clock.now += 1
    assert registrar.bindings("ana") == []  # lapsed: no phone to ring
    assert registrar.registered() == set()  # what the switchboard tells the core (PhoneChanged)


def test_a_wrong_password_is_asked_again_and_binds_nothing(registrar: Registrar) -> None:
    assert answered(registrar, "ana", password="guess").status == 401  # type: ignore[attr-defined]
    assert registrar.bindings("ana") == []


def test_an_unknown_user_or_another_users_address_is_forbidden(registrar: Registrar) -> None:
    assert answered(registrar, "ana", to="bob").status == 403  # type: ignore[attr-defined]
    unknown = Registrar(REALM, {"zoe": account("eve", "zoe")}, Nonces(b"k" * 32), Clock())
    assert answered(unknown, "eve").status == 403  # type: ignore[attr-defined]
    assert registrar.bindings("bob") == []


def test_a_nonce_this_server_did_not_issue_or_an_old_one_is_challenged_again(
    registrar: Registrar, clock: Clock
) -> None:
    forged = 'Digest username="ana", realm="acd.demo", nonce="bm9wZQ", uri="sip:acd.demo", response="00"'
    outcome = registrar.register(register("ana", authorization=forged), "udp", ("192.0.2.7", 5062))
    assert outcome.status == 401 and "stale" not in str(outcome.headers)
    challenge = registrar.register(register("ana"), "udp", ("192.0.2.7", 5062))
    offered = parse_auth(challenge.headers[0][1])
    clock.now += 301
    credentials = build_credentials(SipDigestAuth("ana", PASSWORD), offered, "REGISTER", f"sip:{REALM}")
    assert credentials is not None
    late = registrar.register(register("ana", authorization=stringify_auth(credentials)), "udp", ("192.0.2.7", 5062))
    assert late.status == 401 and all("stale=true" in value for _, value in late.headers)
    assert registrar.bindings("ana") == []


def test_expiry_bounds_removal_and_the_wildcard(registrar: Registrar) -> None:
    too_brief = answered(registrar, "ana", expires=str(MIN_EXPIRES - 1))
    assert too_brief.status == 423 and too_brief.headers == (("min-expires", str(MIN_EXPIRES)),)  # type: ignore[attr-defined]
    long = answered(registrar, "ana", contact="<sip:ana@192.0.2.7:5062>;expires=99999")
    assert long.headers == (("contact", f"<sip:ana@192.0.2.7:5062>;expires={MAX_EXPIRES}"),)  # type: ignore[attr-defined]
    answered(registrar, "ana", contact="<sip:ana@198.51.100.1>", expires="120")
    assert len(registrar.bindings("ana")) == 2
    assert answered(registrar, "ana", contact="<sip:ana@198.51.100.1>", expires="0").status == 200  # type: ignore[attr-defined]
    assert [b.contact for b in registrar.bindings("ana")] == ["sip:ana@192.0.2.7:5062"]
    mixed = answered(registrar, "ana", contact="*\r\nContact: <sip:ana@198.51.100.9>", expires="0")  # two headers
    assert mixed.status == 400 and len(registrar.bindings("ana")) == 1  # type: ignore[attr-defined]
    assert answered(registrar, "ana", contact="*", expires="0").status == 200  # type: ignore[attr-defined]
    assert registrar.bindings("ana") == []


def test_credentials_of_another_scheme_or_malformed_are_not_digest() -> None:
    assert parse_credentials("NoOneKnowsThisScheme opaque-data=here") is None
    assert parse_credentials('Digest username="a", realm') is None
    parsed = parse_credentials('Digest username="a\\"b", realm="r", nc=00000001, qop=auth')
    assert parsed is not None and parsed.params == {"username": 'a"b', "realm": "r", "nc": "00000001", "qop": "auth"}


def test_only_the_configured_algorithms_are_offered_and_taken(clock: Clock) -> None:
    md5_only = Registrar(REALM, {"ana": account("ana", "ana")}, Nonces(b"k" * 32), clock, ("MD5",))
    challenge = md5_only.register(register("ana"), "udp", ("192.0.2.7", 5062))
    assert [parse_auth(value).params["algorithm"] for _, value in challenge.headers] == ["MD5"]
    offered = parse_auth(challenge.headers[0][1])
    sha = build_credentials(SipDigestAuth("ana", PASSWORD), offered, "REGISTER", f"sip:{REALM}")
    assert sha is not None
    sha.params["algorithm"] = "SHA-256"  # a phone answering with an algorithm it was not offered
    sha.params["response"] = (
        expected_response(Credentials(dict(sha.params)), "REGISTER", ha1("SHA-256", "ana", REALM, PASSWORD)) or ""
    )
    refused = md5_only.register(register("ana", authorization=stringify_auth(sha)), "udp", ("192.0.2.7", 5062))
    assert refused.status == 401 and md5_only.bindings("ana") == []


def test_each_account_is_challenged_with_its_own_algorithms(clock: Clock) -> None:
    # A centre mixing phones: ana's is MD5-only (baresip 1.0, many desk phones), bob's takes both.
    ana = Account("ana", account("ana", "ana").ha1, ("MD5",))
    mixed = Registrar(REALM, {"ana": ana, "bob": account("bob", "bob")}, Nonces(b"k" * 32), clock)

    def offered(user: str) -> list[str]:
        challenge = mixed.register(register(user), "udp", ("192.0.2.7", 5062))
        return [parse_auth(value).params["algorithm"] for _, value in challenge.headers]

    assert offered("ana") == ["MD5"]
    assert offered("bob") == ["SHA-256", "MD5"]
    assert offered("nobody") == ["SHA-256", "MD5"]  # an unknown user: the registrar's own
    challenge = mixed.register(register("ana"), "udp", ("192.0.2.7", 5062))
    offered_md5 = parse_auth(challenge.headers[0][1])
    sha = build_credentials(SipDigestAuth("ana", PASSWORD), offered_md5, "REGISTER", f"sip:{REALM}")
    assert sha is not None
    sha.params["algorithm"] = "SHA-256"  # right for the password, but not what ana's phone is challenged with
    sha.params["response"] = (
        expected_response(Credentials(dict(sha.params)), "REGISTER", ha1("SHA-256", "ana", REALM, PASSWORD)) or ""
    )
    refused = mixed.register(register("ana", authorization=stringify_auth(sha)), "udp", ("192.0.2.7", 5062))
    assert refused.status == 401 and [parse_auth(v).params["algorithm"] for _, v in refused.headers] == ["MD5"]
    md5 = build_credentials(SipDigestAuth("ana", PASSWORD), offered_md5, "REGISTER", f"sip:{REALM}")
    assert md5 is not None
    assert mixed.register(register("ana", authorization=stringify_auth(md5)), "udp", ("192.0.2.7", 5062)).status == 200
    assert answered(mixed, "bob").status == 200  # type: ignore[attr-defined]

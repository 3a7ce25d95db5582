"""The registrar: where each agent's softphone can be reached, for as long as it says (RFC 3261 §10).

A phone registers its Contact under its account's user after digest authentication; a binding lives
until its expiry (between `MIN_EXPIRES` and `MAX_EXPIRES` seconds, the phone refreshing it before)
and an agent with no live binding has no phone to ring. Each account is challenged with its own digest
algorithms (the registrar's by default): a REGISTER without credentials for the account its To names
(RFC 3261 §10.2), an unknown user with the registrar's, which tells a prober that a user whose phone is
challenged otherwise exists. Pure: the clock is given (its wall time).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from acd.clock import SYSTEM_CLOCK, Clock
from media.sip.checks import Request, split_unquoted
from media.sip.digest import NONCE_LIFETIME, Nonces, challenges, expected_response, parse_credentials
from media.sip.reasons import reason

MIN_EXPIRES = 60
MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600
Headers = tuple[tuple[str, str], ...]
_USER = re.compile(r"\bsips?:([^@;>]+)@", re.IGNORECASE)
_EXPIRES_PARAM = re.compile(r";\s*expires\s*=\s*([0-9]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Account:
    agent: str
    ha1: Mapping[str, str]  # algorithm -> H(user:realm:password)
    #: What its REGISTER is challenged with, the preferred first (empty: the registrar's algorithms). A
    #: phone that fails on a challenge it cannot take (baresip 1.0 on SHA-256) is offered only what it can.
    algorithms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Binding:
    contact: str  # the Contact URI as the phone gave it
    expires_at: float
    source: tuple[str, int]  # where its REGISTER came from: behind NAT, where to reach it
    transport: str


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    reason: str
    headers: Headers = ()


class Registrar:
    def __init__(
        self,
        realm: str,
        accounts: Mapping[str, Account],
        nonces: Nonces,
        clock: Clock = SYSTEM_CLOCK,
        algorithms: Sequence[str] = ("SHA-256", "MD5"),
    ) -> None:
        self.realm = realm
        # Offered to an account that names none, and to unknown users; credentials of another are refused.
        self.algorithms = tuple(algorithms)
        self.accounts = accounts  # SIP user -> account
        self.nonces = nonces
        self.clock = clock
        self._bindings: dict[str, dict[str, Binding]] = {}  # agent -> contact -> binding

    def bindings(self, agent: str) -> list[Binding]:
        """The agent's live bindings, the most recent expiry first."""
        now = self.clock.time()
        live = {c: b for c, b in self._bindings.get(agent, {}).items() if b.expires_at > now}
        if live:
            self._bindings[agent] = live
        else:
            self._bindings.pop(agent, None)
        return sorted(live.values(), key=lambda b: -b.expires_at)

    def registered(self) -> set[str]:
        """The agents with at least one live binding: the phones that can be rung now."""
        return {agent for agent in list(self._bindings) if self.bindings(agent)}

    def register(self, request: Request, transport: str, source: tuple[str, int]) -> Outcome:
        now = self.clock.time()
        user, account, refusal = self._authenticate(request, now)
        if account is None:
            return refusal
        if _user(request.first("to") or "") != user:
            return Outcome(403, reason(403, "an account registers its own address only"))
        contacts = [value.strip() for name, value in request.headers if name == "contact"]
        header_expires = request.first("expires")
        if "*" in contacts and len(contacts) > 1:
            return Outcome(400, reason(400, "Contact: * comes alone"))
        if contacts == ["*"]:
            if header_expires != "0":
                return Outcome(400, reason(400, "Contact: * needs Expires: 0"))
            self._bindings.pop(account.agent, None)
            return Outcome(200, reason(200))
        wanted = []
        for contact in (c.strip() for value in contacts for c in split_unquoted(value, ",")):
            match = _EXPIRES_PARAM.search(contact.rpartition(">")[2] if ">" in contact else contact)
            seconds = int(match.group(1)) if match else int(header_expires or DEFAULT_EXPIRES)
            if 0 < seconds < MIN_EXPIRES:
                return Outcome(423, reason(423), (("min-expires", str(MIN_EXPIRES)),))
            wanted.append((_uri(contact), min(seconds, MAX_EXPIRES)))
        bindings = {c: b for c, b in self._bindings.get(account.agent, {}).items() if b.expires_at > now}
        for uri, seconds in wanted:
            if seconds == 0:
                bindings.pop(uri, None)
            else:
                bindings[uri] = Binding(uri, now + seconds, source, transport)
        if bindings:
            self._bindings[account.agent] = bindings
        else:
            self._bindings.pop(account.agent, None)
        listed = tuple(("contact", f"<{b.contact}>;expires={int(b.expires_at - now)}") for b in bindings.values())
        return Outcome(200, reason(200), listed)

    def _authenticate(self, request: Request, now: float) -> tuple[str, Account | None, Outcome]:
        """The authenticated user and account, or no account and the answer to give."""
        value = request.first("authorization")
        credentials = parse_credentials(value) if value else None
        # Before any credentials, the account is the one whose address registers (its To, RFC 3261 §10.2).
        user = credentials.username if credentials is not None else _user(request.first("to") or "") or ""
        account = self.accounts.get(user)
        algorithms = (account.algorithms if account is not None else ()) or self.algorithms
        challenge = Outcome(401, reason(401), challenges(self.realm, self.nonces.issue(now), algorithms))
        if credentials is None or credentials.params.get("realm") != self.realm:
            return "", None, challenge
        age = self.nonces.age(credentials.params.get("nonce", ""), now)
        if age is None:
            return "", None, challenge
        if age > NONCE_LIFETIME:
            stale = challenges(self.realm, self.nonces.issue(now), algorithms, stale=True)
            return "", None, Outcome(401, reason(401), stale)
        if account is None:
            return "", None, Outcome(403, reason(403))
        ha1 = account.ha1.get(credentials.algorithm) if credentials.algorithm in algorithms else None
        expected = expected_response(credentials, request.method, ha1) if ha1 else None
        given = credentials.params.get("response", "")
        if expected is None or not hmac.compare_digest(expected, given.lower()):
            return "", None, challenge  # a wrong password: asked again, as phones expect
        return credentials.username, account, challenge


def _user(address: str) -> str | None:
    match = _USER.search(address)
    return match.group(1) if match else None


def _uri(contact: str) -> str:
    if "<" in contact:
        return contact.partition("<")[2].partition(">")[0].strip()
    return contact.split(";", 1)[0].strip()

"""Users, roles and bearer tokens. Pure: no I/O, the time is passed in.

Passwords are kept only as scrypt hashes, `scrypt$n$r$p$salt$hash` (base64), and tokens only as their
SHA-256, so that neither the configuration nor a memory dump gives a usable secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from acd.deployment.models import Deployment, Role

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
MAX_N = 2**20


class AuthError(Exception):
    status_code = 401
    error_id = "auth-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCredentials(AuthError):
    error_id = "invalid-credentials"


class InvalidToken(AuthError):
    error_id = "invalid-token"


class Forbidden(AuthError):
    status_code = 403
    error_id = "forbidden"


class BadPasswordHash(AuthError):
    status_code = 500
    error_id = "bad-password-hash"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN, maxmem=2**26
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise BadPasswordHash("password hash is not of the form scrypt$n$r$p$salt$hash")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise BadPasswordHash("password hash has a bad number or base64 field") from exc
    if n < 2 or n & (n - 1) or n > MAX_N or not 1 <= r <= 32 or not 1 <= p <= 16 or not expected:
        raise BadPasswordHash("password hash has scrypt parameters out of range")
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**28)
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    name: str
    role: Role
    agent_id: str | None
    teams: frozenset[str]


class Directory:
    """Who may log in, and what each role may do."""

    def __init__(self, deployment: Deployment, *, agent_queues: Mapping[str, frozenset[str]]) -> None:
        self._users = {user.id: user for user in deployment.users}
        self._agent_team = {agent.id: agent.team for agent in deployment.agents}
        self._led: dict[str, set[str]] = {t.supervisor: set() for t in deployment.teams if t.supervisor}
        for team in deployment.teams:
            if team.supervisor:
                self._led[team.supervisor].add(team.id)
        self._agent_queues = agent_queues

    def authenticate(self, user_id: str, password: str) -> Principal:
        user = self._users.get(user_id)
        # Same answer for an unknown user and a wrong password: the response reveals neither.
        if user is None or not verify_password(password, user.password_hash):
            raise InvalidCredentials("unknown user or wrong password")
        teams = frozenset(user.teams) | frozenset(self._led.get(user.id, ()))
        return Principal(user.id, user.name, user.role, user.agent, teams)

    def team_of_agent(self, agent_id: str) -> str | None:
        return self._agent_team.get(agent_id)

    def may_act_on_agent(self, principal: Principal, agent_id: str) -> bool:
        if principal.role is Role.ADMIN:
            return True
        if principal.role is Role.AGENT:
            return principal.agent_id == agent_id
        return self._agent_team.get(agent_id) in principal.teams

    def may_see_queue(self, principal: Principal, queue_id: str) -> bool:
        if principal.role is not Role.AGENT:
            return True  # a supervisor watches the live queues of the whole centre
        return queue_id in self._agent_queues.get(principal.agent_id or "", frozenset())

    def may_manage_tasks(self, principal: Principal) -> bool:
        return principal.role in (Role.ADMIN, Role.SUPERVISOR)

    def require(self, condition: bool, what: str) -> None:
        if not condition:
            raise Forbidden(f"not allowed: {what}")


class TokenStore:
    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self._tokens: dict[str, tuple[Principal, float]] = {}

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def issue(self, principal: Principal, now: float) -> tuple[str, float]:
        self.purge(now)
        token = secrets.token_urlsafe(32)
        expires = now + self.lifetime
        self._tokens[self._digest(token)] = (principal, expires)
        return token, expires

    def resolve(self, token: str, now: float) -> Principal:
        key = self._digest(token)
        found = self._tokens.get(key)
        if found is None:
            raise InvalidToken("unknown or expired token")
        if found[1] <= now:
            del self._tokens[key]
            raise InvalidToken("unknown or expired token")
        return found[0]

    def revoke(self, token: str) -> None:
        self._tokens.pop(self._digest(token), None)

    def purge(self, now: float) -> None:
        for key in [k for k, (_, expires) in self._tokens.items() if expires <= now]:
            del self._tokens[key]

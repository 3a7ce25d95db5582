"""Users, roles and bearer tokens. Pure: no I/O, and the time is passed in.

Passwords are kept only as scrypt hashes, `scrypt$n$r$p$salt$hash` (standard base64), and tokens only as
their SHA-256, so that neither the configuration nor a memory dump gives a usable secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from acd.deployment.models import Deployment, Role, UserConfig

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN, SALT_LEN = 2**14, 8, 1, 32, 16
MAX_N = 2**20
#: n*r*p bounds both the work and the memory (128*n*r bytes): 2**23 is n=2**20 with r=8, p=1, 1 GiB.
MAX_COST = 2**23
_NUMBER = re.compile(r"[0-9]{1,8}")
#: The hash of a random password nobody knows: checked for an unknown user so that answering takes as long
#: as for a known one, and the time does not tell which user ids exist.
_DUMMY_HASH = "scrypt$16384$8$1$1+lVQIHAozD5hnjwXiQSNg==$AGbUyteHG6m487huj+49nQzzCZ1hlTX+L3SmYttHNJk="


class AuthError(Exception):
    """Root of the authentication errors; each carries the HTTP status and the id the API renders."""

    status_code: ClassVar[int] = 401
    error_id: ClassVar[str] = "auth-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidCredentials(AuthError):
    error_id = "invalid-credentials"


class InvalidToken(AuthError):
    """The bearer token is unknown, revoked or expired."""

    error_id = "invalid-token"


class TooManyAttempts(AuthError):
    """Too many failed log-ins for this user or from this address: refused before any password is checked.

    Details: `retry_after` (seconds, also the Retry-After header) and `limit` (user or address)."""

    status_code = 429
    error_id = "too-many-attempts"


class LoginsBusy(AuthError):
    """More log-ins wait for their password check than a node queues: try again (`retry_after` seconds)."""

    status_code = 503
    error_id = "logins-busy"


class Forbidden(AuthError):
    status_code = 403
    error_id = "forbidden"


class BadPasswordHash(AuthError, ValueError):
    """A stored password hash is malformed: a fault of the configuration, hence 500.

    Also a ValueError, so that a pydantic validator calling `verify_password` reports it as a field error.
    """

    status_code = 500
    error_id = "bad-password-hash"


def _encode(password: str) -> bytes:
    # surrogatepass: a lone surrogate (a JSON "\udc80", a non-UTF-8 byte read on stdin) hashes the same way
    # everywhere instead of failing; valid UTF-8 text encodes exactly as with the strict codec.
    return password.encode("utf-8", "surrogatepass")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _number(name: str, text: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise BadPasswordHash(f"password hash field {name} is not a decimal number of at most 8 digits")
    return int(text)


def _bytes(name: str, text: str, low: int, high: int) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII text
        raise BadPasswordHash(f"password hash field {name} is not valid base64") from exc
    if not low <= len(data) <= high:
        raise BadPasswordHash(f"password hash field {name} is {len(data)} bytes, expected {low} to {high}")
    return data


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL needs 128*r*(n+p+2) bytes; a margin on top, so that the limit never refuses a valid hash.
    maxmem = 128 * r * (n + p + 2) + 2**20
    try:
        return hashlib.scrypt(_encode(password), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)
    except ValueError as exc:  # a limit of OpenSSL's not checked above
        raise BadPasswordHash(f"password hash parameters refused by scrypt: {exc}") from exc


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The `scrypt$n$r$p$salt$hash` string kept in users.yaml; a random 16-byte salt unless one is given."""
    salt = secrets.token_bytes(SALT_LEN) if salt is None else salt
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches `encoded`; BadPasswordHash, naming the fault, if `encoded` is malformed."""
    if not encoded.startswith("scrypt$"):
        raise BadPasswordHash("password hash does not start with 'scrypt$'")
    fields = encoded.split("$")
    if len(fields) != 6:
        raise BadPasswordHash(f"password hash has {len(fields)} '$'-separated fields, expected 6")
    n, r, p = (_number(name, text) for name, text in zip("nrp", fields[1:4]))
    if n < 2 or n & (n - 1):
        raise BadPasswordHash(f"password hash n={n} is not a power of two")
    if n > MAX_N:
        raise BadPasswordHash(f"password hash n={n} is above the limit {MAX_N}")
    if r < 1 or p < 1:
        raise BadPasswordHash(f"password hash r={r} and p={p} must both be at least 1")
    if n.bit_length() > 16 * r:  # n is a power of two: n >= 2**(16*r), without building 2**(16*r)
        raise BadPasswordHash(f"password hash n={n} is not below 2**(16*r) for r={r} (RFC 7914 §2)")
    if n * r * p > MAX_COST:
        raise BadPasswordHash(f"password hash cost n*r*p={n * r * p} is above the limit {MAX_COST}")
    salt = _bytes("salt", fields[4], 8, 64)
    # At least 16 bytes: an empty expected hash would otherwise compare equal to an empty digest.
    expected = _bytes("hash", fields[5], 16, 64)
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(expected)), expected)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, its role, its agent (role agent only) and the teams it leads."""

    user_id: str
    name: str
    role: Role
    agent_id: str | None
    teams: frozenset[str]

    def __post_init__(self) -> None:
        if (self.role is Role.AGENT) != (self.agent_id is not None):
            raise ValueError(f"principal {self.user_id!r}: an agent_id is given for role agent, and only for it")


@dataclass(frozen=True, slots=True)
class Session:
    """What a session keeps of its user: the id, and a fingerprint of the password hash it logged in with,
    so that each use rebuilds the principal from the users as configured now, and a password changed since
    ends the session."""

    user_id: str
    fingerprint: str


def password_fingerprint(password_hash: str) -> str:
    """A short digest of a password hash: tells a changed hash from the same one, and nothing else (the
    hash, its salt included, cannot be had from it, so a stored session gives no way to guess passwords)."""
    return hashlib.sha256(b"acd session\0" + _encode(password_hash)).hexdigest()[:32]


class Directory:
    """Who may log in, and what each role may do.

    `agent_queues` maps an agent to the queues it serves; it is kept, not copied, so a live mapping may be
    given.
    """

    def __init__(self, deployment: Deployment, *, agent_queues: Mapping[str, frozenset[str]]) -> None:
        self._users = {user.id: user for user in deployment.users}
        self._agent_team = {agent.id: agent.team for agent in deployment.agents}
        self._teams = {user.id: frozenset(user.teams) for user in deployment.users}
        for team in deployment.teams:
            if team.supervisor in self._teams:
                self._teams[team.supervisor] |= {team.id}
        self._agent_queues = agent_queues

    def authenticate(self, user_id: str, password: str) -> Principal:
        """The principal of `user_id` if `password` is its password; InvalidCredentials otherwise."""
        user = self._users.get(user_id)
        matches = verify_password(password, _DUMMY_HASH if user is None else user.password_hash)
        if user is None or not matches:
            # One answer for an unknown user and a wrong password: the response reveals neither.
            raise InvalidCredentials("unknown user or wrong password")
        return self._principal(user)

    def session(self, principal: Principal) -> Session:
        """What a session of `principal` (just authenticated) keeps."""
        return Session(principal.user_id, password_fingerprint(self._users[principal.user_id].password_hash))

    def principal(self, session: Session) -> Principal:
        """The principal of `session` as the users are configured now (its role, agent and teams may have
        changed since the log-in); InvalidToken if its user is gone or its password changed."""
        user = self._users.get(session.user_id)
        if user is None:
            raise InvalidToken("the session's user no longer exists")
        if not hmac.compare_digest(password_fingerprint(user.password_hash), session.fingerprint):
            raise InvalidToken("the session's user changed its password")
        return self._principal(user)

    def _principal(self, user: UserConfig) -> Principal:
        return Principal(user.id, user.name, user.role, user.agent, self._teams[user.id])

    def may_act_on_agent(self, principal: Principal, agent_id: str) -> bool:
        """Admin: any agent; agent: itself; supervisor: the agents of the teams it leads."""
        if principal.role is Role.ADMIN:
            return True
        if principal.role is Role.AGENT:
            return principal.agent_id == agent_id
        return self._agent_team.get(agent_id) in principal.teams

    def may_see_queue(self, principal: Principal, queue_id: str) -> bool:
        """Admin and supervisors: every queue (a supervisor watches the whole centre); agents: those they serve."""
        if principal.role is not Role.AGENT:
            return True
        assert principal.agent_id is not None  # Principal's invariant
        return queue_id in self._agent_queues.get(principal.agent_id, frozenset())

    def may_manage_tasks(self, principal: Principal) -> bool:
        """Create and cancel tasks through the API."""
        return principal.role in (Role.ADMIN, Role.SUPERVISOR)

    def require(self, condition: bool, what: str) -> None:
        if not condition:
            raise Forbidden(f"not allowed: {what}")


def new_token() -> str:
    """A bearer token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_key(token: str) -> bytes:
    """What a token is kept as. A fast hash suffices: tokens carry 256 random bits, nothing to guess."""
    return hashlib.sha256(_encode(token)).digest()


def session_record(session: Session, expires: float) -> str:
    """A session as a shared store keeps it (JSON): its user, the password's fingerprint, its expiry."""
    return json.dumps([session.user_id, session.fingerprint, expires])


def read_session_record(text: str) -> tuple[Session, float]:
    """The session and expiry `session_record` wrote; ValueError if `text` is not one."""
    try:
        user_id, fingerprint, expires = json.loads(text)
    except (TypeError, ValueError) as exc:  # JSONDecodeError is a ValueError; so is a list of another length
        raise ValueError(f"not a session record: {exc}") from exc
    if not isinstance(user_id, str) or not isinstance(fingerprint, str):
        raise ValueError("not a session record: its user or fingerprint is not a string")
    if not isinstance(expires, (int, float)) or isinstance(expires, bool):
        raise ValueError("not a session record: its expiry is not a number")
    return Session(user_id, fingerprint), float(expires)


Held = TypeVar("Held")


class TokenStore(Generic[Held]):
    """Bearer tokens and what they stand for (a session), until `lifetime` seconds after issue (one node)."""

    def __init__(self, lifetime: float) -> None:
        if not lifetime > 0:
            raise ValueError(f"token lifetime must be positive, not {lifetime}")
        self.lifetime = lifetime
        # SHA-256 of the token -> (what it stands for, expiry).
        self._tokens: dict[bytes, tuple[Held, float]] = {}

    def __len__(self) -> int:
        return len(self._tokens)

    def issue(self, held: Held, now: float) -> tuple[str, float]:
        """A new token for `held` and its expiry; expired tokens are dropped on the way."""
        self.purge(now)
        token = new_token()
        expires = now + self.lifetime
        self._tokens[token_key(token)] = (held, expires)
        return token, expires

    def resolve(self, token: str, now: float) -> Held:
        key = token_key(token)
        found = self._tokens.get(key)
        if found is not None and found[1] <= now:
            del self._tokens[key]
            found = None
        if found is None:
            raise InvalidToken("unknown or expired token")
        return found[0]

    def revoke(self, token: str) -> None:
        self._tokens.pop(token_key(token), None)

    def purge(self, now: float) -> None:
        for key in [key for key, (_, expires) in self._tokens.items() if expires <= now]:
            del self._tokens[key]

"""Where a node keeps the API's sessions: the `SessionStore` protocol and its one-node implementation.

With a shared store (`acd serve --store redis://…`) the sessions live there instead
(acd/redisstore/sessions.py), so that a token issued by one node works on every node, a log-out on one
ends it on all, and a node's restart logs nobody out.

A session keeps its user's id and a fingerprint of the password hash, not the principal: each use rebuilds
the principal from the users the node runs with (its `Directory`), so that a user removed, or whose
password changed, is logged out at the nodes' restart, and a changed role, agent or teams applies at once.
"""

from __future__ import annotations

from typing import Protocol

from acd.auth import Directory, Principal, Session, TokenStore


class SessionStore(Protocol):
    """Bearer tokens and who they stand for. `resolve` raises InvalidToken for an unknown, revoked or
    expired token, or one whose user is gone or changed its password; a store that cannot be reached
    raises StoreUnavailable (503), never InvalidToken."""

    lifetime: float

    async def issue(self, principal: Principal, now: float) -> tuple[str, float]:
        """A new token for `principal`, and when it expires."""
        ...

    async def resolve(self, token: str, now: float) -> Principal: ...

    async def revoke(self, token: str) -> None: ...


class MemorySessions:
    """One node's sessions: the pure `TokenStore` behind the async protocol."""

    def __init__(self, directory: Directory, lifetime: float) -> None:
        self.directory = directory
        self.tokens: TokenStore[Session] = TokenStore(lifetime)
        self.lifetime = lifetime

    async def issue(self, principal: Principal, now: float) -> tuple[str, float]:
        return self.tokens.issue(self.directory.session(principal), now)

    async def resolve(self, token: str, now: float) -> Principal:
        return self.directory.principal(self.tokens.resolve(token, now))

    async def revoke(self, token: str) -> None:
        self.tokens.revoke(token)

"""What every route needs: the running service, and who is calling (from the bearer token).

Every route and dependency is a coroutine: the service, the sessions and the log-in counts are used from the
event loop's thread only, never from FastAPI's thread pool, so they need no locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from acd.api.logins import LoginGuard
from acd.auth import Directory, InvalidToken, Principal
from acd.logins import AttemptStore, LoginLimits, MemoryAttempts
from acd.service import AcdService
from acd.sessions import MemorySessions, SessionStore


@dataclass(frozen=True, slots=True)
class Context:
    service: AcdService
    directory: Directory
    tokens: SessionStore
    logins: LoginGuard

    @classmethod
    def build(cls, service: AcdService, directory: Directory) -> Context:
        """Sessions and log-in counts where the state is: in this node's memory, or shared by every node."""
        settings = service.deployment.settings
        tokens: SessionStore
        attempts: AttemptStore
        if service.engine is None:
            tokens, attempts = MemorySessions(directory, settings.token_lifetime), MemoryAttempts()
        else:
            from acd.redisstore.sessions import RedisAttempts, RedisSessions

            shared = service.engine.shared
            tokens, attempts = RedisSessions(shared, directory, settings.token_lifetime), RedisAttempts(shared)
        limits = LoginLimits(
            settings.login_failures_per_user, settings.login_failures_per_address, settings.login_window
        )
        return cls(service, directory, tokens, LoginGuard(service, limits, attempts, settings.login_checks_at_once))


async def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    if request.method == "GET":
        # A read answers with what every node has committed so far (a write checks that by itself).
        await ctx.service.catch_up()
    return ctx


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("missing bearer token")
    return token.strip()


async def principal(request: Request, ctx: Annotated[Context, Depends(context)]) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    return await ctx.tokens.resolve(token, ctx.service.clock.time())


Ctx = Annotated[Context, Depends(context)]
Caller = Annotated[Principal, Depends(principal)]

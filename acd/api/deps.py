"""What every route needs: the running service, and who is calling (from the bearer token).

Every route and dependency is a coroutine: the service and the token store are used from the event loop's
thread only, never from FastAPI's thread pool, so they need no locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from acd.auth import Directory, InvalidToken, Principal, TokenStore
from acd.service import AcdService


@dataclass(frozen=True, slots=True)
class Context:
    service: AcdService
    directory: Directory
    tokens: TokenStore


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
    return ctx.tokens.resolve(token, ctx.service.clock())


Ctx = Annotated[Context, Depends(context)]
Caller = Annotated[Principal, Depends(principal)]

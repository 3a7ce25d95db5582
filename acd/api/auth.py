"""Logging in and out of the API: a bearer token per session."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from acd.api.deps import Caller, Ctx, bearer_token
from acd.api.errors import refusals
from acd.api.schemas import Login

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login", responses=refusals(429))
async def login(body: Login, request: Request, ctx: Ctx) -> dict[str, Any]:
    # Behind a proxy, uvicorn takes the client's address from X-Forwarded-For if the proxy is trusted
    # (FORWARDED_ALLOW_IPS): otherwise every attempt would count against the proxy's own address.
    address = request.client.host if request.client else None
    principal = await ctx.logins.authenticate(ctx.directory, body.user, body.password, address)
    token, expires_at = await ctx.tokens.issue(principal, ctx.service.clock.time())
    return {
        "token": token,
        "token_type": "bearer",
        "expires_at": expires_at,
        "user": principal.user_id,
        "role": principal.role.value,
        "agent": principal.agent_id,
        "teams": sorted(principal.teams),
        # What a softphone names its headset's MQTT topic with (acd/<deployment>/agents/<agent>/headset).
        "deployment": ctx.service.deployment.settings.name,
    }


@router.post("/logout", status_code=204)
async def logout(request: Request, ctx: Ctx, caller: Caller) -> None:
    await ctx.tokens.revoke(bearer_token(request.headers.get("authorization")))

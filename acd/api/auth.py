"""Logging in and out of the API: a bearer token per session."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from acd.api.deps import Caller, Ctx, bearer_token
from acd.api.schemas import Login

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login")
async def login(body: Login, ctx: Ctx) -> dict[str, Any]:
    # scrypt takes tens of milliseconds by design: in a thread, so that the event loop goes on routing.
    principal = await asyncio.to_thread(ctx.directory.authenticate, body.user, body.password)
    token, expires_at = ctx.tokens.issue(principal, ctx.service.clock())
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
    ctx.tokens.revoke(bearer_token(request.headers.get("authorization")))

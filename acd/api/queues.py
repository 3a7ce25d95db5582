"""Queues with their live figures, and today's statistics by queue, team, site or department."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from acd.api.deps import Caller, Ctx
from acd.api.errors import refusals
from acd.api.schemas import IdPath
from acd.api.views import agents_by_state, queue_view
from acd.deployment.models import Role

router = APIRouter(prefix="/api/v1", tags=["queues"])


@router.get("/queues", responses=refusals(401))
async def list_queues(ctx: Ctx, caller: Caller) -> list[dict[str, Any]]:
    queues = ctx.service.topology.queues
    return [queue_view(ctx.service, q) for q in queues if ctx.directory.may_see_queue(caller, q)]


@router.get("/queues/{queue_id}", responses=refusals(401, 403, 404, 422))
async def get_queue(queue_id: IdPath, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    ctx.service.router.queue(queue_id)
    ctx.directory.require(ctx.directory.may_see_queue(caller, queue_id), f"see queue {queue_id!r}")
    return queue_view(ctx.service, queue_id)


@router.get("/stats/{dimension}", responses=refusals(401, 403, 422))
async def statistics(
    dimension: Literal["queue", "team", "site", "department"], ctx: Ctx, caller: Caller
) -> list[dict[str, Any]]:
    ctx.directory.require(caller.role is not Role.AGENT, "see centre statistics")
    deployment = ctx.service.deployment
    names = {
        "queue": [q.id for q in deployment.queues],
        "team": [t.id for t in deployment.teams],
        "site": [s.id for s in deployment.sites],
        "department": sorted({d for s in deployment.sites for d in s.departments}),
    }[dimension]
    agents = list(ctx.service.store.agents())
    rows = []
    for name in names:
        row: dict[str, Any] = {"name": name, "today": ctx.service.stats.get(dimension, name).figures()}
        if dimension in ("team", "site"):
            row["agents"] = agents_by_state([a for a in agents if getattr(a, dimension) == name])
        rows.append(row)
    return rows

"""Agents: log in and out, ready / not ready, answer or refuse an offer, complete, end wrap-up."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from acd.api.answers import AgentView
from acd.api.deps import Caller, Ctx
from acd.api.errors import refusals
from acd.api.schemas import AgentLogin, AgentStateChange, Available, IdPath
from acd.api.views import agent_view
from acd.auth import Principal
from acd.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    Event,
    OfferAccepted,
    OfferRefused,
    TaskCompleted,
    WrapUpEnded,
)
from acd.model import Agent

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])

#: What an action on an agent's task or session can be refused with.
ACTION = refusals(401, 403, 404, 409, 422)


def _acting_on(ctx: Ctx, caller: Principal, agent_id: str) -> Agent:
    agent = ctx.service.router.agent(agent_id)  # unknown agent: 404 before 403, ids are not secret
    ctx.directory.require(ctx.directory.may_act_on_agent(caller, agent_id), f"act on agent {agent_id!r}")
    return agent


async def _apply(ctx: Ctx, caller: Principal, agent_id: str, event: Event) -> dict[str, Any]:
    _acting_on(ctx, caller, agent_id)
    await ctx.service.submit(event)
    return agent_view(ctx.service, ctx.service.router.agent(agent_id))


@router.get("", response_model=list[AgentView], responses=refusals(401))
async def list_agents(ctx: Ctx, caller: Caller) -> list[dict[str, Any]]:
    agents = sorted(ctx.service.store.agents(), key=lambda a: a.ordinal)
    return [agent_view(ctx.service, a) for a in agents if ctx.directory.may_act_on_agent(caller, a.id)]


@router.get("/{agent_id}", response_model=AgentView, responses=refusals(401, 403, 404, 422))
async def get_agent(agent_id: IdPath, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return agent_view(ctx.service, _acting_on(ctx, caller, agent_id))


@router.post("/{agent_id}/login", response_model=AgentView, responses=refusals(400, 401, 403, 404, 409, 422))
async def login(agent_id: IdPath, ctx: Ctx, caller: Caller, body: AgentLogin | None = None) -> dict[str, Any]:
    return await _apply(ctx, caller, agent_id, AgentLoggedIn(agent_id, body.ready if body else True, ctx.service.node))


@router.post("/{agent_id}/logout", response_model=AgentView, responses=ACTION)
async def logout(agent_id: IdPath, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return await _apply(ctx, caller, agent_id, AgentLoggedOut(agent_id))


@router.put("/{agent_id}/state", response_model=AgentView, responses=refusals(400, 401, 403, 404, 409, 422))
async def change_state(agent_id: IdPath, body: AgentStateChange, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    if isinstance(body, Available):
        return await _apply(ctx, caller, agent_id, AgentReady(agent_id, ctx.service.node))
    return await _apply(ctx, caller, agent_id, AgentNotReady(agent_id, body.reason))


@router.post("/{agent_id}/offers/{task_id}/accept", response_model=AgentView, responses=ACTION)
async def accept(agent_id: IdPath, task_id: IdPath, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return await _apply(ctx, caller, agent_id, OfferAccepted(task_id, agent_id))


@router.post("/{agent_id}/offers/{task_id}/refuse", response_model=AgentView, responses=ACTION)
async def refuse(agent_id: IdPath, task_id: IdPath, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return await _apply(ctx, caller, agent_id, OfferRefused(task_id, agent_id))


@router.post("/{agent_id}/tasks/{task_id}/complete", response_model=AgentView, responses=ACTION)
async def complete(agent_id: IdPath, task_id: IdPath, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return await _apply(ctx, caller, agent_id, TaskCompleted(task_id, agent_id))


@router.post("/{agent_id}/tasks/{task_id}/end-wrap-up", response_model=AgentView, responses=ACTION)
async def end_wrap_up(agent_id: IdPath, task_id: IdPath, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return await _apply(ctx, caller, agent_id, WrapUpEnded(task_id, agent_id))

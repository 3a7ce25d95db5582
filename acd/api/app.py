"""The one application factory: the FastAPI app, its routers and error handlers, around a service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from acd.api import agents, auth, errors, events, queues, tasks
from acd.api.deps import Context
from acd.auth import Directory, TokenStore
from acd.service import AcdService


def directory_for(service: AcdService) -> Directory:
    agent_queues = {a.id: frozenset(a.queue_steps) for a in service.store.agents()}
    return Directory(service.deployment, agent_queues=agent_queues)


def create_app(service: AcdService) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service.running():
            yield

    app = FastAPI(
        title="Contact-centre ACD",
        version="0.1.0",
        description="Queue core of the contact centre: tasks, agents, queues, live events.",
        lifespan=lifespan,
    )
    app.state.context = Context(
        service=service,
        directory=directory_for(service),
        tokens=TokenStore(service.deployment.settings.token_lifetime),
    )
    errors.install(app)
    for module in (auth, tasks, agents, queues, events):
        app.include_router(module.router)

    @app.get("/api/v1/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app

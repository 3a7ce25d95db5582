"""The one application factory: the FastAPI app, its routers and error handlers, around a service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from acd.api import agents, auth, docs, errors, events, queues, tasks
from acd.api.deps import Context
from acd.api.errors import refusals
from acd.api.limits import BodyLimit
from acd.auth import Directory
from acd.service import AcdService
from acd.topology import build_agents

#: The log-in's path, where a 401 is a wrong password rather than a missing token.
LOGIN = str(auth.router.url_path_for("login"))


def directory_for(service: AcdService) -> Directory:
    # From the configuration, not the store: a node's replica is empty until the service runs.
    agent_queues = {a.id: frozenset(a.queue_steps) for a in build_agents(service.deployment, service.topology)}
    return Directory(service.deployment, agent_queues=agent_queues)


def create_app(
    service: AcdService,
    *,
    routers: Sequence[APIRouter] = (),
    also: Sequence[Callable[[], AbstractAsyncContextManager[object]]] = (),
) -> FastAPI:
    """The application around `service`; `routers`: routes of the other parts (the calls' on the SIP endpoint's
    switchboard), included after the core's; `also`: what runs beside it (the SIP listener), started after it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service.running(), contextlib.AsyncExitStack() as stack:
            for part in also:
                await stack.enter_async_context(part())
            yield

    app = FastAPI(
        title="Contact-centre ACD",
        version="0.1.0",
        description="Queue core of the contact centre: tasks, agents, queues, live events.",
        lifespan=lifespan,
        docs_url=None,  # served by acd.api.docs from the deployment itself
        redoc_url=None,
        # Any request may be too large; any operation on a shared store may find it unreachable.
        responses=refusals(413, 503),
    )
    app.state.context = Context.build(service, directory_for(service))
    errors.install(app)
    docs.install(app)
    app.add_middleware(BodyLimit, limit=service.deployment.settings.request_body_limit)
    app.include_router(auth.router, responses=refusals(400, 401, 422))
    for module in (tasks, agents, queues, events):
        app.include_router(module.router)
    for router in routers:
        app.include_router(router)

    @app.get("/api/v1/health", tags=["health"])
    async def health() -> dict[str, Any]:
        """For load balancers: 200 while this node can serve; 503 (store-unavailable) while it cannot."""
        if service.engine is None:
            return {"status": "ok", "store": "memory"}
        await service.engine.shared.ping()
        return {"status": "ok", "store": "redis", "node": service.engine.shared.node, "change": service.engine.position}

    _document_bearer(app)
    return app


def _document_bearer(app: FastAPI) -> None:
    """Say in the OpenAPI document what the routes check: a bearer token, on every operation that answers 401
    save the log-in itself (where 401 is a wrong password)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["bearer"] = {"type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/login's token"}
        for path, operations in document["paths"].items():
            for operation in operations.values():
                if "401" in operation["responses"] and path != LOGIN:
                    operation["security"] = [{"bearer": []}]
        return document

    app.openapi = openapi  # type: ignore[method-assign]

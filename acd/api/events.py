"""The event log: read it with filters, or follow it live over a WebSocket.

An agent sees what concerns itself (its offers first of all), a supervisor its teams' agents and the
queues they serve, an administrator everything. A feed lasts as long as its session: its token is checked
again before each batch of events and every SESSION_CHECK seconds, and a log-out or an expiry (on any node,
with a shared store) closes it with code 4401, reason "session ended".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from acd.api.deps import Caller, Context, Ctx
from acd.api.errors import refusals
from acd.api.schemas import EpochQuery, IdQuery
from acd.auth import AuthError, Principal
from acd.decisions import Kind
from acd.deployment.models import Role
from acd.errors import AcdError
from acd.journal import Entry

router = APIRouter(prefix="/api/v1", tags=["events"])

#: Seconds between two checks of an idle feed's token: how long a feed may outlive its session.
SESSION_CHECK = 5.0
#: The close code of a feed whose token is refused, at the handshake or later (4000 + HTTP's 401).
TOKEN_REFUSED = 4401


def entry_view(entry: Entry) -> dict[str, Any]:
    return {"id": entry.id, **entry.decision.as_dict()}


def audience(ctx: Context, caller: Principal) -> Callable[[Entry], bool]:
    """What this caller may see of the log."""
    if caller.role is Role.ADMIN:
        return lambda entry: True
    if caller.role is Role.AGENT:
        return lambda entry: entry.decision.agent == caller.agent_id
    agents = {a.id for a in ctx.service.store.agents() if a.team in caller.teams}
    queues = {q for a in ctx.service.store.agents() if a.id in agents for q in a.queue_steps}
    return lambda entry: entry.decision.agent in agents or entry.decision.queue in queues


def _filtered(
    base: Callable[[Entry], bool], queue: str | None, agent: str | None, task: str | None
) -> Callable[[Entry], bool]:
    def accepts(entry: Entry) -> bool:
        d = entry.decision
        return (
            base(entry)
            and (queue is None or d.queue == queue)
            and (agent is None or d.agent == agent)
            and (task is None or d.task == task)
        )

    return accepts


@router.get("/events", responses=refusals(401, 422))
async def read_log(
    ctx: Ctx,
    caller: Caller,
    queue: IdQuery = None,
    agent: IdQuery = None,
    task: IdQuery = None,
    kind: list[Kind] | None = Query(None),
    since: EpochQuery = None,
    until: EpochQuery = None,
    after: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    visible = audience(ctx, caller)
    kinds = frozenset(k.value for k in kind) if kind else None
    found: list[dict[str, Any]] = []
    cursor = after
    # Filter by audience after the journal's own filters, paging on until `limit` visible entries.
    while len(found) < limit:
        page = ctx.service.journal.query(
            queue=queue, task=task, agent=agent, kinds=kinds, since=since, until=until, after_id=cursor, limit=limit
        )
        if not page:
            break
        found.extend(entry_view(e) for e in page if visible(e))
        cursor = page[-1].id
    return found[:limit]


@router.websocket("/events")
async def follow_log(websocket: WebSocket, queue: IdQuery = None, agent: IdQuery = None, task: IdQuery = None) -> None:
    ctx: Context = websocket.app.state.context
    token = websocket.query_params.get("token")
    header = websocket.headers.get("authorization", "")
    if token is None and header.lower().startswith("bearer "):
        token = header[7:].strip()
    try:
        caller = await ctx.tokens.resolve(token or "", ctx.service.clock.time())
    except AuthError as error:
        await websocket.close(code=TOKEN_REFUSED, reason=error.message)
        return
    except AcdError as error:  # the shared store cannot say: not a refusal of the token, try again later
        await websocket.close(code=1013, reason=error.error_id)
        return
    await websocket.accept()
    subscription = ctx.service.subscribe(_filtered(audience(ctx, caller), queue, agent, task))

    async def session_ended() -> bool:
        try:
            await ctx.tokens.resolve(token or "", ctx.service.clock.time())
        except AuthError:
            return True
        except AcdError:  # the shared store cannot say: an outage ends nobody's session
            return False
        return False

    try:
        async with asyncio.TaskGroup() as group:
            sender = group.create_task(_send(websocket, subscription.queue, session_ended))
            receiver = group.create_task(_receive(websocket))
            # Whichever ends first (server shut down, client gone) ends the other.
            for finished in asyncio.as_completed([sender, receiver]):
                with contextlib.suppress(WebSocketDisconnect):
                    await finished
                sender.cancel()
                receiver.cancel()
                break
    finally:
        ctx.service.unsubscribe(subscription)


async def _send(
    websocket: WebSocket, feed: asyncio.Queue[Entry | None], session_ended: Callable[[], Awaitable[bool]]
) -> None:
    while True:
        batch = await _next_batch(feed)
        if await session_ended():  # before anything is sent: nothing goes out on a session ended
            await websocket.close(code=TOKEN_REFUSED, reason="session ended")
            return
        for entry in batch:
            if entry is None:
                await websocket.close(code=1001, reason="server shutting down")
                return
            await websocket.send_json(entry_view(entry))


async def _next_batch(feed: asyncio.Queue[Entry | None]) -> list[Entry | None]:
    """What the feed holds: at least one entry, or none after SESSION_CHECK seconds of silence."""
    try:
        async with asyncio.timeout(SESSION_CHECK):
            first = await feed.get()
    except TimeoutError:
        return []
    batch = [first]
    while not feed.empty():
        batch.append(feed.get_nowait())
    return batch


async def _receive(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return

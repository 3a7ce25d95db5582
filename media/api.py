"""Calls over HTTP: the calls this node holds, and the transfers an agent (or its supervisor) asks for.

GET  /api/v1/calls                          the calls on this node, with their state
POST /api/v1/calls/{task}/transfer          {"to": queue, number or outside number}: blind transfer
POST /api/v1/calls/{task}/consult           {"to": agent or number}: the caller on hold, the target rung
POST /api/v1/calls/{task}/consult/complete  the caller joined to the consulted party
POST /api/v1/calls/{task}/consult/cancel    back to the caller
"""

# No `from __future__ import annotations` here: the routes are made inside `calls_router`, and FastAPI
# reads their annotations at run time, where a string naming a local (the call dependency) cannot be found.
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from acd.api.deps import Caller, Ctx
from acd.api.errors import refusals
from acd.api.schemas import IdPath
from acd.auth import Principal
from acd.errors import AcdError
from media.calls import Call
from media.errors import MediaError
from media.switchboard import Switchboard
from media.transfers import NotTransferable


class NoSuchCall(AcdError):
    """No live call of this task on this node (the task may be another node's, or no call at all)."""

    status_code = 404
    error_id = "no-such-call"


class NotTransferableCall(AcdError):
    """The call is not in a state the transfer applies to (no agent on it, or no consultation going)."""

    status_code = 409
    error_id = "not-transferable"


class CallFailed(AcdError):
    """The call's media or signalling failed while the transfer was carried out."""

    status_code = 500
    error_id = "call-error"


#: media/'s refusals as the API's: each MediaError class has one id, one status. The core's own refusals of a
#: transfer (404 `unknown-target`, 409 `transfer-refused`, 503 `store-unavailable`) reach the API as they are.
_REFUSALS: dict[type[MediaError], type[AcdError]] = {NotTransferable: NotTransferableCall}


class TransferTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9+*#._-]+$")]


def calls_router(board: Switchboard) -> APIRouter:
    router = APIRouter(prefix="/api/v1/calls", tags=["calls"], responses=refusals(400, 401, 403, 404, 409, 422))

    async def on_call(task: IdPath, ctx: Ctx, caller: Caller) -> Call:  # a coroutine: on the loop, as every route
        call = board.by_task.get(task)
        if call is None or call.task != task or not call.live:
            raise NoSuchCall(f"no call {task!r} on this node", task=task)
        if call.agent is None or not ctx.directory.may_act_on_agent(caller, call.agent):
            ctx.directory.require(ctx.directory.may_manage_tasks(caller), f"act on call {task!r}")
        return call

    OnCall = Annotated[Call, Depends(on_call)]

    @router.get("")
    async def list_calls(ctx: Ctx, caller: Caller) -> list[dict[str, Any]]:
        return [
            view(call) for call in board.calls.values()
            if call.live and call.task in board.by_task and _may_see(ctx, caller, call)
        ]  # fmt: skip

    @router.post("/{task}/transfer")
    async def transfer(call: OnCall, target: TransferTarget) -> Any:
        return await _acting(call, board.transfers.blind(call, target.to))

    @router.post("/{task}/consult")
    async def consult(call: OnCall, target: TransferTarget) -> Any:
        return await _acting(call, board.transfers.consult(call, target.to))

    @router.post("/{task}/consult/complete")
    async def complete(call: OnCall) -> Any:
        return await _acting(call, board.transfers.complete(call))

    @router.post("/{task}/consult/cancel")
    async def cancel(call: OnCall) -> Any:
        return await _acting(call, board.transfers.back(call))

    return router


async def _acting(call: Call, work: Any) -> Any:
    try:
        await work
    except MediaError as error:
        refusal = _REFUSALS.get(type(error), CallFailed)
        raise refusal(error.message, task=call.task) from error
    return view(call)


def view(call: Call) -> dict[str, Any]:
    return {
        "task": call.task,
        "queue": call.queue,
        "state": call.state.value,
        "agent": call.agent,
        # The consulted party, or the outside number the call was handed to: calling, ringing, answered.
        "other_party": call.consult.state.value if call.consult is not None else None,
        "caller": call.dialog.remote,
        "codec": call.side.stream.codec if call.side is not None else None,
        "recording": str(call.recording.path) if call.recording is not None else None,
    }


def _may_see(ctx: Ctx, caller: Principal, call: Call) -> bool:
    return ctx.directory.may_manage_tasks(caller) or (
        call.agent is not None and ctx.directory.may_act_on_agent(caller, call.agent)
    )

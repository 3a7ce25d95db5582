"""Tasks: create, read (with position and estimated wait), cancel, turn into a call-back, hear the message
a voicemail task holds."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from acd.api.answers import TaskView
from acd.api.deps import Caller, Ctx
from acd.api.errors import refusals
from acd.api.schemas import Callback, CancelOutcome, IdPath, NewTask
from acd.api.views import task_view
from acd.auth import Principal
from acd.deployment.models import Role
from acd.errors import NoRecording
from acd.events import CallbackRequested, TaskArrived, TaskCancelled
from acd.model import Outcome, Task

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


def _new_id() -> str:
    return "t-" + secrets.token_hex(8)


def _visible_task(ctx: Ctx, caller: Principal, task_id: str) -> Task:
    task = ctx.service.router.task(task_id)
    if caller.role is Role.AGENT:
        ctx.directory.require(task.agent == caller.agent_id, f"task {task_id!r} is not yours")
    return task


@router.post("", status_code=201, response_model=TaskView, responses=refusals(400, 401, 403, 404, 409, 422))
async def create_task(body: NewTask, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    ctx.directory.require(ctx.directory.may_manage_tasks(caller), "create tasks")
    task_id = body.id or _new_id()
    event = TaskArrived(
        task_id,
        body.channel,
        body.queue,
        body.priority,
        body.attributes,
        body.required_skills,
        body.not_before,
    )
    await ctx.service.submit(event)
    return task_view(ctx.service, ctx.service.router.task(task_id))


@router.get("/{task_id}", response_model=TaskView, responses=refusals(401, 403, 404, 422))
async def get_task(task_id: IdPath, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return task_view(ctx.service, _visible_task(ctx, caller, task_id))


@router.get(
    "/{task_id}/recording",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}, **refusals(401, 403, 404, 422)},
)
async def get_recording(task_id: IdPath, ctx: Ctx, caller: Caller) -> FileResponse:
    """The WAV file of a voicemail task (its `recording` attribute), for whoever may read the task."""
    task = _visible_task(ctx, caller, task_id)
    recordings = Path(ctx.service.deployment.settings.recordings).resolve()
    path = Path(task.attributes.get("recording", "")).resolve()
    # Only the ACD's own recordings: an attribute given through the API must not open any file of the server.
    if "recording" not in task.attributes or not path.is_relative_to(recordings) or not path.is_file():
        raise NoRecording(f"task {task_id!r} holds no recording", task=task_id)
    return FileResponse(path, media_type="audio/wav", filename=f"{task_id}.wav")


@router.delete("/{task_id}", response_model=TaskView, responses=refusals(401, 403, 404, 409, 422))
async def cancel_task(
    task_id: IdPath, ctx: Ctx, caller: Caller, outcome: CancelOutcome = "cancelled"
) -> dict[str, Any]:
    """Withdraw a waiting or offered task: `cancelled` (the default), or `abandoned` when the caller hung up."""
    ctx.directory.require(ctx.directory.may_manage_tasks(caller), "cancel tasks")
    await ctx.service.submit(TaskCancelled(task_id, Outcome(outcome)))
    return task_view(ctx.service, ctx.service.router.task(task_id))


@router.post(
    "/{task_id}/callback",
    status_code=201,
    response_model=TaskView,
    responses=refusals(400, 401, 403, 404, 409, 422),
)
async def request_callback(task_id: IdPath, body: Callback, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    ctx.directory.require(ctx.directory.may_manage_tasks(caller), "create call-backs")
    callback_id = _new_id()
    await ctx.service.submit(CallbackRequested(task_id, callback_id, body.number, body.at, body.queue))
    return task_view(ctx.service, ctx.service.router.task(callback_id))

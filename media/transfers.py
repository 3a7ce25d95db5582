"""Transfers: blind (REFER from the agent's phone, or the API) and attended (the API: consult, then
complete or return); and how a transfer is told to the queue core.

A call transferred to a queue (by its id, or one of the deployment's numbers) enters the ACD again as a
new task that keeps the caller's place; to any other number it goes out through the trunk, the caller
hearing music until the far end answers (and back in its queue if it does not: nothing is lost). Either
way the agent's task is completed and its wrap-up starts. Where the call goes is call control's to decide
(media.control); here the requests are checked (a route exists) and handed to it, and `Transfers.tell`
carries out its `SubmitTransfer`: the one place that knows the events the core is told for a transfer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from acd.decisions import Decision, Kind
from acd.errors import AcdError
from acd.events import Event, TaskArrived, TaskCancelled, TaskCompleted, TaskNoted
from acd.model import Channel, Outcome, Task
from media.calls import Call
from media.control import CallStateError
from media.control import events as ev
from media.control.actions import SubmitTransfer
from media.errors import MediaError
from media.sip.dialog import user_of

log = logging.getLogger("media.calls")


class NotTransferable(MediaError):
    """The call is not in a state this transfer applies to (no agent on it, or no consultation going)."""

    status = 409


class NoRoute(MediaError):
    """The target is no queue, no agent with a phone, and there is no trunk to call a number through."""

    status = 404


@dataclass(frozen=True, slots=True)
class Routes:
    """Where a transfer can go: the voice queues, the numbers that lead to one, the trunk for the rest."""

    queues: frozenset[str]
    numbers: Mapping[str, str]
    trunk: tuple[str, int] | None

    def queue_for(self, target: str) -> str | None:
        if target in self.queues:
            return target
        return self.numbers.get(target)

    def require_trunk(self, target: str) -> None:
        if self.trunk is None:
            raise NoRoute(f"{target!r} is no queue or number of the deployment, and no trunk is configured")
        if not target.lstrip("+").isdigit():
            raise NoRoute(f"{target!r} is no queue and not a number to call")


class Transfers:
    """`feed` tells call control (raising CallStateError for a request the call cannot take now);
    `settled(call)` waits until what call control asked of the core for it so far has been answered; `has_phone(agent)`
    says whether an agent's phone can be rung; `submit` tells the core, `arrive` queues a task (its
    decisions); `task(id)` reads one."""

    def __init__(
        self,
        routes: Routes,
        feed: Callable[[ev.CallEvent], None],
        settled: Callable[[str], Awaitable[None]],
        has_phone: Callable[[str], bool],
        submit: Callable[[Event], Awaitable[bool]],
        arrive: Callable[[TaskArrived], Awaitable[list[Decision]]],
        task: Callable[[str], Task | None],
    ) -> None:
        self.routes = routes
        self._feed = feed
        self._settled = settled
        self._has_phone = has_phone
        self._submit = submit
        self._arrive = arrive
        self._task = task

    # ------------------------------------------------------------------------------- requests

    async def blind(self, call: Call, target: str, *, referred: bool = False) -> None:
        """Hand the call to `target`; the agent's part ends (its task completed, wrap-up follows)."""
        queue = self.routes.queue_for(target)
        if queue is None:
            self.routes.require_trunk(target)
        self._ask(call, ev.TransferAsked(call.dialog.call_id, target, queue, referred))
        await self._settled(call.dialog.call_id)  # the new task queued (or the number being dialled) before the answer

    async def consult(self, call: Call, target: str) -> None:
        """Put the caller on hold (music) and ring `target`: an agent's phone, or a number through the trunk."""
        if not self._has_phone(target):
            self.routes.require_trunk(target)
        self._ask(call, ev.ConsultAsked(call.dialog.call_id, target))

    async def complete(self, call: Call) -> None:
        """Join the caller to the consulted party; the agent's part ends."""
        self._ask(call, ev.ConsultCompleted(call.dialog.call_id))
        await self._settled(call.dialog.call_id)

    async def back(self, call: Call) -> None:
        """End the consultation: the agent talks to the caller again."""
        self._ask(call, ev.ConsultCancelled(call.dialog.call_id))

    def _ask(self, call: Call, event: ev.CallEvent) -> None:
        try:
            self._feed(event)
        except CallStateError as error:
            raise NotTransferable(f"call {call.task} cannot be transferred now: {error}") from error

    # ---------------------------------------------------------------------- the core is told

    async def tell(self, call: Call, action: SubmitTransfer) -> ev.CallEvent | None:
        """The events of a transfer, in order: the task left noted and ended (completed by its agent, or
        cancelled), then the new task queued keeping the caller's place; what came of it, for call control
        (nothing for a call already joined to the party its agent consulted)."""
        earlier = self._task(action.task)
        entered = earlier.entered_at if earlier is not None else None  # a transfer keeps the caller's place
        # What the caller told the IVR (topic, SIREN, language) goes with it: the next agent needs it too.
        known = dict(earlier.attributes) if earlier is not None else {}
        if not action.task_done:
            await self._submit(TaskNoted(action.task, action.reason, {"to": action.to}))
            if action.agent is not None:
                await self._submit(TaskCompleted(action.task, action.agent))
            else:
                await self._submit(TaskCancelled(action.task, Outcome.CANCELLED))
        if action.joined:
            return None
        if action.queue is None or action.new_task is None:
            return ev.Dialling(action.call, action.to)
        caller = user_of(call.dialog.remote) or "anonymous"
        attributes = {**known, "transferred_from": action.task, "caller": caller}
        arrived = TaskArrived(action.new_task, Channel.VOICE, action.queue, attributes=attributes, entered_at=entered)
        try:
            decisions = await self._arrive(arrived)
        except AcdError as error:  # the store unreachable: the call cannot wait anywhere
            log.warning("call %s not queued again (%s): %s", action.task, action.reason, error)
            return ev.TransferRefused(action.call, "not_queued")
        if any(d.kind is Kind.TASK_REJECTED and d.task == action.new_task for d in decisions):
            return ev.TransferRefused(action.call, "rejected")
        return ev.Requeued(action.call, action.new_task)

"""Transfers: those the API asks, blind and attended (consult, then complete or return), and how every
transfer (the API's, a REFER's, which call control takes itself, an IVR's overflow) is told to the queue core.

Where a transfer goes is the core's to decide, in one event (`TaskTransferred`): it resolves the target
(a queue, a number leading to one, an outside number through the trunk), and either moves the caller's
task — into the target queue as a new task keeping the caller's place, or ringing the outside number — or
refuses and nothing moves: the caller stays with its agent, or waiting where it was. An outside number that
does not answer sends the task back to its queue with its place (`OutsideFailed`); one that answers ends
it (`OutsideAnswered`). Here the requests are handed to call control (media.control), and `Transfers.tell`
and `Transfers.bring_back` carry out its `SubmitTransfer` and `SubmitReturn`: the one place that knows the
events the core is told for a transfer, and turns its answer into call control's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from acd.decisions import Decision, Kind
from acd.errors import AcdError, NoRoute
from acd.events import Event, OutsideAnswered, OutsideFailed, TaskCompleted, TaskNoted, TaskTransferred
from acd.topology import Topology, ToQueue
from media.calls import Call
from media.control import CallStateError
from media.control import events as ev
from media.control.actions import SubmitReturn, SubmitTransfer
from media.errors import MediaError

log = logging.getLogger("media.calls")

#: What a REFER's NOTIFY says (RFC 3515 §2.4.5) when the core refused the transfer, by the refusal's HTTP
#: status: no such target, the target would not take the caller now, the store unreachable.
_REFER_OUTCOMES = {404: 404, 409: 480, 503: 503}


class NotTransferable(MediaError):
    """The call is not in a state this transfer applies to (no agent on it, or no consultation going)."""

    status = 409


class Transfers:
    """`feed` tells call control (raising CallStateError for a request the call cannot take now);
    `settled(call)` waits until what call control asked of the core for it so far has been answered;
    `has_phone(agent)` says whether an agent's phone can be rung; `submit` tells the core (False when it
    refuses), `decide` tells it and returns its decisions (raising its refusal); `topology` resolves targets."""

    def __init__(
        self,
        topology: Topology,
        feed: Callable[[ev.CallEvent], None],
        settled: Callable[[str], Awaitable[None]],
        has_phone: Callable[[str], bool],
        submit: Callable[[Event], Awaitable[bool]],
        decide: Callable[[Event], Awaitable[list[Decision]]],
    ) -> None:
        self.topology = topology
        self._feed = feed
        self._settled = settled
        self._has_phone = has_phone
        self._submit = submit
        self._decide = decide
        self._refusals: dict[str, AcdError] = {}  # by call: why the core refused the transfer the API asks
        self._asking: set[str] = set()  # the calls whose transfer the API asks now (it waits for the answer)

    # ------------------------------------------------------------------------------- requests

    async def blind(self, call: Call, target: str) -> None:
        """Hand the call to `target`; the agent's part ends (its task transferred, wrap-up follows). Raises
        the core's refusal (`NoRoute`, `TransferRefused`...) when nothing moved: the agent still has the call."""
        call_id = call.dialog.call_id
        self._ask(call, ev.TransferAsked(call_id, target))
        self._asking.add(call_id)
        try:
            await self._settled(call_id)  # the core's answer fed to call control before the request's
        finally:
            self._asking.discard(call_id)
            refusal = self._refusals.pop(call_id, None)
        if refusal is not None:
            raise refusal

    async def consult(self, call: Call, target: str) -> None:
        """Put the caller on hold (music) and ring `target`: an agent's phone, or a number through the trunk."""
        outside = not self._has_phone(target)
        if outside and isinstance(self.topology.resolve(target), ToQueue):
            raise NoRoute(f"{target!r} is a queue: a consultation rings an agent or a number", target=target)
        self._ask(call, ev.ConsultAsked(call.dialog.call_id, target, outside))

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

    async def tell(self, action: SubmitTransfer) -> ev.CallEvent | None:
        """The transfer in one event of the core, and what came of it for call control (nothing for a call
        already joined to the party its agent consulted, whose task is completed with a note)."""
        if action.joined:
            await self._joined(action)
            return None
        assert action.new_task is not None  # a transfer that is not joined makes a new task
        try:
            decisions = await self._decide(TaskTransferred(action.task, action.to, action.new_task, action.reason))
        # Refused, or the store unreachable: nothing moved. (Unless Redis made the change and its reply was
        # lost: the node learns it from the stream later, while the call went on with its agent. Not handled.)
        except AcdError as error:
            log.info("call %s not transferred to %s (%s): %s", action.task, action.to, action.reason, error)
            if action.call in self._asking:  # the API waits to say why
                self._refusals[action.call] = error
            reason = str(error.details.get("reason") or error.error_id)
            return ev.TransferRefused(action.call, reason, _REFER_OUTCOMES.get(error.status_code, 500))
        mine = [d for d in decisions if d.task == action.new_task]
        dialling = next((d for d in mine if d.kind is Kind.TASK_DIALLING), None)
        if dialling is not None:
            return ev.Dialling(action.call, action.new_task, str(dialling.data["number"]))
        return ev.Requeued(action.call, action.new_task, _queue_of(mine, action.to))

    async def _joined(self, action: SubmitTransfer) -> None:
        """The caller is with the consulted party already: an outside number takes the task (a transfer in one
        event, then its answer); a colleague, or a number the core will not take, ends the agent's task."""
        if action.new_task is not None:
            moved = TaskTransferred(action.task, action.to, action.new_task, action.reason)
            if await self._submit(moved):
                await self._submit(OutsideAnswered(action.new_task))
                return
        await self._submit(TaskNoted(action.task, action.reason, {"to": action.to}))
        if action.agent is not None:
            await self._submit(TaskCompleted(action.task, action.agent))

    async def bring_back(self, action: SubmitReturn, queue: str) -> ev.CallEvent:
        """The outside number did not answer: the core takes the task back to its queue, with its place."""
        try:
            decisions = await self._decide(OutsideFailed(action.task, action.status))
        except AcdError as error:
            log.warning("call %s not taken back from outside: %s", action.task, error)
            return ev.QueueRefused(action.call, action.task, "unavailable")
        mine = [d for d in decisions if d.task == action.task]
        rejected = next((d for d in mine if d.kind is Kind.TASK_REJECTED), None)
        if rejected is not None:
            return ev.QueueRefused(action.call, action.task, rejected.reason or "rejected")
        return ev.Requeued(action.call, action.task, _queue_of(mine, queue))


def _queue_of(decisions: list[Decision], default: str) -> str:
    """The queue the task was last queued in (a full queue may have sent it on to its target)."""
    queued = [d.queue for d in decisions if d.kind is Kind.TASK_QUEUED and d.queue is not None]
    return queued[-1] if queued else default

"""Transfers: blind (REFER from the agent's phone, or the API) and attended (the API: consult, then
complete or return).

A call transferred to a queue (by its id, or one of the deployment's numbers) enters the ACD again as a
new task that keeps the caller's place; to any other number it goes out through the trunk, the caller
hearing music until the far end answers (and back in its queue if it does not: nothing is lost). Either
way the agent's task is completed and its wrap-up starts. A consultation puts the caller on hold with
music and rings the colleague (an agent's registered phone) or the office (a number, through the trunk);
completing it joins the caller to them, returning to the caller ends it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.decisions import Kind
from acd.errors import AcdError
from acd.events import TaskArrived, TaskCancelled, TaskCompleted, TaskNoted
from acd.model import Channel, Outcome
from media import sdp
from media.calls import Call, CallState, task_id_for
from media.errors import MediaError
from media.outbound import Leg, LegState
from media.rtp.bridge import Bridge, Side
from media.sip.checks import Request
from media.sip.dialog import user_of
from media.sip.transport import Source

if TYPE_CHECKING:
    from media.switchboard import Switchboard

log = logging.getLogger("media.calls")


class NotTransferable(MediaError):
    """The call is not in a state this transfer applies to (no agent on it, or no consultation going)."""

    status = 409


class NoRoute(MediaError):
    """The target is no queue, no agent with a phone, and there is no trunk to call a number through."""

    status = 404


class Transfers:
    def __init__(self, board: Switchboard) -> None:
        self.board = board

    # ----------------------------------------------------------------------------------- blind

    def referred(self, call: Call, leg: Leg, request: Request, source: Source) -> None:
        """REFER from the agent's phone (RFC 3515): accepted, carried out, its outcome NOTIFYed."""
        target = user_of(request.first("refer-to") or "")
        if not target:
            self.board.reply(request, source, 400, "Bad Request (no Refer-To user)")
            return
        self.board.reply(request, source, 202, "Accepted")
        leg.referred = True
        self.board.spawn(self._refer(call, leg, target))

    async def _refer(self, call: Call, leg: Leg, target: str) -> None:
        try:
            await self.blind(call, target)
            outcome = "SIP/2.0 200 OK"
        except MediaError as error:
            log.info("call %s: REFER to %s refused: %s", call.task, target, error)
            outcome = f"SIP/2.0 {error.status} {error.message}"
        extra = (("event", "refer"), ("subscription-state", "terminated;reason=noresource"))
        content = "message/sipfrag;version=2.0"
        await self.board.outbound.request(leg.dialog, "NOTIFY", extra, f"{outcome}\r\n".encode(), content_type=content)

    async def blind(self, call: Call, target: str) -> None:
        """Hand the call to `target`; the agent's part ends (its task completed, wrap-up follows)."""
        if call.state not in (CallState.TALKING, CallState.HELD):
            raise NotTransferable(f"call {call.task} has no agent talking to the caller ({call.state.value})")
        queue = self.queue_for(target)
        if queue is None:
            self._require_trunk(target)
        # The agent's leg leaves the call first: its phone's BYE (after a REFER) must not end the call.
        agent_leg, call.state = call.ring, CallState.TRANSFERRING
        if agent_leg is not None:
            self.board.forget_leg(call, agent_leg, close=False)
            if agent_leg.state is LegState.ANSWERED and not agent_leg.referred:
                self.board.outbound.hang_up(agent_leg)
        await self._agent_done(call, self._detach_agent(call), target)
        if not call.live:
            return  # the caller hung up meanwhile
        if queue is not None:
            await self.requeue(call, queue, target)
        else:
            await self.dial_out(call, target)

    def queue_for(self, target: str) -> str | None:
        settings = self.board.settings
        if target in settings.queues:
            return target
        return settings.numbers.get(target)

    def _require_trunk(self, target: str) -> None:
        if self.board.settings.trunk is None:
            raise NoRoute(f"{target!r} is no queue or number of the deployment, and no trunk is configured")
        if not target.lstrip("+").isdigit():
            raise NoRoute(f"{target!r} is no queue and not a number to call")

    def _detach_agent(self, call: Call) -> str | None:
        """Take the agent off the call (its bridge, the recording of its part); the agent it was."""
        if call.bridge is not None:
            call.bridge.close()
            call.bridge = None
        self.board.stop_recording(call)
        agent, call.agent = call.agent, None
        return agent

    async def _agent_done(self, call: Call, agent: str | None, target: str) -> None:
        """The agent's task ends here: completed (its wrap-up starts), where the call went in its events."""
        await self.board.submit(TaskNoted(call.task, "transferred", {"to": target}))
        if agent is not None:
            await self.board.submit(TaskCompleted(call.task, agent))

    async def requeue(self, call: Call, queue: str, why: str, *, ended: Outcome | None = None) -> None:
        """The call enters `queue` again as a new task, keeping the caller's place (its first entry time);
        with `ended`, its task waiting until now ends so, noted `why` (an IVR's maximum wait)."""
        board = self.board
        if call.state is CallState.ENDED:
            return
        earlier = board.service.store.task(call.task)
        entered = earlier.entered_at if earlier is not None else None  # a transfer keeps the caller's place
        # What the caller told the IVR (topic, SIREN, language) goes with it: the next agent needs it too.
        known = dict(earlier.attributes) if earlier is not None else {}
        call.transfers += 1
        previous, call.task = call.task, task_id_for(f"{call.dialog.call_id}/{call.transfers}")
        call.queue, call.state, call.consult = queue, CallState.WAITING, None
        board.by_task[call.task] = call
        board.music.play(call.media.port, call.media.stream.payload_type)
        if ended is not None:  # after the switch: that task's end is not the call's
            await board.submit(TaskNoted(previous, why, {"to": queue}))
            await board.submit(TaskCancelled(previous, ended))
        attributes = {**known, "transferred_from": previous, "caller": user_of(call.dialog.remote) or "anonymous"}
        arrived = TaskArrived(call.task, Channel.VOICE, queue, attributes=attributes, entered_at=entered)
        try:
            decisions = await board.service.submit(arrived)
        except AcdError as error:  # the store unreachable: the call cannot wait anywhere
            log.warning("call %s not queued again (%s): %s", previous, why, error)
            board.end(call, "not_queued")
            return
        if any(d.kind is Kind.TASK_REJECTED and d.task == call.task for d in decisions):
            board.end(call, "rejected")

    async def dial_out(
        self, call: Call, number: str, on_refusal: Callable[[Call, Leg, int], None] | None = None
    ) -> None:
        """Call `number` through the trunk; the caller hears music until it answers. If it does not,
        `on_refusal`; by default the caller goes back to the queue it came from."""
        board = self.board
        trunk = board.settings.trunk
        assert trunk is not None  # _require_trunk said so
        call.state = CallState.TRANSFERRING
        board.music.play(call.media.port, call.media.stream.payload_type)
        port = await board.ports.open(time.monotonic)
        if not call.live:  # the caller hung up while the port opened
            port.close()
            return
        leg = board.leg_for(call, f"sip:{number}@{trunk[0]}:{trunk[1]}", "udp", trunk, port,
                            self._outside_answered, on_refusal or self._outside_refused)  # fmt: skip
        call.consult = leg
        board.rings[leg.dialog.call_id] = (call, leg)
        board.outbound.place(leg)

    def _outside_answered(self, call: Call, leg: Leg, body: bytes) -> None:
        side = _side(leg, body)
        if side is None or call.state is not CallState.TRANSFERRING:
            self.board.outbound.hang_up(leg)
            return
        leg.side = side
        call.state = CallState.OUTSIDE
        self.board.music.stop(call.media.port)
        self.board.attendant.connected(call)  # a call sent out by its IVR flow: the flow is over
        call.bridge = Bridge(call.media, side, lambda who, digit: None)

    def _outside_refused(self, call: Call, leg: Leg, status: int) -> None:
        """The number did not answer: the caller goes back to the queue it came from, nothing lost."""
        if call.state is CallState.TRANSFERRING:
            log.info("call %s: transfer out refused (%d): back to %s", call.task, status, call.queue)
            self.board.spawn(self.requeue(call, call.queue, f"transfer failed {status}"))

    # -------------------------------------------------------------------------------- attended

    async def consult(self, call: Call, target: str) -> None:
        """Put the caller on hold (music) and ring `target`: an agent's phone, a queue's number is refused."""
        board = self.board
        if call.state is not CallState.TALKING or call.ring is None:
            raise NotTransferable(f"call {call.task} has no agent talking to the caller ({call.state.value})")
        bindings = board.registrar.bindings(target)
        if bindings:
            binding = bindings[0]
            destination, transport, address = binding.contact, binding.transport, binding.source
        else:
            self._require_trunk(target)
            trunk = board.settings.trunk
            assert trunk is not None
            destination, transport, address = f"sip:{target}@{trunk[0]}:{trunk[1]}", "udp", trunk
        if call.bridge is not None:
            call.bridge.close()
            call.bridge = None
        call.state = CallState.CONSULTING
        board.music.play(call.media.port, call.media.stream.payload_type)
        port = await board.ports.open(time.monotonic)
        if call.state is not CallState.CONSULTING:  # the caller or the agent hung up while the port opened
            port.close()
            return
        leg = board.leg_for(call, destination, transport, address, port, self._consulted, self._consult_refused)
        call.consult = leg
        board.rings[leg.dialog.call_id] = (call, leg)
        board.outbound.place(leg)
        await board.submit(TaskNoted(call.task, "consulting", {"with": target}))

    def _consulted(self, call: Call, leg: Leg, body: bytes) -> None:
        side = _side(leg, body)
        if side is None or call.state is not CallState.CONSULTING or call.ring is None:
            self.board.outbound.hang_up(leg)
            return
        leg.side = side
        call.bridge = Bridge(call.ring.side, side, lambda who, digit: None)  # the agent and the consulted

    def _consult_refused(self, call: Call, leg: Leg, status: int) -> None:
        if call.state is CallState.CONSULTING and call.consult is leg:
            call.consult = None
            self._back_to_caller(call)
            self.board.spawn(self.board.submit(TaskNoted(call.task, "consult_failed", {"status": str(status)})))

    async def complete(self, call: Call) -> None:
        """Join the caller to the consulted party; the agent's part ends."""
        leg = call.consult
        if call.state is not CallState.CONSULTING or leg is None or leg.state is not LegState.ANSWERED:
            raise NotTransferable(f"call {call.task} has no answered consultation to complete")
        agent_leg = call.ring
        if agent_leg is not None:
            self.board.outbound.stop(agent_leg)
            self.board.forget_leg(call, agent_leg, close=False)
        agent = self._detach_agent(call)
        call.state = CallState.OUTSIDE
        self.board.music.stop(call.media.port)
        call.bridge = Bridge(call.media, leg.side, lambda who, digit: None)  # joined before the core is told
        await self._agent_done(call, agent, user_of(leg.dialog.target) or leg.dialog.target)

    async def back(self, call: Call) -> None:
        """End the consultation: the agent talks to the caller again."""
        if call.state is not CallState.CONSULTING:
            raise NotTransferable(f"call {call.task} has no consultation going on")
        leg, call.consult = call.consult, None
        if leg is not None:
            self.board.outbound.stop(leg)
        self._back_to_caller(call)
        await self.board.submit(TaskNoted(call.task, "consult_ended"))

    async def agent_left_consultation(self, call: Call) -> None:
        """The agent hung up while consulting: as on a PBX, that completes the transfer if the consulted
        party answered; if it still rings, the call ends (the caller is not left alone with music)."""
        leg = call.consult
        if leg is not None and leg.state is LegState.ANSWERED:
            await self.complete(call)
            return
        if leg is not None:
            self.board.outbound.stop(leg)
            call.consult = None
        agent = call.agent
        self.board.end(call, "agent_hung_up")
        if agent is not None:
            await self.board.submit(TaskCompleted(call.task, agent))

    async def consulted_hung_up(self, call: Call, leg: Leg) -> None:
        if call.state is CallState.CONSULTING:
            call.consult = None
            self._back_to_caller(call)
            await self.board.submit(TaskNoted(call.task, "consult_ended"))

    def _back_to_caller(self, call: Call) -> None:
        if call.bridge is not None:
            call.bridge.close()
            call.bridge = None
        call.state = CallState.TALKING
        self.board.music.stop(call.media.port)
        if call.ring is not None:
            self.board.join(call, call.ring)


def _side(leg: Leg, body: bytes) -> Side | None:
    try:
        stream = sdp.agreed(body)
    except sdp.SdpError as error:
        log.info("answer with unusable SDP: %s", error)
        return None
    leg.side.port.expect(stream.address)
    return Side(leg.side.port, stream)

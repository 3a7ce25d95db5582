"""Call control's invariants under random sequences: a world (the switchboard's I/O and a small queue core)
answers its actions in any order, and every event the world can say is taken.

After every step: at most one agent's phone rings per call; every offer of the core is rung, refused, or
kept for the moment the call waits. Once every caller hung up and every answer came: no leg live, no port
open, every call said `EndCall` once, no task left queued, offered or with an agent, and no offer kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from acd.events import OfferRefused, OutsideAnswered, TaskCancelled, TaskCompleted, TaskNoted
from media.control import CallControl, CallState, CallStateError, Deferred, task_id_for
from media.control import events as ev
from media.control.actions import (
    AcceptOffer,
    AcceptRefer,
    Action,
    ByeCaller,
    CancelLeg,
    ClosePort,
    EndCall,
    HangUpLeg,
    NotifyRefer,
    OpenPort,
    PlaceLeg,
    RefreshSession,
    RejectRequest,
    RequestCallback,
    Respond,
    Role,
    StartFlow,
    StopFlow,
    Submit,
    SubmitArrival,
    SubmitReturn,
    SubmitTransfer,
)

AGENTS = ("ana", "bob", "eve")
#: Requests (the API's, REFER, the flow's) that a state may not take: refused with CallStateError, no change.
REQUESTS = (ev.TransferAsked, ev.ConsultAsked, ev.ConsultCompleted, ev.ConsultCancelled, ev.FlowQueue, ev.FlowTransfer)


@dataclass
class WorldLeg:
    call: str
    id: str
    role: Role
    target: str
    # ringing, answered, gone (cancelled or hung up by the ACD), ended (by the far end), referred (the agent's phone
    # sent REFER: it hangs up by itself, RFC 5589 §6.1)
    status: str = "ringing"


@dataclass
class WorldCall:
    id: str
    answered: bool = False  # a 200 went to the caller
    port: str = "none"  # none, opening, open, closed
    flow: bool = False
    ended: int = 0  # EndCall said
    hung_up: bool = False  # the caller's side said goodbye (BYE, CANCEL, or lost)


@dataclass
class Task:
    call: str
    status: str = "queued"  # queued, offered, assigned, outside (ringing a number), done
    agent: str | None = None
    answered: bool = False  # the answer that queued it came: the core may end it (before, it only rejects it)


@dataclass
class World:
    calls: dict[str, WorldCall] = field(default_factory=dict)
    legs: dict[tuple[str, str], WorldLeg] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    pending: list[ev.CallEvent] = field(default_factory=list)  # answers and decisions not yet delivered
    # Transfers asked of the core, by the new task: the core carries one out (or refuses it) as its answer is
    # delivered, in one step, as `TaskTransferred` is one event.
    moves: dict[str, SubmitTransfer] = field(default_factory=dict)
    returns: set[str] = field(default_factory=set)  # tasks an outside number sent back, their answer pending
    referring: set[str] = field(default_factory=set)  # calls whose agent's phone sent REFER, its answer pending


class CallControlMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.control = CallControl(recorded=frozenset({"q1"}))
        self.world = World()
        self.count = 0

    # ------------------------------------------------------------------------------ the world

    def feed(self, event: ev.CallEvent) -> list[Action]:
        try:
            actions = self.control.handle(event, 0.0)
        except CallStateError:
            assert isinstance(event, REQUESTS), f"{event} refused"
            return []
        for action in actions:
            self.act(action)
        return actions

    def act(self, action: Action) -> None:
        world, call = self.world, self.world.calls[action.call]
        if isinstance(action, OpenPort):
            call.port = "opening"
            world.pending.append(ev.PortOpened(action.call))
        elif isinstance(action, ClosePort):
            assert call.port in ("open", "opening"), call.port
            call.port = "closed"
        elif isinstance(action, Respond):
            assert not call.answered, "one final response"
            call.answered = action.status == 200
        elif isinstance(action, StartFlow):
            call.flow = True
        elif isinstance(action, StopFlow):
            call.flow = False
        elif isinstance(action, PlaceLeg):
            assert (action.call, action.leg) not in world.legs
            world.legs[(action.call, action.leg)] = WorldLeg(action.call, action.leg, action.role, action.target)
        elif isinstance(action, CancelLeg | HangUpLeg):
            leg = world.legs[(action.call, action.leg)]
            assert leg.status in ("ringing", "answered"), leg
            leg.status = "gone"
        elif isinstance(action, SubmitArrival):
            world.tasks[action.task] = Task(action.call)
            world.pending.append(ev.Queued(action.call, action.task))
        elif isinstance(action, AcceptOffer):
            task = world.tasks[action.task]
            if task.status == "offered" and task.agent == action.agent:
                task.status = "assigned"
                world.pending.append(ev.OfferTaken(action.call, action.task, action.agent))
            else:
                world.pending.append(ev.OfferLost(action.call, action.task, action.agent))
        elif isinstance(action, SubmitTransfer):
            self.transfer(action)
        elif isinstance(action, SubmitReturn):  # outside still, or taken back by the core's ring timeout
            assert self.world.tasks[action.task].status in ("outside", "queued", "offered"), action
            self.world.returns.add(action.task)
            self.world.pending.append(ev.Requeued(action.call, action.task, "q1"))
        elif isinstance(action, RequestCallback):
            world.tasks[action.task].status = "done"
            world.pending.append(ev.CallbackBooked(action.call))
        elif isinstance(action, Submit):
            self.submit(action.call, action.event)
        elif isinstance(action, EndCall):
            call.ended += 1
        elif isinstance(action, NotifyRefer):
            leg = world.legs[(action.call, action.leg)]
            assert leg.role is Role.AGENT and leg.status in ("answered", "referred"), leg  # it holds the call

    def transfer(self, action: SubmitTransfer) -> None:
        if action.joined:  # the caller is with the consulted party: the agent's task ends, handed or completed
            assert action.agent is not None
            self.complete(action.task, action.agent)
            return
        assert action.new_task is not None and action.new_task not in self.world.tasks
        self.world.moves[action.new_task] = action
        if action.to == "q2":
            self.world.pending.append(ev.Requeued(action.call, action.new_task, "q2"))
        else:
            self.world.pending.append(ev.Dialling(action.call, action.new_task, action.to))

    def deliver(self, event: ev.CallEvent, *, refused: bool = False, early: bool = False) -> None:
        """An answer comes: the world's core carries out what it answers (or its refusal) as it does."""
        world = self.world
        if isinstance(event, ev.Requeued | ev.Dialling) and event.task in world.moves:
            action = world.moves.pop(event.task)
            old = world.tasks[action.task]
            refer = action.call in world.referring
            world.referring.discard(action.call)
            if refused or old.status == "done":  # refused, or the core had ended the task meanwhile
                event = ev.TransferRefused(event.call, "queue_full")
            else:
                was = old.status
                self.move(action, old, "queued" if isinstance(event, ev.Requeued) else "outside", refer)
                if early:
                    self.decided_first(action, was, queued=isinstance(event, ev.Requeued))
        elif isinstance(event, ev.Requeued) and event.task in world.returns:
            world.returns.discard(event.task)
            task = world.tasks[event.task]
            if task.status != "outside":  # the core's ring timeout had taken it back: nothing to refuse
                refused = False
            elif refused:
                task.status = "done"
                event = ev.QueueRefused(event.call, event.task, "closed")
            else:
                task.status = "queued"
        elif refused:
            event = _other_answer(self, event)
        if isinstance(event, ev.OfferLost):  # a REFER sent as the phone answered ends with that answer
            world.referring.discard(event.call)
        if isinstance(event, ev.PortOpened):
            world.calls[event.call].port = "open"
        elif isinstance(event, ev.PortFailed):
            world.calls[event.call].port = "none"
        elif isinstance(event, ev.Queued | ev.Requeued):
            world.tasks[event.task].answered = True
        self.feed(event)

    def decided_first(self, action: SubmitTransfer, was: str, *, queued: bool) -> None:
        """The core's decisions about a transfer, before its answer: the old task's end when its agent has no
        wrap-up, and an offer of the new task."""
        assert action.new_task is not None
        if was == "assigned":  # the transfer ended the task: the caller goes on, to where the answer says
            ended = self.feed(ev.TaskEnded(action.call, action.task, "transferred"))
            assert not any(isinstance(a, ByeCaller | HangUpLeg) for a in ended), ended
        if queued:
            new = self.world.tasks[action.new_task]
            new.status, new.agent = "offered", "eve"
            actions = self.feed(ev.Offered(action.call, action.new_task, "eve"))
            refused = Submit(action.call, OfferRefused(action.new_task, "eve")) in actions
            kept = self.control.calls[action.call].deferred == Deferred(action.new_task, "eve")
            assert refused or kept, actions  # kept until the call waits as that task

    @precondition(lambda self: any(task.status == "outside" for task in self.world.tasks.values()))
    @rule(data=st.data())
    def the_core_gives_up_on_a_number(self, data: st.DataObject) -> None:
        """The outside number rang for the core's ring timeout: its task is back in its queue."""
        ringing = sorted(t for t, task in self.world.tasks.items() if task.status == "outside")
        task_id = data.draw(st.sampled_from(ringing))
        task = self.world.tasks[task_id]
        task.status = "queued"
        self.feed(ev.OutsideTimedOut(task.call, task_id, "q1"))

    def move(self, action: SubmitTransfer, old: Task, status: str, refer: bool) -> None:
        """The transfer carried out: the old task's part ends (its offer revoked), the new one waits or rings."""
        assert action.new_task is not None
        if old.status == "assigned":
            assert old.agent == action.agent, (old, action)
        elif old.status == "offered":
            assert old.agent is not None
            self.world.pending.append(ev.OfferEnded(action.call, action.task, old.agent))
        else:
            assert old.status == "queued", old
        old.status = "done"
        self.world.tasks[action.new_task] = Task(action.call, status, answered=True)
        if refer:  # it went through: the phone that sent REFER hangs up by itself
            for leg in self.legs("answered"):
                if leg.call == action.call and leg.role is Role.AGENT:
                    leg.status = "referred"

    def complete(self, task_id: str, agent: str) -> None:
        task = self.world.tasks[task_id]
        assert task.status == "assigned" and task.agent == agent, (task_id, task, agent)
        task.status = "done"

    def cancel(self, call: str, task_id: str) -> None:
        task = self.world.tasks[task_id]
        assert task.status in ("queued", "offered", "outside"), (task_id, task)
        if task.status == "offered":  # the offer is revoked: its decision follows
            assert task.agent is not None
            self.world.pending.append(ev.OfferEnded(call, task_id, task.agent))
        task.status = "done"

    def submit(self, call: str, event: object) -> None:
        if isinstance(event, TaskCancelled):
            self.cancel(call, event.task_id)
        elif isinstance(event, TaskCompleted):
            self.complete(event.task_id, event.agent_id)
        elif isinstance(event, OfferRefused):
            task = self.world.tasks[event.task_id]
            if task.status == "offered" and task.agent == event.agent_id:
                task.status, task.agent = "queued", None
        elif isinstance(event, OutsideAnswered):
            task = self.world.tasks[event.task_id]
            assert task.status in ("outside", "queued", "offered"), (event, task)  # the core's timeout may be first
            if task.status == "offered":  # its offer revoked: the caller talks outside
                assert task.agent is not None
                self.world.pending.append(ev.OfferEnded(call, event.task_id, task.agent))
            task.status = "done"
        else:
            assert isinstance(event, TaskNoted)

    def live_calls(self) -> list[WorldCall]:
        return [call for call in self.world.calls.values() if not call.hung_up]

    def legs(self, *statuses: str) -> list[WorldLeg]:
        return [leg for leg in self.world.legs.values() if leg.status in statuses]

    # ---------------------------------------------------------------------------------- rules

    @precondition(lambda self: len(self.world.calls) < 3)
    @rule(flow=st.booleans())
    def a_call_arrives(self, flow: bool) -> None:
        self.count += 1
        call = f"c{self.count}@trunk"
        self.world.calls[call] = WorldCall(call)
        task = task_id_for(call)
        self.feed(ev.InviteArrived(call, task, flow="main") if flow else ev.InviteArrived(call, task, "q1"))

    @precondition(lambda self: self.world.pending)
    @rule(data=st.data(), other=st.booleans(), early=st.booleans())
    def an_answer_comes(self, data: st.DataObject, other: bool, early: bool) -> None:
        event = self.world.pending.pop(data.draw(st.integers(0, len(self.world.pending) - 1)))
        # other: the other answer the same request could have had; early: the core's decisions about what it
        # answers come first (with Redis, the decision feed may be ahead of the submission's answer)
        self.deliver(event, refused=other, early=early)

    @precondition(lambda self: self.waiting_calls())
    @rule(data=st.data(), agent=st.sampled_from(AGENTS))
    def an_agent_takes_a_waiting_call(self, data: st.DataObject, agent: str) -> None:
        """Offered, rung, answered and accepted in one step: so that the runs reach talking calls, and what
        is asked of them (transfers, consultations), as often as the rest."""
        call = data.draw(st.sampled_from(self.waiting_calls()))
        record = self.control.calls[call]
        task = self.world.tasks[record.task]
        task.status, task.agent = "offered", agent
        self.feed(ev.Offered(call, record.task, agent))
        leg = next(leg for leg in self.legs("ringing") if leg.call == call and leg.role is Role.AGENT)
        leg.status = "answered"
        self.feed(ev.LegAnswered(call, leg.id))
        taken = next(p for p in self.world.pending if isinstance(p, ev.OfferTaken) and p.call == call)
        self.world.pending.remove(taken)
        self.feed(taken)

    def waiting_calls(self) -> list[str]:
        """Calls waiting in queue with nothing ringing for them, whose task the core holds as queued."""
        return [
            call.id for call in self.live_calls()
            if (record := self.control.calls[call.id]).state is CallState.WAITING and record.agent_leg is None
            and record.deferred is None and record.overflow is None
            and self.world.tasks.get(record.task, Task("")).status == "queued"
        ]  # fmt: skip

    @precondition(lambda self: any(task.status == "queued" for task in self.world.tasks.values()))
    @rule(data=st.data(), agent=st.sampled_from(AGENTS))
    def the_core_offers(self, data: st.DataObject, agent: str) -> None:
        queued = sorted(task_id for task_id, task in self.world.tasks.items() if task.status == "queued")
        task_id = data.draw(st.sampled_from(queued))
        task = self.world.tasks[task_id]
        task.status, task.agent = "offered", agent
        actions = self.feed(ev.Offered(task.call, task_id, agent))
        rung = any(isinstance(a, PlaceLeg) and a.role is Role.AGENT and a.target == agent for a in actions)
        refused = Submit(task.call, OfferRefused(task_id, agent)) in actions
        kept = self.control.calls[task.call].deferred == Deferred(task_id, agent)
        assert rung or refused or kept, f"offer of {task_id} to {agent} lost: {actions}"

    @precondition(lambda self: any(task.status in ("queued", "offered") for task in self.world.tasks.values()))
    @rule(data=st.data(), ends=st.booleans())
    def the_core_ends_an_offer_or_a_task(self, data: st.DataObject, ends: bool) -> None:
        waiting = sorted(t for t, task in self.world.tasks.items() if task.status in ("queued", "offered"))
        if ends:
            waiting = [t for t in waiting if self.world.tasks[t].answered]
        if not waiting:
            return
        task_id = data.draw(st.sampled_from(waiting))
        task = self.world.tasks[task_id]
        if task.status == "offered" and not ends:
            agent, task.status, task.agent = task.agent, "queued", None
            assert agent is not None
            self.feed(ev.OfferEnded(task.call, task_id, agent))
        elif ends:
            task.status = "done"
            self.feed(ev.TaskEnded(task.call, task_id, "max_wait"))

    @precondition(lambda self: self.legs("ringing"))
    @rule(data=st.data(), answer=st.sampled_from([200, 486, 480, 503, 408]))
    def a_ringing_leg_answers(self, data: st.DataObject, answer: int) -> None:
        leg = data.draw(st.sampled_from(self.legs("ringing")))
        if answer == 200:
            leg.status = "answered"
            self.feed(ev.LegAnswered(leg.call, leg.id))
        else:
            leg.status = "ended"
            self.feed(ev.LegRefused(leg.call, leg.id, answer))

    @precondition(lambda self: self.legs("answered"))
    @rule(data=st.data(), hold=st.sampled_from([None, True, False]))
    def an_answered_leg_hangs_up_or_holds(self, data: st.DataObject, hold: bool | None) -> None:
        leg = data.draw(st.sampled_from(self.legs("answered")))
        if hold is None:
            leg.status = "ended"
            self.feed(ev.LegHungUp(leg.call, leg.id))
        else:
            self.feed(ev.LegHeld(leg.call, leg.id, hold))

    @precondition(lambda self: self.legs("referred"))
    @rule(data=st.data())
    def a_referred_phone_hangs_up(self, data: st.DataObject) -> None:
        leg = data.draw(st.sampled_from(self.legs("referred")))
        leg.status = "ended"
        assert self.control.handle(ev.LegHungUp(leg.call, leg.id), 0.0) == []  # its part was over

    @precondition(lambda self: self.legs("gone"))
    @rule(data=st.data(), answered=st.booleans())
    def a_let_go_leg_answers_late(self, data: st.DataObject, answered: bool) -> None:
        leg = data.draw(st.sampled_from(self.legs("gone")))
        late = ev.LegAnswered(leg.call, leg.id) if answered else ev.LegRefused(leg.call, leg.id, 487)
        assert self.control.handle(late, 0.0) == []

    @precondition(lambda self: self.live_calls())
    @rule(data=st.data(), how=st.sampled_from(["bye", "no_ack", "media", "key", "reoffer"]))
    def the_caller_acts(self, data: st.DataObject, how: str) -> None:
        call = data.draw(st.sampled_from(self.live_calls()))
        if how == "key":
            if call.port == "open":
                self.feed(ev.Key(call.id, "caller", "5"))
            return
        if how == "reoffer":  # a re-INVITE or UPDATE: answered once, whatever the state
            actions = self.feed(ev.CallerReoffered(call.id, "r2"))
            assert len([a for a in actions if isinstance(a, RefreshSession | RejectRequest)]) == 1, actions
            return
        call.hung_up = True
        if not call.answered:
            self.feed(ev.CallerCancelled(call.id))
        elif how == "bye":
            self.feed(ev.CallerHungUp(call.id))
        else:
            self.feed(ev.NoAck(call.id) if how == "no_ack" else ev.MediaLost(call.id, "media_timeout", "caller"))

    @precondition(lambda self: self.live_calls())
    @rule(data=st.data(), request=st.sampled_from(["queue", "number", "consult", "complete", "cancel"]))
    def someone_asks_a_transfer(self, data: st.DataObject, request: str) -> None:
        call = data.draw(st.sampled_from(self.live_calls())).id
        match request:
            case "queue" if data.draw(st.booleans()):  # by the agent's phone (REFER)
                record = self.control.calls[call]
                leg = record.agent_leg.id if record.agent_leg is not None else "1"
                actions = self.feed(ev.ReferAsked(call, leg, "r1", "q2"))
                answers = [a for a in actions if isinstance(a, AcceptRefer | RejectRequest)]
                assert len(answers) == 1, actions  # every REFER is answered, once
                if isinstance(answers[0], AcceptRefer):  # taken: asked of the core now, or once it took the answer
                    self.world.referring.add(call)
            case "queue":
                self.feed(ev.TransferAsked(call, "q2"))
            case "number":
                self.feed(ev.TransferAsked(call, "0612345678"))
            case "consult":
                outside = data.draw(st.booleans())  # a colleague's phone, or the office's number
                self.feed(
                    ev.ConsultAsked(call, "0384000000" if outside else data.draw(st.sampled_from(AGENTS)), outside)
                )
            case "complete":
                self.feed(ev.ConsultCompleted(call))
            case _:
                self.feed(ev.ConsultCancelled(call))

    @precondition(lambda self: any(call.flow for call in self.live_calls()))
    @rule(data=st.data(), what=st.sampled_from(["queue", "overflow", "out", "callback", "transfer", "hang_up"]))
    def the_flow_acts(self, data: st.DataObject, what: str) -> None:
        call = data.draw(st.sampled_from([call for call in self.live_calls() if call.flow])).id
        match what:
            case "queue":
                self.feed(ev.FlowQueue(call, "q1", {"topic": "tva"}))
            case "overflow":
                self.feed(ev.FlowOverflow(call, "q2"))
            case "out":
                self.feed(ev.FlowOverflow(call, "0612345678"))
            case "callback":
                self.feed(ev.FlowCallback(call, "0612345678", f"{call}/callback"))
            case "transfer":
                self.feed(ev.FlowTransfer(call, "0612345678"))
            case _:
                self.world.calls[call].hung_up = True
                self.feed(ev.FlowHangUp(call, "goodbye"))

    @rule()
    def nothing_happens(self) -> None:
        """(So that a run in which every call ended and every answer came can go on.)"""

    # ----------------------------------------------------------------------------- invariants

    @invariant()
    def at_most_one_agent_phone_per_call(self) -> None:
        for call in self.world.calls:
            agent_legs = [
                leg for leg in self.legs("ringing", "answered") if leg.call == call and leg.role is Role.AGENT
            ]
            assert len(agent_legs) <= 1, agent_legs

    @invariant()
    def no_offer_is_left_to_time_out(self) -> None:
        """An offered task has its agent's phone ringing or answered, or is kept, or its answer is on its way."""
        for task_id, task in self.world.tasks.items():
            if task.status != "offered":
                continue
            record = self.control.calls[task.call]
            ringing = any(
                leg.call == task.call and leg.role is Role.AGENT and leg.target == task.agent
                for leg in self.legs("ringing", "answered")
            )
            answering = record.state is CallState.ANSWERING or any(
                isinstance(p, ev.OfferTaken | ev.OfferLost) and p.call == task.call for p in self.world.pending
            )
            kept = record.deferred == Deferred(task_id, task.agent or "")
            assert ringing or answering or kept, f"{task_id} offered to {task.agent}, lost"

    def teardown(self) -> None:
        """Every caller hangs up, every referred phone too, every answer comes: nothing is left."""
        for leg in self.legs("referred"):
            leg.status = "ended"
            assert self.control.handle(ev.LegHungUp(leg.call, leg.id), 0.0) == []
        for call in self.live_calls():
            call.hung_up = True
            self.feed(ev.CallerHungUp(call.id) if call.answered else ev.CallerCancelled(call.id))
        while self.world.pending:
            self.deliver(self.world.pending.pop(0))
        for record in self.control.calls.values():
            assert record.state is CallState.ENDED, record
            assert record.deferred is None, record
        assert not self.legs("ringing", "answered"), self.legs("ringing", "answered")
        for call in self.world.calls.values():
            assert call.port in ("none", "closed"), call
            assert call.ended == 1, call
            assert not call.flow, call
        assert all(task.status == "done" for task in self.world.tasks.values()), self.world.tasks


def _other_answer(machine: CallControlMachine, event: ev.CallEvent) -> ev.CallEvent:
    """The refusal a request could have met instead of its success (the world's state follows)."""
    world = machine.world
    if isinstance(event, ev.PortOpened):
        return ev.PortFailed(event.call, 503)
    if isinstance(event, ev.Queued) and world.tasks[event.task].status == "queued":
        world.tasks[event.task].status = "done"
        return ev.QueueRefused(event.call, event.task, "queue_full")
    if isinstance(event, ev.CallbackBooked):
        record = machine.control.calls[event.call]
        world.tasks[record.task].status = "queued"  # not booked: the task waits on
        return ev.CallbackRefused(event.call)
    return event


CallControlMachine.TestCase.settings = settings(
    max_examples=1000, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestCallControl = CallControlMachine.TestCase

"""Transfers in one event (acd/routing/transfers.py): to a queue, to an outside number, and refused ones."""

from __future__ import annotations

import re

import pytest

from acd.decisions import Kind
from acd.errors import DuplicateTask, NoRoute, TransferRefused, TransitionError
from acd.events import (
    AgentLoggedIn,
    ClockTicked,
    NodeLost,
    OfferAccepted,
    OutsideAnswered,
    OutsideFailed,
    TaskArrived,
    TaskCancelled,
    TaskCompleted,
    TaskTransferred,
    WrapUpEnded,
)
from acd.model import Channel, Outcome, Place
from tests.acd import builders
from tests.acd.stores import RouterFactory, state

T0 = builders.MONDAY_9AM
SIE = "+33559000000"


def kinds(decisions: list) -> list[str]:
    return [d.kind.value for d in decisions if d.kind is not Kind.AGENT_STATE]


def tasks_only(decisions: list) -> list:
    """The decisions about tasks (agents' state changes left out)."""
    return [d for d in decisions if d.kind is not Kind.AGENT_STATE]


def config(**overrides: object) -> object:
    return builders.deployment(numbers={"0559000000": "pau-tva"}, sip_trunk="127.0.0.1:5070", **overrides)


def arrive(router: object, task_id: str, at: float = T0, queue: str = "lons-tva") -> None:
    attributes = {"department": "69", "siren": "732829320"}
    router.process(TaskArrived(task_id, Channel.VOICE, queue, attributes=attributes, required_skills={"tva": 2}), at)


def test_a_waiting_task_is_handed_to_another_queue_keeping_its_place(make_router: RouterFactory) -> None:
    router = make_router(config())
    arrive(router, "t", T0)
    out = router.process(TaskTransferred("t", "pau-tva", "t2", reason="max_wait"), T0 + 40)
    assert kinds(out) == ["task_transferred", "task_queued"]
    assert (out[0].task, out[0].queue, out[0].reason, dict(out[0].data)) == (
        "t",
        "lons-tva",
        "max_wait",
        {"to": "pau-tva", "new_task": "t2"},
    )
    assert (out[1].task, out[1].queue, out[1].data["transferred_from"]) == ("t2", "pau-tva", "t")
    old, new = router.store.task("t"), router.store.task("t2")
    assert (old.place, old.outcome, old.ended_at) == (Place.ENDED, Outcome.TRANSFERRED, T0 + 40)
    assert router.store.waiting("lons-tva") == []
    assert (new.place, new.queue, new.channel, new.entered_at, new.queued_at) == (
        Place.QUEUED,
        "pau-tva",
        Channel.VOICE,
        T0,
        T0 + 40,
    )
    assert new.attributes == {"department": "69", "siren": "732829320", "transferred_from": "t"}
    assert new.required_skills == {"tva": 2}
    assert [key[3] for key in router.store.waiting("pau-tva")] == ["t2"]


def test_the_transferred_task_goes_before_those_that_came_after_it(make_router: RouterFactory) -> None:
    router = make_router(config())
    arrive(router, "early", T0)
    arrive(router, "late", T0 + 10, queue="pau-tva")
    router.process(TaskTransferred("early", "0559000000", "moved"), T0 + 20)  # a number leading to pau-tva
    assert [key[3] for key in router.store.waiting("pau-tva")] == ["moved", "late"]


def test_an_offered_task_is_transferred_and_its_offer_revoked(make_router: RouterFactory) -> None:
    router = make_router(config())
    router.process(AgentLoggedIn("ana"), T0)
    arrive(router, "t", T0)
    assert router.store.task("t").place is Place.RESERVED
    out = tasks_only(router.process(TaskTransferred("t", "pau-tva", "t2"), T0 + 5))
    assert kinds(out) == ["offer_revoked", "task_transferred", "task_queued"]
    assert (out[0].agent, out[0].reason) == ("ana", "transferred")
    ana = router.store.agent("ana")
    assert (ana.reservation, ana.state.value) == (None, "available")  # ana does not serve pau-tva at step 0
    assert router.store.task("t2").place is Place.QUEUED


def test_an_answered_task_is_transferred_and_its_agent_wraps_up(make_router: RouterFactory) -> None:
    router = make_router(config())
    router.process(AgentLoggedIn("ana"), T0)
    router.process(AgentLoggedIn("fay"), T0)  # serves pau-tva
    arrive(router, "t", T0)
    router.process(OfferAccepted("t", "ana"), T0 + 2)
    out = tasks_only(router.process(TaskTransferred("t", "pau-tva", "t2"), T0 + 62))
    assert kinds(out) == ["task_transferred", "task_completed", "task_queued", "offered"]
    assert out[1].talk == 60
    assert (out[3].task, out[3].agent) == ("t2", "fay")
    old, ana = router.store.task("t"), router.store.agent("ana")
    assert (old.place, old.outcome, old.transferred_to) == (Place.WRAP_UP, None, "pau-tva")
    assert (ana.state.value, ana.wrap_ups) == ("wrap_up", {"t"})
    out = tasks_only(router.process(WrapUpEnded("t", "ana"), T0 + 70))
    assert kinds(out) == ["task_ended"]
    assert (out[0].reason, out[0].talk) == ("transferred", 68)
    assert router.store.task("t").outcome is Outcome.TRANSFERRED


def test_an_answered_task_keeps_the_wait_before_its_answer_not_its_time_with_the_agent(
    make_router: RouterFactory,
) -> None:
    """The caller waited 2 s, then talked 60 s: in the target queue it counts as having waited 2 s, behind a
    caller who has waited longer there, and its answer there counts 2 s plus the wait there."""
    router = make_router(config())
    router.process(AgentLoggedIn("ana"), T0)
    arrive(router, "t", T0)
    router.process(OfferAccepted("t", "ana"), T0 + 2)
    arrive(router, "waiting", T0 + 30, queue="pau-tva")
    router.process(TaskTransferred("t", "pau-tva", "t2"), T0 + 62)
    assert router.store.task("t2").entered_at == T0 + 60
    assert [key[3] for key in router.store.waiting("pau-tva")] == ["waiting", "t2"]
    router.process(AgentLoggedIn("fay"), T0 + 70)  # serves pau-tva: offered "waiting" first
    router.process(OfferAccepted("waiting", "fay"), T0 + 71)
    router.process(TaskCompleted("waiting", "fay"), T0 + 80)  # no wrap-up in pau-tva: t2 is offered
    out = router.process(OfferAccepted("t2", "fay"), T0 + 81)
    assert [(d.task, d.wait) for d in out if d.kind is Kind.OFFER_ACCEPTED] == [("t2", 21)]


def test_a_completed_task_still_ends_completed(make_router: RouterFactory) -> None:
    router = make_router(config())
    router.process(AgentLoggedIn("ana"), T0)
    arrive(router, "t", T0)
    router.process(OfferAccepted("t", "ana"), T0 + 2)
    router.process(TaskCompleted("t", "ana"), T0 + 10)
    out = router.process(ClockTicked(), T0 + 40)
    assert [(d.kind.value, d.reason) for d in out if d.kind is Kind.TASK_ENDED] == [("task_ended", "completed")]


def test_an_attribute_named_like_the_transfer_does_not_make_a_task_end_transferred(make_router: RouterFactory) -> None:
    router = make_router(config())
    router.process(AgentLoggedIn("ana"), T0)
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva", attributes={"transferred_to": "pau-tva"}), T0)
    router.process(OfferAccepted("t", "ana"), T0 + 2)
    router.process(TaskCompleted("t", "ana"), T0 + 10)
    out = router.process(ClockTicked(), T0 + 40)
    assert [(d.kind.value, d.reason) for d in out if d.kind is Kind.TASK_ENDED] == [("task_ended", "completed")]


# ------------------------------------------------------------------------------------------ refused


def refused(router: object, event: TaskTransferred, at: float, error: type[Exception], message: str) -> None:
    """The transfer is refused with `error` and nothing changes: the caller's task stays with its agent."""
    router.process(ClockTicked(), at)  # timers due by then fire first, apart from the refusal
    before = state(router.store)
    applied = router.apply(event, at)
    assert isinstance(applied.refusal, error) and re.search(message, applied.refusal.message), applied.refusal
    assert applied.decisions == []
    assert state(router.store) == before


def test_a_transfer_to_a_closed_queue_is_refused_and_the_agent_keeps_the_call(make_router: RouterFactory) -> None:
    router = make_router(config(pau_tva_hours="08:00-09:00"))
    router.process(AgentLoggedIn("ana"), T0)
    arrive(router, "t", T0 + 1800)
    router.process(OfferAccepted("t", "ana"), T0 + 1802)
    event = TaskTransferred("t", "pau-tva", "t2")
    refused(router, event, T0 + 1810, TransferRefused, "cannot transfer task 't' to queue 'pau-tva': outside_hours")
    with pytest.raises(TransferRefused) as caught:
        router.process(event, T0 + 1810)
    assert caught.value.details == {"task": "t", "to": "pau-tva", "reason": "closed"}
    assert (router.store.task("t").place, router.store.agent("ana").tasks) == (Place.ASSIGNED, {"t"})
    assert router.store.task("t2") is None


def test_a_transfer_to_a_full_queue_is_refused(make_router: RouterFactory) -> None:
    router = make_router(config())
    for i in range(6):  # pau-tva takes 6 and has nowhere else to send the seventh
        arrive(router, f"p{i}", T0, queue="pau-tva")
    arrive(router, "t", T0)
    refused(router, TaskTransferred("t", "pau-tva", "t2"), T0 + 5, TransferRefused, "queue_full")
    assert router.store.task("t").place is Place.QUEUED


def test_a_transfer_within_a_full_queue_does_not_count_the_caller_twice(make_router: RouterFactory) -> None:
    router = make_router(config())
    for i in range(6):
        arrive(router, f"p{i}", T0, queue="pau-tva")
    out = router.process(TaskTransferred("p5", "pau-tva", "again"), T0 + 5)
    assert kinds(out) == ["task_transferred", "task_queued"]


def test_a_queue_that_does_not_take_the_channel_refuses_the_transfer(make_router: RouterFactory) -> None:
    router = make_router(config())
    router.process(TaskArrived("c", Channel.CHAT, "lons-chat"), T0)
    refused(router, TaskTransferred("c", "pau-tva", "c2"), T0 + 5, TransferRefused, "does not take chat tasks")
    refused(router, TaskTransferred("c", SIE, "c2"), T0 + 5, TransferRefused, "a chat task cannot ring a number")


def test_unknown_targets_duplicate_ids_and_wrong_places_are_refused(make_router: RouterFactory) -> None:
    router = make_router(builders.deployment())  # no trunk
    arrive(router, "t", T0)
    arrive(router, "u", T0)
    refused(router, TaskTransferred("t", "nowhere", "t2"), T0 + 1, NoRoute, "'nowhere' is neither a queue")
    refused(router, TaskTransferred("t", SIE, "t2"), T0 + 1, NoRoute, "no trunk to call the outside number")
    refused(router, TaskTransferred("t", "pau-tva", "u"), T0 + 1, DuplicateTask, "task 'u' exists already")
    router.process(TaskCancelled("u"), T0 + 2)
    refused(
        router,
        TaskTransferred("u", "pau-tva", "u2"),
        T0 + 3,
        TransitionError,
        r"cannot transfer task 'u': it is ended \(TaskTransferred\)",
    )


# ------------------------------------------------------------------------------------------ outside


def dialled(router: object, at: float = T0 + 30) -> list:
    arrive(router, "t", T0)
    return router.process(TaskTransferred("t", SIE, "out", reason="sie"), at)


def test_a_task_handed_to_an_outside_number_rings_it_then_ends_answered(make_router: RouterFactory) -> None:
    router = make_router(config())
    out = dialled(router)
    assert kinds(out) == ["task_transferred", "task_dialling"]
    assert dict(out[0].data) == {"to": SIE, "new_task": "out"}
    assert (out[1].task, out[1].queue, out[1].reason, dict(out[1].data)) == (
        "out",
        "lons-tva",
        "sie",
        {"number": SIE, "transferred_from": "t"},
    )
    task = router.store.task("out")
    assert (task.place, task.queue, task.entered_at, task.attributes["outside_number"]) == (
        Place.OUTSIDE,
        "lons-tva",
        T0,
        SIE,
    )
    out = router.process(OutsideAnswered("out"), T0 + 45)
    assert [(d.kind.value, d.reason, d.wait) for d in out] == [("task_ended", "answered_outside", 45)]
    assert router.store.task("out").outcome is Outcome.ANSWERED_OUTSIDE
    assert router.process(ClockTicked(), T0 + 600) == []  # its ringing timer is stale


def test_an_outside_failure_sends_the_task_back_to_its_queue_with_its_place(make_router: RouterFactory) -> None:
    router = make_router(config())
    dialled(router)
    arrive(router, "later", T0 + 40)
    out = router.process(OutsideFailed("out", 486), T0 + 50)
    assert [(d.kind.value, d.task, dict(d.data)) for d in out] == [
        ("task_queued", "out", {"priority": 0, "outside": "outside_failed", "status": 486})
    ]
    task = router.store.task("out")
    assert (task.place, task.entered_at, task.queued_at) == (Place.QUEUED, T0, T0 + 50)
    assert [key[3] for key in router.store.waiting("lons-tva")] == ["out", "later"]


def test_an_outside_failure_when_the_queue_closed_meanwhile_rejects_the_task(make_router: RouterFactory) -> None:
    router = make_router(config(hours="08:00-09:01"))
    dialled(router)
    out = router.process(OutsideFailed("out", 480), T0 + 120)
    assert [(d.kind.value, d.reason) for d in out] == [("task_rejected", "outside_hours")]
    assert router.store.task("out").outcome is Outcome.REJECTED_CLOSED


def test_an_outside_number_nobody_reports_on_gives_the_task_back(make_router: RouterFactory) -> None:
    router = make_router(config())
    dialled(router)
    assert router.process(ClockTicked(), T0 + 149) == []
    out = router.process(ClockTicked(), T0 + 150)  # 120 s after the dial
    assert [(d.kind.value, d.data.get("outside")) for d in out] == [("task_queued", "outside_timeout")]
    assert router.store.task("out").place is Place.QUEUED


def test_the_caller_hanging_up_while_the_number_rings_abandons(make_router: RouterFactory) -> None:
    router = make_router(config())
    dialled(router)
    out = router.process(TaskCancelled("out"), T0 + 40)
    assert [(d.kind.value, d.reason, dict(d.data)) for d in out] == [("task_ended", "abandoned", {"outside": SIE})]
    assert router.process(ClockTicked(), T0 + 600) == []
    refused(router, OutsideFailed("out", 486), T0 + 600, TransitionError, r"it is ended \(OutsideFailed\)")


def test_outside_events_on_a_task_not_ringing_outside_are_refused(make_router: RouterFactory) -> None:
    router = make_router(config())
    arrive(router, "t", T0)
    refused(router, OutsideAnswered("t"), T0, TransitionError, r"task 't' rings no outside number: it is queued")
    refused(router, OutsideFailed("t", 486), T0, TransitionError, r"task 't' rings no outside number: it is queued")


def ringing_outside(make_router: RouterFactory) -> object:
    """Ana answered "t" and handed it to the office's number: "out" rings it from T0 + 30."""
    router = make_router(config())
    router.process(AgentLoggedIn("ana"), T0)
    arrive(router, "t", T0)
    router.process(OfferAccepted("t", "ana"), T0 + 1)
    router.process(TaskTransferred("t", SIE, "out"), T0 + 30)
    return router


def test_a_number_answering_after_its_ring_timeout_ends_the_task_and_revokes_its_offer(
    make_router: RouterFactory,
) -> None:
    router = ringing_outside(make_router)
    router.process(AgentLoggedIn("fay"), T0 + 31)  # ready: the task is offered to her once it comes back
    # The number answers just as its ring timeout fires: the timer takes the task back first, the answer then
    # ends it and revokes its offer; nobody is offered a caller who talks outside.
    out = router.process(OutsideAnswered("out"), T0 + 30 + 121)
    kinds = [(d.kind.value, d.reason) for d in out if d.task == "out"]
    assert kinds[0] == ("task_queued", None) and ("offer_revoked", "answered_outside") in kinds, kinds
    assert router.store.task("out").outcome is Outcome.ANSWERED_OUTSIDE
    assert router.store.agent("fay").reservation is None


def test_a_refusal_heard_after_the_ring_timeout_leaves_the_task_back_in_its_queue(make_router: RouterFactory) -> None:
    router = ringing_outside(make_router)
    out = router.process(OutsideFailed("out", 480), T0 + 30 + 121)  # the timer took it back first
    kinds = [d.kind.value for d in out if d.task == "out"]
    assert kinds.count("task_queued") == 1 and kinds[0] == "task_queued", kinds  # once, by the timer
    assert router.store.task("out").place in (Place.QUEUED, Place.RESERVED)  # waiting, or offered to ana again


def test_a_lost_node_leaves_an_outside_task_to_its_ringing_timer(make_router: RouterFactory) -> None:
    router = make_router(config())
    router.process(AgentLoggedIn("ana", node="n1"), T0)
    router.process(AgentLoggedIn("fay", node="n1"), T0)
    arrive(router, "t", T0)
    router.process(OfferAccepted("t", "ana"), T0 + 1)
    router.process(TaskTransferred("t", SIE, "out"), T0 + 30)
    router.process(NodeLost("n1"), T0 + 31)
    assert router.store.task("out").place is Place.OUTSIDE  # tasks hold no node: nothing lost with it
    out = router.process(ClockTicked(), T0 + 150)
    assert [d.kind.value for d in out if d.task == "out"] == ["task_queued"]  # nobody is ready: it waits
    assert [key[3] for key in router.store.waiting("lons-tva")] == ["out"]


def test_a_refused_transfer_of_an_offered_task_keeps_the_offer(make_router: RouterFactory) -> None:
    router = make_router(config(pau_tva_hours="08:00-09:00"))
    router.process(AgentLoggedIn("ana"), T0)
    arrive(router, "t", T0 + 1800)
    assert router.store.agent("ana").reservation == "t"
    refused(router, TaskTransferred("t", "0559000000", "t2"), T0 + 1805, TransferRefused, "outside_hours")
    assert (router.store.task("t").place, router.store.task("t").agent) == (Place.RESERVED, "ana")

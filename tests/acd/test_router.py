"""The routing core on its pure interface: events in, decisions out, on a fake clock."""

from __future__ import annotations

import pytest

from acd import router as router_module
from acd.decisions import Kind
from acd.errors import InvalidEvent, TransitionError, UnknownAgent, UnknownTask
from acd.events import (
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    ClockTicked,
    HeadsetChanged,
    NodeLost,
    OfferAccepted,
    PhoneChanged,
    TaskArrived,
    TaskCancelled,
    TaskCompleted,
    TaskNoted,
    WrapUpEnded,
)
from acd.model import AgentState, Channel, Place
from tests.acd import builders
from tests.acd.stores import RouterFactory, state

T0 = builders.MONDAY_9AM


def kinds(decisions: list) -> list[str]:
    return [d.kind.value for d in decisions]


def test_missed_offers_make_the_agent_not_ready(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(AgentLoggedIn("ana"), T0)
    router.process(TaskArrived("t1", Channel.VOICE, "lons-tva"), T0)
    router.process(TaskArrived("t2", Channel.VOICE, "lons-tva"), T0)
    out = router.process(ClockTicked(), T0 + 15)  # first offer times out, the second task is offered
    assert [k for k in kinds(out) if k != "agent_state"] == ["offer_timed_out", "offered"]
    out = router.process(ClockTicked(), T0 + 30)
    assert router.store.agent("ana").state.value == "not_ready"
    assert router.store.agent("ana").reason == "missed_offers"
    assert [router.store.task(t).place for t in ("t1", "t2")] == [Place.QUEUED, Place.QUEUED]
    assert router.store.waiting("lons-tva")[0][3] == "t1"  # back with its place


def test_three_chats_fill_an_agent_and_a_voice_call_is_not_offered_on_top(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(AgentLoggedIn("ana"), T0)
    for i in range(4):
        for d in router.process(TaskArrived(f"c{i}", Channel.CHAT, "lons-chat"), T0 + i):
            if d.kind is Kind.OFFERED:
                router.process(OfferAccepted(d.task, d.agent), T0 + i)
    assert router.store.agent("ana").tasks == {"c0", "c1", "c2"}
    assert router.store.task("c3").place is Place.QUEUED
    router.process(TaskArrived("v1", Channel.VOICE, "lons-tva"), T0 + 5)
    assert router.store.task("v1").place is Place.QUEUED


def test_closed_queue_rejects_live_channels_and_keeps_emails(make_router: RouterFactory) -> None:
    router = make_router(builders.deployment(hours="08:00-09:00"))
    out = router.process(TaskArrived("v", Channel.VOICE, "lons-tva"), T0 + 3600)
    assert kinds(out) == ["task_rejected"] and out[0].reason == "outside_hours"
    router.process(TaskArrived("m", Channel.EMAIL, "cfe-email"), T0 + 3600)
    assert router.store.task("m").place is Place.QUEUED


def test_max_wait_moves_the_task_to_the_other_centre_keeping_its_entry_time(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva"), T0)
    out = router.process(ClockTicked(), T0 + 600)
    assert "task_moved" in kinds(out)
    task = router.store.task("t")
    assert (task.queue, task.entered_at, task.queued_at, task.step) == ("pau-tva", T0, T0 + 600, 0)


def test_aging_raises_priority_up_to_its_maximum(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(TaskArrived("old", Channel.VOICE, "pau-tva"), T0)
    router.process(TaskArrived("vip", Channel.VOICE, "pau-tva", priority=2), T0 + 179)
    assert router.store.waiting("pau-tva")[0][3] == "vip"
    router.process(ClockTicked(), T0 + 180)  # two rounds of 90 s: old is at priority 2, and came first
    assert router.store.waiting("pau-tva")[0][3] == "old"
    router.process(ClockTicked(), T0 + 10_000)
    assert (router.store.task("old").aging, router.store.task("vip").aging) == (3, 3)


def test_scheduled_call_back_enters_its_queue_at_its_time(make_router: RouterFactory) -> None:
    router = make_router()
    out = router.process(TaskArrived("cb", Channel.CALLBACK, "lons-tva", not_before=T0 + 3600), T0)
    assert kinds(out) == ["task_scheduled"]
    router.process(ClockTicked(), T0 + 3599)
    assert router.store.task("cb").place is Place.SCHEDULED
    router.process(ClockTicked(), T0 + 3600)
    assert router.store.task("cb").place is Place.QUEUED


def test_overflow_step_reaches_the_other_centre(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(AgentLoggedIn("gus"), T0)  # Pau, tva 2: only from the step that adds Pau at level 1
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva"), T0)
    assert router.store.task("t").place is Place.QUEUED
    out = router.process(ClockTicked(), T0 + 180)
    assert ("offered", "gus") in [(d.kind.value, d.agent) for d in out]


def test_abandon_records_the_wait_and_wrong_transitions_name_the_state(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva"), T0)
    out = router.process(TaskCancelled("t"), T0 + 42)
    assert out[0].kind is Kind.TASK_ENDED and out[0].reason == "abandoned" and out[0].wait == 42
    with pytest.raises(TransitionError, match="cannot cancel task 't': it is ended"):
        router.process(TaskCancelled("t"), T0 + 43)


def test_a_lost_node_gives_back_its_agents_offers_with_their_place(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(AgentLoggedIn("ana", node="n2"), T0)
    router.process(AgentLoggedIn("dan", ready=False, node="n1"), T0)
    router.process(TaskArrived("t1", Channel.VOICE, "lons-tva"), T0)
    router.process(TaskArrived("t2", Channel.VOICE, "lons-tva"), T0 + 1)
    out = router.process(NodeLost("n2"), T0 + 5)
    assert ("offer_revoked", "t1", "node_lost") in [(d.kind.value, d.task, d.reason) for d in out]
    ana = router.store.agent("ana")
    assert (ana.state.value, ana.reason, ana.node, ana.missed_offers) == ("not_ready", "node_lost", None, 0)
    assert [key[3] for key in router.store.waiting("lons-tva")] == ["t1", "t2"]  # t1 kept its place
    router.process(AgentReady("dan", node="n1"), T0 + 6)
    assert router.store.task("t1").agent == "dan"
    assert router.process(NodeLost("n2"), T0 + 7) == []  # the second survivor to notice finds nothing to do


def test_an_ended_task_leaves_the_live_state_after_its_retention(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva"), T0)
    router.process(TaskCancelled("t"), T0 + 10)
    router.process(ClockTicked(), T0 + 10 + 3599)
    assert router.store.task("t").place is Place.ENDED  # still readable by id for an hour
    router.process(ClockTicked(), T0 + 10 + 3600)
    assert router.store.task("t") is None
    assert router.store.timers() == []


def test_a_tick_fires_at_most_its_share_of_due_timers(make_router: RouterFactory) -> None:
    router = make_router()
    for i in range(5):
        router.process(TaskArrived(f"t{i}", Channel.VOICE, "lons-tva"), T0)
    steps = 0
    while router.store.next_due() <= T0 + 60:  # each task's first overflow step is due at +60 s
        out = router.process(ClockTicked(max_timers=2), T0 + 60)
        assert len([d for d in out if d.kind is Kind.TASK_OVERFLOW_STEP]) <= 2
        steps += 1
    assert steps == 3
    assert {router.store.task(f"t{i}").step for i in range(5)} == {1}
    with pytest.raises(InvalidEvent, match="max_timers must be at least 1"):
        ClockTicked(max_timers=0)


def test_an_event_fires_at_most_its_share_of_due_timers_before_it(make_router: RouterFactory) -> None:
    router = make_router()
    count = router_module.TIMERS_PER_EVENT + 30
    for i in range(count):
        router.process(TaskArrived(f"t{i}", Channel.VOICE, "lons-tva"), T0)
    out = router.process(TaskArrived("late", Channel.VOICE, "lons-tva"), T0 + 60)  # every first step is due
    steps = [d.task for d in out if d.kind is Kind.TASK_OVERFLOW_STEP]
    assert steps == [f"t{i}" for i in range(router_module.TIMERS_PER_EVENT)]  # the earliest, in order
    assert router.store.task("late").place is Place.QUEUED  # the event itself applied all the same
    out = router.process(ClockTicked(), T0 + 60)
    assert [d.task for d in out if d.kind is Kind.TASK_OVERFLOW_STEP] == [
        f"t{i}" for i in range(router_module.TIMERS_PER_EVENT, count)
    ]


def test_an_agent_whose_phone_is_unregistered_gets_no_call_but_still_chats(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(AgentLoggedIn("ana"), T0)
    router.process(PhoneChanged("ana", False), T0)
    assert kinds(router.process(TaskArrived("v", Channel.VOICE, "lons-tva"), T0 + 1)) == ["task_queued"]
    out = router.process(TaskArrived("c", Channel.CHAT, "lons-chat"), T0 + 2)
    assert [(d.kind, d.task) for d in out if d.kind is Kind.OFFERED] == [(Kind.OFFERED, "c")]
    router.process(OfferAccepted("c", "ana"), T0 + 3)
    router.process(TaskCompleted("c", "ana"), T0 + 4)
    router.process(WrapUpEnded("c", "ana"), T0 + 5)
    out = router.process(PhoneChanged("ana", True), T0 + 6)  # registered again: the waiting call comes
    assert [(d.kind, d.task, d.agent) for d in out if d.kind is Kind.OFFERED] == [(Kind.OFFERED, "v", "ana")]


def test_a_phone_lost_while_it_rings_gives_the_call_back_without_blaming_the_agent(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(AgentLoggedIn("ana"), T0)
    router.process(TaskArrived("v", Channel.VOICE, "lons-tva"), T0)
    out = router.process(PhoneChanged("ana", False), T0 + 1)
    revoked = [d for d in out if d.kind is Kind.OFFER_REVOKED]
    assert [(d.task, d.reason) for d in revoked] == [("v", "phone_unregistered")]
    assert router.store.task("v").place is Place.QUEUED and router.store.agent("ana").missed_offers == 0


def test_a_note_on_a_task_moves_nothing_and_a_note_on_no_task_is_refused(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(TaskArrived("v", Channel.VOICE, "lons-tva"), T0)
    (noted,) = router.process(TaskNoted("v", "dtmf", {"digit": "5", "from": "caller"}), T0 + 1)
    assert (noted.kind, noted.task, noted.reason, dict(noted.data)) == (
        Kind.TASK_NOTED,
        "v",
        "dtmf",
        {"digit": "5", "from": "caller"},
    )
    assert router.store.task("v").place is Place.QUEUED
    with pytest.raises(UnknownTask):
        router.process(TaskNoted("nothing", "dtmf"), T0 + 2)
    with pytest.raises(UnknownAgent):
        router.process(PhoneChanged("nobody", True), T0 + 2)
    with pytest.raises(InvalidEvent, match="registered must be true or false"):
        PhoneChanged("ana", "yes")  # type: ignore[arg-type]


def test_an_unplugged_headset_makes_a_ready_agent_not_ready_and_plugging_it_in_gives_the_call(
    make_router: RouterFactory,
) -> None:
    router = make_router()
    router.process(AgentLoggedIn("ana"), T0)
    router.process(TaskArrived("v", Channel.VOICE, "lons-tva"), T0)  # offered to ana at once
    out = router.process(HeadsetChanged("ana", False), T0 + 1)
    assert [(d.task, d.reason) for d in out if d.kind is Kind.OFFER_REVOKED] == [("v", "headset_unplugged")]
    ana = router.store.agent("ana")
    assert (ana.state, ana.reason, ana.headset, ana.missed_offers) == (AgentState.NOT_READY, "headset", False, 0)
    assert router.store.task("v").place is Place.QUEUED  # its place kept
    out = router.process(HeadsetChanged("ana", True), T0 + 2)
    assert [(d.task, d.agent) for d in out if d.kind is Kind.OFFERED] == [("v", "ana")]
    assert router.store.agent("ana").reason is None


def test_a_headset_plugged_in_again_restores_only_what_it_forced(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(AgentLoggedIn("ana", ready=False), T0)
    router.process(AgentNotReady("ana", "lunch"), T0)
    router.process(HeadsetChanged("ana", False), T0 + 1)
    assert router.store.agent("ana").reason == "lunch"  # not ready already: its own reason stays
    router.process(HeadsetChanged("ana", True), T0 + 2)
    assert (router.store.agent("ana").state, router.store.agent("ana").reason) == (AgentState.NOT_READY, "lunch")
    router.process(AgentReady("ana"), T0 + 3)
    router.process(HeadsetChanged("ana", False), T0 + 4)
    router.process(AgentNotReady("ana", "break"), T0 + 5)  # the agent chose a reason since: it is kept
    router.process(HeadsetChanged("ana", True), T0 + 6)
    assert (router.store.agent("ana").state, router.store.agent("ana").reason) == (AgentState.NOT_READY, "break")


def test_an_agent_ready_without_its_headset_gets_chats_but_no_call(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(AgentLoggedIn("ana"), T0)
    router.process(HeadsetChanged("ana", False), T0)
    router.process(AgentReady("ana"), T0 + 1)  # it says it is ready anyway
    assert kinds(router.process(TaskArrived("v", Channel.VOICE, "lons-tva"), T0 + 2)) == ["task_queued"]
    out = router.process(TaskArrived("c", Channel.CHAT, "lons-chat"), T0 + 3)
    assert [(d.kind, d.task) for d in out if d.kind is Kind.OFFERED] == [(Kind.OFFERED, "c")]
    with pytest.raises(UnknownAgent):
        router.process(HeadsetChanged("nobody", True), T0 + 4)
    with pytest.raises(InvalidEvent, match="connected must be true or false"):
        HeadsetChanged("ana", "yes")  # type: ignore[arg-type]


def test_an_agent_logging_in_with_its_headset_unplugged_is_not_ready_until_it_is_plugged_in(
    make_router: RouterFactory,
) -> None:
    router = make_router()
    router.process(HeadsetChanged("ana", False), T0)  # its softphone runs before the agent logs in
    router.process(AgentLoggedIn("ana"), T0 + 1)
    assert (router.store.agent("ana").state, router.store.agent("ana").reason) == (AgentState.NOT_READY, "headset")
    router.process(HeadsetChanged("ana", True), T0 + 2)
    assert router.store.agent("ana").state is AgentState.AVAILABLE


def test_an_unknown_event_is_refused_before_any_timer_fires(make_router: RouterFactory) -> None:
    router = make_router()
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva"), T0)
    before = state(router.store)
    with pytest.raises(InvalidEvent, match="^unknown event object$"):
        router.process(object(), T0 + 700)  # type: ignore[arg-type]
    assert state(router.store) == before


def test_a_refused_event_is_applied_with_the_decisions_of_the_timers_fired_before_it(
    make_router: RouterFactory,
) -> None:
    router = make_router()
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva"), T0)
    applied = router.apply(TaskCancelled("nobody"), T0 + 60)
    assert isinstance(applied.refusal, UnknownTask) and "nobody" in applied.refusal.message
    assert [(d.kind.value, d.task) for d in applied.decisions] == [("task_overflow_step", "t")]


def test_the_timers_of_a_forgotten_task_do_not_act_on_a_later_task_of_the_same_id(make_router: RouterFactory) -> None:
    """lons-tva's steps (60, 120, 180 s) and maximum wait (600 s) count from the second task's entry, not the
    first's: the first's timers, left in the store when it was forgotten, are stale."""
    router = make_router(builders.deployment(ended_task_retention=10))
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva"), T0)
    router.process(TaskCancelled("t"), T0 + 5)
    router.process(ClockTicked(), T0 + 100)  # forgotten at T0 + 15
    assert router.store.peek_task("t") is None
    router.process(TaskArrived("t", Channel.VOICE, "lons-tva"), T0 + 200)
    assert [d.kind.value for d in router.process(ClockTicked(), T0 + 259)] == []
    out = router.process(ClockTicked(), T0 + 800)
    assert [(d.kind.value, d.at) for d in out if d.kind is not Kind.TASK_QUEUED] == [
        ("task_overflow_step", T0 + 260),
        ("task_overflow_step", T0 + 320),
        ("task_overflow_step", T0 + 380),
        ("task_moved", T0 + 800),
    ]

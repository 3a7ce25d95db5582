"""Transfers through a running `acd serve`: blind by REFER from the agent's phone or by the API, to a
queue (the call enters the ACD again) or to an outside number through the trunk (an office played by
sipp), and attended by the API (consult, then complete or return)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from media.calls import task_id_for
from tests.media.sipp import Centre, Phone, demo_config, finished, running_centre, tva_for_every_lons_agent
from tests.servers import free_port, until

TVA = "+33199000101"
Sipp = subprocess.Popen[str]
OFFICE = "+33384000000"  # the second-level office, outside: through the trunk


@pytest.fixture(scope="module")
def office_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, office_port: int) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("transfers")
    config = demo_config(directory, f"offer_timeout: 6\nsip_trunk: 127.0.0.1:{office_port}\n")
    tva_for_every_lons_agent(config)
    with running_centre(directory, config) as running:
        yield running


def caller(centre: Centre, scenario: str, *args: str) -> tuple[str, subprocess.Popen[str]]:
    process = centre.sipp(scenario, "-s", TVA, "-mp", str(free_port()), *args)
    return f"1-{process.pid}@127.0.0.1", process


def office(centre: Centre, port: int, scenario: str = "agent_answers.xml") -> subprocess.Popen[str]:
    """The office on the trunk's address: answers (echoing what it hears) and waits to be hung up."""
    return centre.sipp(scenario, "-s", "office", "-mp", str(free_port()), "-rtp_echo", port=port)


def answered(centre: Centre, task: str) -> None:
    until(f"{task} answered", lambda: "offer_accepted" in centre.kinds(task), 20)


def answered_call(centre: Centre, phone: Phone, hold_ms: int) -> tuple[str, str, Sipp, Sipp]:
    """`phone` answers the next call, a caller to the TVA number who stays `hold_ms`: once it is answered, the
    call's Call-ID and task, the agent's phone and the caller (sipp runs)."""
    talking = phone.answer("agent_answers.xml")
    call_id, calling = caller(centre, "caller.xml", "-d", str(hold_ms))
    task = task_id_for(call_id)
    answered(centre, task)
    return call_id, task, talking, calling


def _call(centre: Centre, task: str) -> dict[str, Any]:
    calls = centre.admin.get("/api/v1/calls").json()
    return next((call for call in calls if call["task"] == task), {})


def other_party_answered(centre: Centre, task: str) -> None:
    """Wait for the consulted party to answer; fail saying where the call stood instead."""
    try:
        until("the consulted party answers", lambda: _call(centre, task).get("other_party") == "answered", 20)
    except AssertionError as error:
        raise AssertionError(f"{error}; the call: {_call(centre, task) or 'gone'}") from None


def call_state(centre: Centre, task: str) -> str | None:
    return _call(centre, task).get("state")


def test_a_refer_to_a_queue_number_puts_the_caller_back_in_the_acd_for_another_agent(centre: Centre) -> None:
    with Phone(centre, "cmartin") as first:
        referring = first.answer("agent_refers.xml", "-set", "target", TVA)
        call_id, calling = caller(centre, "caller.xml", "-d", "9000")
        finished(referring, centre)  # 202, NOTIFY 200, then its own BYE
        first_task = task_id_for(call_id)
        assert centre.admin.get("/api/v1/agents/cmartin").json()["state"] == "wrap_up"
        with Phone(centre, "sdubois") as second:
            talking = second.answer("agent_answers.xml")
            finished(calling, centre)
            finished(talking, centre)  # the caller hung up on the second agent
    kinds = centre.kinds(first_task)
    assert kinds[:4] == ["task_queued", "offered", "offer_accepted", "task_transferred"], kinds
    assert "task_completed" in kinds, kinds  # the first agent's part ended, its wrap-up followed
    second_task = task_id_for(f"{call_id}/1")
    moved = [e for e in centre.events(task=first_task) if e["kind"] == "task_transferred"]
    # One event of the core: the number resolved to its queue, the caller's new task named.
    assert [(e["reason"], e["data"]) for e in moved] == [("transferred", {"to": "lons-tva", "new_task": second_task})]
    events = centre.events(task=second_task)
    assert [e["agent"] for e in events if e["kind"] == "offer_accepted"] == ["sdubois"]
    assert "task_completed" in [e["kind"] for e in events]


def test_a_refer_to_an_outside_number_goes_through_the_trunk(centre: Centre, office_port: int) -> None:
    at_office = office(centre, office_port)
    with Phone(centre, "athomas") as agent:
        referring = agent.answer("agent_refers.xml", "-set", "target", OFFICE)
        call_id, calling = caller(centre, "caller.xml", "-d", "6000")
        finished(referring, centre)
        finished(calling, centre)
        finished(at_office, centre)  # the office answered, then was hung up when the caller left
    assert "task_completed" in centre.kinds(task_id_for(call_id))


def test_a_blind_transfer_by_the_api_hangs_up_the_agent_and_queues_the_call_again(centre: Centre) -> None:
    with Phone(centre, "lrobert") as first:
        call_id, task, talking, calling = answered_call(centre, first, 9000)
        reply = centre.admin.post(f"/api/v1/calls/{task}/transfer", json={"to": "lons-tva"})
        assert reply.status_code == 200 and reply.json()["state"] == "waiting", reply.text
        finished(talking, centre)  # the ACD hung the first agent's phone up
    with Phone(centre, "nrichard") as second:
        talking = second.answer("agent_answers.xml")
        finished(calling, centre)
        finished(talking, centre)
    assert [e["agent"] for e in centre.events(task=f"{task_id_for(call_id + '/1')}") if e["kind"] == "offered"] == [
        "nrichard"
    ]


@dataclass
class Consultation:
    task: str
    agent: subprocess.Popen[str]  # the agent's phone, talking
    caller: subprocess.Popen[str]
    office: subprocess.Popen[str]


@contextmanager
def consulting(centre: Centre, agent: str, office_port: int) -> Iterator[Consultation]:
    """A caller talking to `agent`, who consults the office by the API; yields once the office answered."""
    with Phone(centre, agent) as phone:
        # The caller stays 12 s: long enough for the consultation to be set up on a loaded machine.
        _, task, talking, calling = answered_call(centre, phone, 12000)
        at_office = office(centre, office_port)
        assert centre.admin.post(f"/api/v1/calls/{task}/consult", json={"to": OFFICE}).json()["state"] == "consulting"
        other_party_answered(centre, task)
        yield Consultation(task, talking, calling, at_office)


def test_a_consultation_completed_joins_the_caller_to_the_office(centre: Centre, office_port: int) -> None:
    with consulting(centre, "epetit", office_port) as consultation:
        reply = centre.admin.post(f"/api/v1/calls/{consultation.task}/consult/complete")
        assert reply.json()["state"] == "outside"  # the agent's task is over: the office has the caller
        finished(consultation.agent, centre)  # the agent's part is over: hung up
        finished(consultation.caller, centre)
        finished(consultation.office, centre)  # hung up when the caller left
    # The core was told a transfer: the task handed to the office's number, which had answered already.
    moved = [e for e in centre.events(task=consultation.task) if e["kind"] == "task_transferred"]
    assert [e["data"]["to"] for e in moved] == [OFFICE], moved
    handed = moved[0]["data"]["new_task"]
    until("the handed task ends", lambda: "task_ended" in centre.kinds(handed), 10)
    ended = [e for e in centre.events(task=handed) if e["kind"] == "task_ended"]
    assert [e["reason"] for e in ended] == ["answered_outside"], ended


def test_a_consultation_cancelled_returns_the_agent_to_the_caller(centre: Centre, office_port: int) -> None:
    with consulting(centre, "hdurand", office_port) as consultation:
        reply = centre.admin.post(f"/api/v1/calls/{consultation.task}/consult/cancel")
        assert reply.json()["state"] == "talking"
        finished(consultation.office, centre)  # hung up
        finished(consultation.caller, centre)
        finished(consultation.agent, centre)  # the agent was with the caller until the caller hung up
    notes = [e["reason"] for e in centre.events(task=consultation.task) if e["kind"] == "task_noted"]
    assert notes == ["consulting", "consult_ended"], notes


def test_a_transfer_the_target_refuses_keeps_the_caller_with_its_agent(centre: Centre) -> None:
    with Phone(centre, "jbernard") as agent:
        call_id, task, talking, calling = answered_call(centre, agent, 6000)
        # lons-chat takes no calls: the core refuses the transfer in one event, and nothing moves.
        reply = centre.admin.post(f"/api/v1/calls/{task}/transfer", json={"to": "lons-chat"})
        assert (reply.status_code, reply.json()["error"]) == (409, "transfer-refused"), reply.text
        assert reply.json()["details"]["reason"] == "channel_not_served"
        unknown = centre.admin.post(f"/api/v1/calls/{task}/transfer", json={"to": "nowhere"})
        assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown-target"), unknown.text
        assert (call_state(centre, task), _call(centre, task)["agent"]) == ("talking", "jbernard")
        finished(calling, centre)  # the caller talked with its agent until it hung up
        finished(talking, centre)
    kinds = centre.kinds(task)
    assert "task_transferred" not in kinds and "task_completed" in kinds, kinds
    assert not centre.events(task=task_id_for(f"{call_id}/1")), "no task was made for the caller elsewhere"


def test_a_refer_the_core_refuses_is_notified_and_the_phone_keeps_the_caller(centre: Centre) -> None:
    with Phone(centre, "bmartinez") as agent:
        refers = agent.answer("agent_refer_refused.xml", "-set", "target", "lons-email")  # no calls there
        call_id, calling = caller(centre, "caller.xml", "-d", "6000")
        finished(calling, centre)  # the caller talked until it hung up: nothing moved
        finished(refers, centre)  # 202, a NOTIFY saying 480, then the ACD's BYE as the caller left
    kinds = centre.kinds(task_id_for(call_id))
    assert "task_transferred" not in kinds and "task_completed" in kinds, kinds


def test_bad_transfer_requests_are_refused_and_change_nothing(centre: Centre) -> None:
    reply = centre.admin.post("/api/v1/calls/call-nothing/transfer", json={"to": "lons-tva"})
    assert (reply.status_code, reply.json()["error"]) == (404, "no-such-call")
    for bad in ("-nothing", "z" * 129):  # outside the ids' alphabet: refused as such, not looked for
        reply = centre.admin.post(f"/api/v1/calls/{bad}/transfer", json={"to": "lons-tva"})
        assert (reply.status_code, reply.json()["error"]) == (422, "invalid-request")
    call_id, calling = caller(centre, "caller_is_hung_up.xml")
    task = task_id_for(call_id)
    until("the call waits", lambda: call_state(centre, task) == "waiting", 20)
    misspelt = centre.admin.post(f"/api/v1/calls/{task}/transfer", json={"target": "lons-tva"})
    assert misspelt.status_code == 422
    no_agent = centre.admin.post(f"/api/v1/calls/{task}/transfer", json={"to": "lons-tva"})
    assert (no_agent.status_code, no_agent.json()["error"]) == (409, "not-transferable")
    nothing = centre.admin.post(f"/api/v1/calls/{task}/consult/complete")
    assert nothing.status_code == 409
    assert call_state(centre, task) == "waiting"
    assert centre.admin.delete(f"/api/v1/tasks/{task}").status_code == 200
    finished(calling, centre)


def test_a_consultation_with_a_colleague_rings_its_phone_then_joins_the_caller_to_it(centre: Centre) -> None:
    with Phone(centre, "tmoreau") as agent, Phone(centre, "csimon") as colleague:
        # Only the first agent takes calls; the colleague is rung by the consultation alone.
        centre.admin.put("/api/v1/agents/csimon/state", json={"state": "not_ready", "reason": "break"})
        _, task, talking, calling = answered_call(centre, agent, 12000)
        consulted = colleague.answer("agent_answers.xml")
        assert centre.admin.post(f"/api/v1/calls/{task}/consult", json={"to": "csimon"}).status_code == 200
        other_party_answered(centre, task)
        assert centre.admin.post(f"/api/v1/calls/{task}/consult/complete").json()["state"] == "outside"
        finished(talking, centre)  # the first agent's part is over
        finished(calling, centre)
        finished(consulted, centre)  # the colleague was with the caller until the caller hung up
    assert centre.admin.get("/api/v1/agents/tmoreau").json()["state"] == "wrap_up"


def test_an_agent_hanging_up_while_consulting_hands_the_caller_to_the_office(centre: Centre, office_port: int) -> None:
    with Phone(centre, "lleroy") as agent:
        hangs_up = agent.answer("agent_hangs_up.xml", "-d", "4000")
        call_id, calling = caller(centre, "caller.xml", "-d", "9000")
        task = task_id_for(call_id)
        answered(centre, task)
        at_office = office(centre, office_port)
        assert centre.admin.post(f"/api/v1/calls/{task}/consult", json={"to": OFFICE}).status_code == 200
        finished(hangs_up, centre)  # the agent hangs up while consulting: a transfer, as on a PBX
        until("the office has the caller", lambda: call_state(centre, task) == "outside", 10)
        finished(calling, centre)
        finished(at_office, centre)  # hung up when the caller left
    assert "task_completed" in centre.kinds(task)

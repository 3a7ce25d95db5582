"""Calls through a running `acd serve`, end to end over the network: sipp as the caller on the trunk
(its voice and keys from pcap files) and as agents' phones (registered with digest, then answering,
refusing, ringing out, hanging up, holding, sending keys)."""

from __future__ import annotations

import socket
import subprocess
import wave
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

from media.calls import task_id_for
from tests.media.sipp import Centre, Phone, demo_config, finished, running_centre, tva_for_every_lons_agent
from tests.servers import free_port, until

TVA = "+33199000101"  # the demo's number for lons-tva, served by the lons plateaux


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("calls")
    config = demo_config(directory, "offer_timeout: 4\nmedia_timeout: 8\n")
    tva_for_every_lons_agent(config, record=True)
    with running_centre(directory, config) as running:
        yield running


def caller(centre: Centre, scenario: str, *args: str, transport: str = "u1") -> tuple[str, subprocess.Popen[str]]:
    process = centre.sipp(scenario, "-s", TVA, "-mp", str(free_port()), *args, transport=transport)
    return task_id_for(f"1-{process.pid}@127.0.0.1"), process  # sipp's Call-ID: call number, pid, address


def core_says(centre: Centre, task: str, kind: str, seconds: float = 20) -> None:
    until(f"{kind} for {task}", lambda: kind in centre.kinds(task), seconds)


@pytest.mark.parametrize(("agent", "transport"), [("cmartin", "u1"), ("jbernard", "t1")])
def test_a_caller_reaches_an_agent_who_answers_then_the_caller_hangs_up(
    centre: Centre, agent: str, transport: str
) -> None:
    with Phone(centre, agent, transport) as phone:
        ringing = phone.answer("agent_answers.xml")
        task, calling = caller(centre, "caller.xml", "-d", "3000", transport=transport)
        finished(calling, centre)
        finished(ringing, centre)  # the ACD hung the agent's phone up when the caller left
    kinds = centre.kinds(task)
    assert kinds[:3] == ["task_queued", "offered", "offer_accepted"], kinds
    assert "task_completed" in kinds and "task_ended" not in kinds  # wrap-up follows
    events = centre.events(task=task)
    assert next(e for e in events if e["kind"] == "offered")["agent"] == agent
    assert centre.admin.get(f"/api/v1/agents/{agent}").json()["state"] == "wrap_up"
    recording = next(e for e in events if e["kind"] == "task_noted" and e["reason"] == "recording")
    left, right = _channels(Path(recording["data"]["path"]))
    assert _loud(left) and _loud(right)  # the caller's voice, and the agent's phone echoing it back


def test_an_agent_who_refuses_gives_the_call_back_and_the_caller_who_leaves_abandons_it(centre: Centre) -> None:
    with Phone(centre, "sdubois") as phone:
        ringing = phone.answer("agent_refuses.xml")
        task, calling = caller(centre, "caller.xml", "-d", "3000")
        finished(ringing, centre)
        finished(calling, centre)
    kinds = centre.kinds(task)
    assert kinds[:3] == ["task_queued", "offered", "offer_refused"], kinds
    ended = [e for e in centre.events(task=task) if e["kind"] == "task_ended"]
    assert [e["data"].get("outcome") or e["reason"] for e in ended] == ["abandoned"], ended


def test_a_phone_nobody_answers_is_cancelled_when_the_offer_times_out(centre: Centre) -> None:
    with Phone(centre, "athomas") as phone:
        ringing = phone.answer("agent_rings.xml")
        task, calling = caller(centre, "caller.xml", "-d", "6500")
        finished(ringing, centre)  # CANCEL came, 487 answered
        finished(calling, centre)
    kinds = centre.kinds(task)
    assert kinds[:3] == ["task_queued", "offered", "offer_timed_out"], kinds


def test_a_caller_who_hangs_up_while_the_phone_rings_stops_it_ringing(centre: Centre) -> None:
    with Phone(centre, "lrobert") as phone:
        ringing = phone.answer("agent_rings.xml")
        task, calling = caller(centre, "caller.xml", "-d", "1500")
        finished(calling, centre)
        finished(ringing, centre)
    kinds = centre.kinds(task)
    assert kinds[:3] == ["task_queued", "offered", "offer_revoked"], kinds
    assert kinds[-1] == "task_ended"


def test_an_agent_who_hangs_up_ends_the_callers_leg_and_goes_to_wrap_up(centre: Centre) -> None:
    with Phone(centre, "nrichard") as phone:
        ringing = phone.answer("agent_hangs_up.xml", "-d", "1500")
        task, calling = caller(centre, "caller_is_hung_up.xml")
        finished(ringing, centre)
        finished(calling, centre)
    assert "task_completed" in centre.kinds(task)
    assert centre.admin.get("/api/v1/agents/nrichard").json()["state"] == "wrap_up"


def test_the_agent_holds_and_resumes_by_re_invite(centre: Centre) -> None:
    with Phone(centre, "epetit") as phone:
        ringing = phone.answer("agent_holds.xml", "-d", "1500")
        task, calling = caller(centre, "caller.xml", "-d", "5000")
        finished(ringing, centre)
        finished(calling, centre)
    notes = [e["reason"] for e in centre.events(task=task) if e["kind"] == "task_noted"]
    assert notes.index("hold") < notes.index("resume"), notes


def test_keys_pressed_by_the_caller_rfc_4733_and_by_the_agent_sip_info_reach_the_core(centre: Centre) -> None:
    with Phone(centre, "hdurand") as phone:
        ringing = phone.answer("agent_keys.xml")
        task, calling = caller(centre, "caller_keys.xml", "-d", "4000")
        finished(calling, centre)
        finished(ringing, centre)
    keys = [(e["data"]["from"], e["data"]["digit"]) for e in centre.events(task=task) if e["reason"] == "dtmf"]
    assert ("caller", "1") in keys and ("agent", "5") in keys, keys
    assert keys.count(("caller", "1")) == 1  # the event's three end packets are one key press


def test_an_agent_whose_phone_unregistered_is_offered_no_call_until_it_registers_again(centre: Centre) -> None:
    with Phone(centre, "lleroy") as phone:
        phone.register("unregister.xml")
        until("the phone known unregistered", lambda: phone.phone_state() == "unregistered", 10)
        task, calling = caller(centre, "caller_is_hung_up.xml")
        core_says(centre, task, "task_queued")
        # The arrival's decisions are made together: had the agent been offered the call, it would be there.
        assert "offered" not in centre.kinds(task)
        assert centre.admin.get("/api/v1/agents/lleroy").json()["state"] == "available"
        phone.register()
        ringing = phone.answer("agent_rings.xml")  # the ACD's INVITE is repeated until it rings
        core_says(centre, task, "offered")
        assert centre.admin.delete(f"/api/v1/tasks/{task}").status_code == 200
        finished(calling, centre)  # the withdrawn call is hung up
        finished(ringing, centre)  # and the phone stops ringing


def test_a_silent_line_is_ended_after_the_media_timeout_and_says_so(centre: Centre) -> None:
    task, calling = caller(centre, "caller_silent.xml")
    finished(calling, centre, timeout=40)
    notes = [e for e in centre.events(task=task) if e["kind"] == "task_noted"]
    assert [(n["reason"], n["data"]["side"]) for n in notes] == [("media_timeout", "caller")]
    assert centre.kinds(task)[-1] == "task_ended"


def test_an_unknown_number_is_404_and_keeps_nothing(centre: Centre) -> None:
    reply = _invite(centre.sip, "+33100000000")
    assert reply.startswith("SIP/2.0 404 "), reply


def _invite(port: int, number: str) -> str:
    body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    message = (
        f"INVITE sip:{number}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKraw{number[-4:]}\r\n"
        f"From: <sip:caller@127.0.0.1>;tag=1\r\nTo: <sip:{number}@127.0.0.1>\r\nCall-ID: raw-{number}\r\n"
        f"CSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:9>\r\nMax-Forwards: 70\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(message.encode(), ("127.0.0.1", port))
        while True:
            reply = sock.recv(65535).decode()
            if not reply.startswith("SIP/2.0 100 "):
                return reply


def _channels(path: Path) -> tuple[array[int], array[int]]:
    with wave.open(str(path), "rb") as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (2, 2, 8000)
        samples = array("h", audio.readframes(audio.getnframes()))
    return samples[0::2], samples[1::2]


def _loud(samples: array[int]) -> bool:
    return sum(1 for s in samples if abs(s) > 500) > 800  # a tenth of a second of sound at least

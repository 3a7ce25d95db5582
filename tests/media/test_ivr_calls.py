"""The IVR on calls through a running `acd serve`, end to end over the network: sipp callers on the trunk
dialling the demo's general number (its welcome flow, config/ivr/accueil.yaml) and pressing keys sent as
RFC 4733 telephone-events from sip-tester's pcaps; sipp as the second-level office on the trunk."""

from __future__ import annotations

import io
import subprocess
import wave
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from media.calls import task_id_for
from tests.media.ivr_caller import keys, scenario
from tests.media.sipp import Centre, Phone, demo_config, finished, running_centre, tva_for_every_lons_agent
from tests.servers import free_port, until

LONS = "+33199000100"  # the general number of Lons-le-Saunier: the welcome flow
SHORT = "+33199000999"  # a flow of the tests: one short menu, then a queue that overflows after 3 s
SHORT_FLOW = """
languages: [fr]
start: menu
prompts:
  menu: {fr: "Tapez 1."}
nodes:
  menu: {type: menu, prompt: menu, options: {"1": queue}, timeout: 1, retries: 1, fallback: queue}
  queue: {type: queue, queue: lons-tva, max_wait: {seconds: 3, to: pau-tva}}
"""
SPEECH = Path(__file__).resolve().parent.parent / "data" / "sip-tester" / "g711a.pcap"  # 7 s of a voice, in PCMA


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("ivr")
    office = free_port()
    config = demo_config(directory, f"media_timeout: 300\nsip_trunk: 127.0.0.1:{office}\n")
    (config / "ivr" / "short.yaml").write_text(SHORT_FLOW)
    tva_for_every_lons_agent(config)
    with (config / "numbers.yaml").open("a") as numbers:
        numbers.write(f'- {{number: "{SHORT}", flow: short}}\n')
    with running_centre(directory, config) as running:
        running.office = office  # type: ignore[attr-defined]
        yield running


def call(
    centre: Centre, name: str, steps: list[tuple[int, str | Path]], number: str = LONS, **options: Any
) -> tuple[str, subprocess.Popen[str]]:
    """A caller dialling `number` (the general one): the task its call would become, and its sipp."""
    path = scenario(centre.directory / f"{name}.xml", steps, **options)
    process = centre.sipp(str(path), "-s", number, "-mp", str(free_port()), timeout=120)
    return task_id_for(f"1-{process.pid}@127.0.0.1"), process


def task(centre: Centre, task_id: str) -> dict[str, Any]:
    reply = centre.admin.get(f"/api/v1/tasks/{task_id}")
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def queued(centre: Centre, task_id: str, seconds: float = 40) -> dict[str, Any]:
    until(f"{task_id} queued", lambda: centre.admin.get(f"/api/v1/tasks/{task_id}").status_code == 200, seconds)
    return task(centre, task_id)


def test_keys_choose_the_queue_and_the_answers_become_the_tasks_attributes(centre: Centre) -> None:
    # French (1) typed during the welcome, CFE (2) during the topics, then the SIREN and #.
    steps = keys("1", after_ms=1500) + keys("2", after_ms=1500) + keys("732829320#", after_ms=1500)
    task_id, caller = call(centre, "cfe", steps, then_ms=4000)
    arrived = queued(centre, task_id)
    finished(caller, centre, timeout=90)
    assert arrived["queue"] == "lons-cfe"
    attributes = arrived["attributes"]
    assert {k: attributes.get(k) for k in ("language", "topic", "siren", "centre", "caller")} == {
        "language": "fr", "topic": "cfe", "siren": "732829320", "centre": "lons", "caller": "0384000000",
    }  # fmt: skip
    assert attributes["ivr_route"] == "accueil welcome language topics siren dispatch queue-cfe"
    until("the caller's leaving abandons the task", lambda: task(centre, task_id)["state"] == "ended", 20)
    assert task(centre, task_id)["outcome"] == "abandoned"


def test_a_siren_with_a_wrong_key_is_asked_again_then_the_call_goes_on_without_it(centre: Centre) -> None:
    wrong = "732829321#"  # one digit off: its Luhn key is wrong
    steps = keys("1", after_ms=1500) + keys("1", after_ms=1500)
    steps += keys(wrong, after_ms=1500) + keys(wrong, after_ms=1500) + keys(wrong, after_ms=1500)
    task_id, caller = call(centre, "bad-siren", steps, then_ms=3000)
    arrived = queued(centre, task_id, 60)
    finished(caller, centre, timeout=90)
    assert arrived["queue"] == "lons-tva" and "siren" not in arrived["attributes"]
    assert arrived["attributes"]["ivr_route"].endswith("topics siren dispatch queue-tva")


def callback_of(centre: Centre, task_id: str) -> dict[str, Any]:
    created = [e for e in centre.events(kind="callback_created") if e["data"].get("origin_task") == task_id]
    assert len(created) == 1, created
    return task(centre, created[0]["task"])


@pytest.mark.parametrize(
    ("entry", "number"), [("1", "+33384000000"), ("2" + "0612345678#", "+33612345678")], ids=["this", "another"]
)
def test_a_caller_who_takes_the_call_back_keeps_its_place_and_is_hung_up_after_the_confirmation(
    centre: Centre, entry: str, number: str
) -> None:
    # No agent is ready in this centre: the wait cannot be estimated, and the call-back is offered at once.
    steps = keys("1", after_ms=1500) + keys("5", after_ms=1500) + keys("#", after_ms=1500)
    steps += keys(entry[0], after_ms=2500) + keys(entry[1:], after_ms=1500)
    task_id, caller = call(centre, f"callback-{entry[0]}", steps, then_ms=0, acd_hangs_up=True)
    finished(caller, centre, timeout=90)  # the ACD said its confirmation, then hung up
    waited = task(centre, task_id)
    assert (waited["queue"], waited["outcome"]) == ("lons-paiement", "callback")
    callback = callback_of(centre, task_id)
    assert callback["channel"] == "callback" and callback["queue"] == "lons-paiement"
    assert callback["attributes"]["callback_number"] == number
    assert callback["entered_at"] == waited["entered_at"]  # its place in the queue is kept
    assert callback["attributes"]["topic"] == "paiement"
    # Withdrawn: the agents of the next tests are not to be offered a call-back nobody here places.
    assert centre.admin.delete(f"/api/v1/tasks/{callback['id']}").status_code == 200


def test_the_office_topic_goes_through_the_trunk_and_a_refusing_office_gets_a_message(centre: Centre) -> None:
    office = centre.sipp("agent_refuses.xml", "-s", "office", "-mp", str(free_port()), port=centre.office)  # type: ignore[attr-defined]
    # The office's prompt, its refusal, the prompt for a message (about 15 s), then 7 s of speech and #.
    steps = keys("1", after_ms=1500) + keys("9", after_ms=1500) + [(16000, SPEECH)] + keys("#", after_ms=7500)
    _, caller = call(centre, "office", steps, then_ms=0, acd_hangs_up=True)
    finished(office, centre, timeout=60)  # the office was called, and refused
    finished(caller, centre, timeout=90)
    left = [e for e in centre.events(kind="task_queued", queue="lons-email")]
    message = task(centre, left[-1]["task"])
    assert message["channel"] == "voicemail"
    assert message["attributes"]["topic"] == "sie" and message["attributes"]["caller"] == "0384000000"
    heard = centre.admin.get(f"/api/v1/tasks/{message['id']}/recording")
    assert heard.status_code == 200 and heard.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(heard.content)) as audio:  # the caller's 7 s of speech, until its #
        assert audio.getframerate() == 8000 and 6.0 < audio.getnframes() / 8000 < 9.5
        assert max(array("h", audio.readframes(audio.getnframes()))) > 3000  # a voice, not silence
    # Withdrawn: the agents of the next tests are not to be offered this message first.
    assert centre.admin.delete(f"/api/v1/tasks/{message['id']}").status_code == 200


def test_a_caller_who_presses_nothing_is_asked_again_then_queued_and_overflows_keeping_its_place(
    centre: Centre,
) -> None:
    task_id, caller = call(centre, "silent", [], number=SHORT, then_ms=12000)
    first = queued(centre, task_id, 30)
    assert first["queue"] == "lons-tva" and first["attributes"]["ivr_route"] == "menu queue"
    moved = task_id_for(f"1-{caller.pid}@127.0.0.1/1")  # the call's next task, after its maximum wait
    until("the overflow", lambda: centre.admin.get(f"/api/v1/tasks/{moved}").status_code == 200, 20)
    finished(caller, centre, timeout=60)
    assert task(centre, task_id)["outcome"] == "transferred"  # one event of the core moved the caller
    moves = [e for e in centre.events(task=task_id) if e["kind"] == "task_transferred"]
    assert [(e["reason"], e["data"]) for e in moves] == [("max_wait", {"to": "pau-tva", "new_task": moved})]
    overflowed = task(centre, moved)
    assert overflowed["queue"] == "pau-tva" and overflowed["entered_at"] == first["entered_at"]
    assert overflowed["attributes"]["ivr_route"] == "menu queue"  # what the flow learnt goes with the call


def test_an_agent_answers_the_call_the_flow_queued_and_talks_to_the_caller(centre: Centre) -> None:
    with Phone(centre, "cmartin") as phone:
        ringing = phone.answer("agent_answers.xml")
        steps = keys("1", after_ms=1500) + keys("1", after_ms=1500) + keys("#", after_ms=1500)
        task_id, caller = call(centre, "answered", steps, then_ms=6000)
        finished(caller, centre, timeout=60)
        finished(ringing, centre)  # the ACD hung the agent's phone up when the caller left
    kinds = [kind for kind in centre.kinds(task_id) if kind != "task_noted"]
    assert kinds[:3] == ["task_queued", "offered", "offer_accepted"], kinds
    assert "task_completed" in kinds
    answered = task(centre, task_id)
    assert answered["agent"] == "cmartin" and answered["attributes"]["topic"] == "tva"

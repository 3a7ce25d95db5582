"""An offer the core makes before the call is waiting is rung, not lost: end to end through `acd serve` on
a Redis store, where the core's decisions reach the switchboard before the answer to the submission that
queued the call (its committer resolves them in that order), so the agent's phone is offered the call while
the call is still being set up."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from media.calls import task_id_for
from tests.media.sipp import Centre, Phone, demo_config, finished, running_centre, tva_for_every_lons_agent
from tests.servers import free_port, redis_server

TVA = "+33199000101"


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("early")
    # A long offer timeout: an offer lost in the set-up would show as offer_timed_out 30 s later.
    config = demo_config(directory, "offer_timeout: 30\nmedia_timeout: 8\n")
    tva_for_every_lons_agent(config)
    with redis_server(Path(directory) / "redis") as redis, running_centre(directory, config, "--store", redis.url) as c:
        yield c


def caller(centre: Centre) -> tuple[str, subprocess.Popen[str]]:
    process = centre.sipp("caller.xml", "-s", TVA, "-mp", str(free_port()), "-d", "2000")
    return task_id_for(f"1-{process.pid}@127.0.0.1"), process


@pytest.mark.parametrize("agent", ["cmartin", "jbernard", "hdurand"])
def test_an_agent_ready_as_the_call_arrives_is_rung_at_once(centre: Centre, agent: str) -> None:
    with Phone(centre, agent) as phone:
        ringing = phone.answer("agent_answers.xml")
        task, calling = caller(centre)
        finished(calling, centre)
        finished(ringing, centre)
    kinds = centre.kinds(task)
    assert kinds[:3] == ["task_queued", "offered", "offer_accepted"], kinds  # rung on the first offer
    assert "offer_timed_out" not in kinds and "offer_refused" not in kinds, kinds
    assert "task_completed" in kinds, kinds
    # The case under test happened: the offer reached the switchboard as the task was still being queued.
    assert f"call {task}: offered to {agent} while queueing" in (centre.directory / "acd.log").read_text()

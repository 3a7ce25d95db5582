"""Several nodes on one Redis, in one process: each node a service with its replica, a real redis-server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
import redis as redis_py

from acd.decisions import Kind
from acd.deployment.models import Deployment
from acd.events import AgentLoggedIn, ClockTicked, OfferAccepted, TaskArrived, TaskCompleted, WrapUpEnded
from acd.model import Channel, Place
from acd.redisstore.client import SharedState, StoreFault
from acd.service import AcdService
from tests.acd import builders
from tests.servers import RedisServer

T0 = builders.MONDAY_9AM


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def nodes(
    redis: RedisServer, count: int, clock: Clock, config: Deployment | None = None
) -> AsyncIterator[list[AcdService]]:
    config = config or builders.deployment()
    services = [
        AcdService(config, clock=clock, shared=SharedState(redis.url, "test", f"node-{i}")) for i in range(count)
    ]
    async with contextlib.AsyncExitStack() as stack:
        for service in services:
            await stack.enter_async_context(service.running())
        yield services


#: Far above what a scenario takes (well under a second each): past it, the scenario is stuck.
STUCK_AFTER = 60.0


def run(scenario: Coroutine[Any, Any, None]) -> None:
    """Run a scenario; if it is stuck, fail with where every task of the loop waits (not a bare timeout)."""

    async def guarded() -> None:
        running = asyncio.ensure_future(scenario)
        done, _ = await asyncio.wait({running}, timeout=STUCK_AFTER)
        if running in done:
            running.result()  # its outcome, failures included
            return
        stacks = []
        for task in asyncio.all_tasks():  # where each waits, taken before anything is cancelled
            out = io.StringIO()
            task.print_stack(file=out)
            stacks.append(out.getvalue())
        report = "scenario stuck; the loop's tasks:\n" + "\n".join(stacks)
        sys.stderr.write(report)  # shown by pytest even if the cancellation below hangs too
        running.cancel()
        raise AssertionError(report)

    asyncio.run(guarded())


def kinds(service: AcdService, task: str) -> list[str]:
    return [e.decision.kind.value for e in service.journal.query(task=task)]


def test_a_task_created_on_one_node_is_offered_to_an_agent_logged_in_on_another(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        clock = Clock()
        async with nodes(redis_db, 2, clock) as (one, two):
            await two.submit(AgentLoggedIn("ana"))
            decisions = await one.submit(TaskArrived("t1", Channel.VOICE, "lons-tva"))
            assert [d.kind for d in decisions if d.task] == [Kind.TASK_QUEUED, Kind.OFFERED]
            await two.catch_up()
            assert two.store.task("t1").place is Place.RESERVED
            await two.submit(OfferAccepted("t1", "ana"))
            await one.catch_up()
            assert one.store.agent("ana").tasks == {"t1"}
            assert kinds(one, "t1") == kinds(two, "t1") == ["task_queued", "offered", "offer_accepted"]
            assert [e.id for e in one.journal.query()] == [e.id for e in two.journal.query()]

    run(scenario())


def test_a_due_timer_fires_once_whichever_nodes_see_it(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        clock = Clock()
        async with nodes(redis_db, 3, clock) as services:
            await services[0].submit(AgentLoggedIn("ana"))
            await services[1].submit(TaskArrived("t1", Channel.VOICE, "lons-tva"))
            clock.now += 15  # the offer times out
            await asyncio.gather(*(s.submit(ClockTicked()) for s in services))
            for service in services:
                await service.catch_up()
                assert kinds(service, "t1").count("offer_timed_out") == 1

    run(scenario())


def test_concurrent_tasks_through_three_nodes_are_each_served_once(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        clock = Clock()
        async with nodes(redis_db, 3, clock) as services:
            for i, agent in enumerate(("ana", "dan")):  # the two agents who serve lons-tva at once
                await services[i % 3].submit(AgentLoggedIn(agent))
            ids = [f"t{i}" for i in range(120)]
            await asyncio.gather(
                *(services[i % 3].submit(TaskArrived(t, Channel.VOICE, "lons-tva")) for i, t in enumerate(ids))
            )
            served: list[str] = []
            while len(served) < len(ids):
                progressed = False
                for service in services:
                    await service.catch_up()
                    for agent in list(service.store.agents()):
                        if agent.reservation:
                            task = agent.reservation
                            await service.submit(OfferAccepted(task, agent.id))
                            await service.submit(TaskCompleted(task, agent.id))
                            if service.store.task(task).place is Place.WRAP_UP:  # pau-tva has none
                                await service.submit(WrapUpEnded(task, agent.id))
                            served.append(task)
                            progressed = True
                assert progressed, "tasks wait while agents are idle"
            assert sorted(served) == sorted(ids)
            fresh = AcdService(builders.deployment(), clock=clock, shared=SharedState(redis_db.url, "test", "node-9"))
            async with fresh.running():
                for service in [*services, fresh]:
                    await service.catch_up()
                    assert all(service.store.task(t).outcome.value == "completed" for t in ids)

    run(scenario())


def test_the_commit_script_refuses_malformed_writes_and_writes_nothing(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        shared = SharedState(redis_db.url, "test", "node-x")
        try:
            epoch = await shared.open()
            before = await shared.snapshot()
            counters = "h\x1e1\x1e1\x1elatest\x1e0\x1e"  # a good first group: the counters, as they must come
            malformed = [
                "h\x1e3\x1e1\x1et1\x1e[]",  # no counters first
                counters + "h\x1e99\x1e1\x1ef\x1ev",  # no such key
                counters + "x\x1e3\x1e1\x1ef",  # no such write
                counters + "h\x1e3\x1etwo\x1ef\x1ev",  # a count that is no number
                counters + "d\x1e3\x1e0",  # nothing to write
                counters + "d\x1e3\x1e1.5\x1ef\x1eg",  # half an entry
                counters + "h\x1e3\x1e1\x1et1\x1e[]\x1eh\x1e3\x1e2\x1ef\x1ev",  # a good group, then one cut short
            ]
            for writes in malformed:
                with pytest.raises(StoreFault, match="refused commit: malformed write"):
                    await shared.commit(0, epoch, '{"decisions": []}', writes)
            assert await shared.snapshot() == before
            assert (await shared.commit(0, "not-the-epoch", "", "")).status == "epoch"
            # The good first group alone is taken: each refusal above was the fault of what followed it.
            assert (await shared.commit(0, epoch, '{"decisions": []}', counters[:-1])).n == 1
            assert (await shared.snapshot()).counters["latest"] == "0"
        finally:
            await shared.close()

    run(scenario())


def _dump(redis: RedisServer, deployment: str) -> dict[str, bytes]:
    """Every key of the deployment as DUMP gives it: to put Redis back to this moment later."""
    client = redis_py.Redis.from_url(redis.url)
    try:
        return {key.decode(): client.dump(key) for key in client.scan_iter(f"acd:{{{deployment}}}:*")}
    finally:
        client.close()


def _restore(redis: RedisServer, deployment: str, keys: dict[str, bytes]) -> None:
    client = redis_py.Redis.from_url(redis.url)
    try:
        client.delete(*client.scan_iter(f"acd:{{{deployment}}}:*"))
        for key, value in keys.items():
            client.restore(key, 0, value)
    finally:
        client.close()


def test_a_store_that_lost_changes_the_nodes_saw_is_loaded_again(redis_db: RedisServer) -> None:
    # As after a failover to a replica that lagged, or a restart from an append-only file that missed
    # the last writes: same epoch, an earlier change number than the nodes have.
    async def scenario() -> None:
        clock = Clock()
        async with nodes(redis_db, 2, clock) as (one, two):
            await one.submit(TaskArrived("t1", Channel.VOICE, "lons-tva"))
            earlier = _dump(redis_db, "test")
            await one.submit(TaskArrived("lost-1", Channel.VOICE, "lons-tva"))
            await one.submit(TaskArrived("lost-2", Channel.VOICE, "lons-tva"))
            await two.catch_up()
            assert two.store.task("lost-2") is not None
            _restore(redis_db, "test", earlier)
            # The node that writes first finds Redis behind it, takes what Redis holds and commits on it.
            decisions = await one.submit(TaskArrived("t2", Channel.VOICE, "lons-tva"))
            assert [d.kind for d in decisions] == [Kind.TASK_QUEUED]
            assert one.store.task("lost-1") is None and one.store.task("t2") is not None
            # The other one, ahead of Redis too, is told by its next commit, and both agree with Redis.
            await two.submit(TaskArrived("t3", Channel.VOICE, "lons-tva"))
            await one.catch_up()
            for service in (one, two):
                assert {t.id for t in service.store.tasks()} == {"t1", "t2", "t3"}
                assert service.engine is not None and service.engine.position == 4  # agents, t1, t2, t3
                # The log goes on, numbered after what it held before the loss (it only grows).
                assert kinds(service, "t3") == ["task_queued"]
                ids = [e.id for e in service.journal.query(limit=1000)]
                assert ids == sorted(set(ids))
            # What one node committed before another noticed the loss is in its own log; the other took
            # the state with it but not those decisions, whose numbers it had already given to lost ones.
            assert kinds(one, "t2") == ["task_queued"] and kinds(two, "t2") == []

    run(scenario())


def test_a_node_back_from_an_outage_checks_that_redis_has_what_it_saw(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        clock = Clock()
        async with nodes(redis_db, 1, clock) as (one,):
            await one.submit(TaskArrived("t1", Channel.VOICE, "lons-tva"))
            earlier = _dump(redis_db, "test")
            await one.submit(TaskArrived("lost", Channel.VOICE, "lons-tva"))
            _restore(redis_db, "test", earlier)
            assert one.engine is not None
            await one.engine.check_state(clock())
            assert {t.id for t in one.store.tasks()} == {"t1"}
            assert one.engine.position == 2  # the agents, then t1
            await one.submit(TaskArrived("t2", Channel.VOICE, "lons-tva"))
            await one.engine.check_state(clock())  # the same state: nothing to do
            assert {t.id for t in one.store.tasks()} == {"t1", "t2"}

    run(scenario())

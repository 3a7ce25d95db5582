"""Several nodes on one Redis, in one process: each node a service with its replica, a real redis-server."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
import redis as redis_py

from acd.decisions import Kind
from acd.deployment.models import Deployment
from acd.events import AgentLoggedIn, ClockTicked, OfferAccepted, TaskArrived, TaskCompleted, WrapUpEnded
from acd.model import Channel, Place
from acd.redisstore.client import SharedState, StoreFault, StoreUnavailable
from acd.service import AcdService
from tests.acd import builders
from tests.servers import RedisServer

T0 = builders.MONDAY_9AM


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
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
        # Where each waits, taken before anything is cancelled; a task cancelling and still waiting lost
        # its cancellation somewhere down its chain.
        stacks = [where(task) for task in asyncio.all_tasks()]
        report = "scenario stuck; the loop's tasks:\n" + "\n".join(stacks)
        sys.stderr.write(report)  # shown by pytest even if the cancellation below hangs too
        running.cancel()
        raise AssertionError(report)

    asyncio.run(guarded())


def where(task: asyncio.Task[Any]) -> str:
    """The task and every frame it waits in, down through what each awaits (print_stack shows its own
    frame only, not the library call it is stuck in)."""
    lines = [f"{task!r} cancelling={task.cancelling()}"]
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            lines.append(f"  awaiting {awaited!r}")
            break
        lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return "\n".join(lines)


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


#: Turns of the event loop over which a cancellation is tried: more than a call takes to be sent and answered
#: (a new connection included), so that it comes at every point of the call's way.
TURNS = 30


async def _cancelled_after(turns: int, call: Coroutine[Any, Any, object]) -> str:
    """Run `call` and cancel it after `turns` turns of the loop: "cancelled", "finished" (before the
    cancellation came), or "returned" / "raised …" (the cancellation lost: the call went on to its end)."""
    task = asyncio.ensure_future(call)
    for _ in range(turns):
        await asyncio.sleep(0)
    if task.done():
        await task
        return "finished"
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    except Exception as error:  # noqa: BLE001 (whatever it raised is the outcome this sweep reports)
        return f"raised {error!r}"
    return "returned"


def test_a_call_to_redis_cancelled_anywhere_on_its_way_ends_cancelled(redis_db: RedisServer) -> None:
    # With a socket timeout, redis-py sends through asyncio.wait_for, which on Python 3.11 drops a
    # cancellation that comes as the send finishes: the call then ran to its end (the follower's read for
    # its whole wait), and a node told to stop went on.
    async def scenario() -> None:
        shared = SharedState(redis_db.url, "test", "node-x")
        try:
            await shared.open()
            calls: dict[str, Callable[[], Coroutine[Any, Any, object]]] = {
                "read": lambda: shared.read(0),
                "commit": lambda: shared.commit(0, "not-the-epoch", "", ""),  # refused: writes nothing
                "follow": lambda: shared.wait(10**6, 1.0),  # nothing comes: it would wait its whole second
            }
            for name, call in calls.items():
                outcomes = [await _cancelled_after(turns, call()) for turns in range(TURNS)]
                assert set(outcomes) <= {"cancelled", "finished"}, f"{name}: {outcomes}"
                assert "cancelled" in outcomes, f"{name}: never under way when cancelled"
        finally:
            await shared.close()

    run(scenario())


def test_a_node_stops_whatever_its_committer_is_doing(redis_db: RedisServer) -> None:
    # The committer waits for the next event once a commit is over: a cancellation lost in the commit left
    # it waiting for good, and the node never stopped (seen once, as a node's lease expired in the first
    # scenario and the other node committed that just as it was stopped).
    async def scenario() -> None:
        clock = Clock()
        for turns in range(TURNS):
            service = AcdService(
                builders.deployment(), clock=clock, shared=SharedState(redis_db.url, f"stop-{turns}", "node-0")
            )
            async with service.running():
                await service.submit(AgentLoggedIn("ana"))
                arrival = asyncio.ensure_future(service.submit(TaskArrived("t1", Channel.VOICE, "lons-tva")))
                for _ in range(turns):
                    await asyncio.sleep(0)
            # Stopped, with the commit at any point of its way: its caller has its answer, or never will.
            if not arrival.done():
                arrival.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await arrival

    run(scenario())


def test_a_store_that_does_not_answer_is_given_up_after_the_command_timeout(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        shared = SharedState(redis_db.url, "test", "node-x", command_timeout=0.2)
        assert redis_db.process is not None
        try:
            await shared.open()
            redis_db.process.send_signal(signal.SIGSTOP)  # connections still made, never answered
            try:
                with pytest.raises(StoreUnavailable, match=r"did not answer read within 0\.2 s; try again"):
                    await shared.read(0)
                assert not shared.reachable
                # The follower's read asks Redis to wait: that wait is added to its bound.
                with pytest.raises(StoreUnavailable, match=r"did not answer follow within 0\.3 s; try again"):
                    await shared.wait(0, 0.1)
            finally:
                redis_db.process.send_signal(signal.SIGCONT)
            assert await shared.read(0) == ()  # the connections given up are made again
            assert shared.reachable
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

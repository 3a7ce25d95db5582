"""Routing decisions on a node that shares its state through Redis, against the floor of one round trip.

One run starts its own redis-server (a free TCP port and a unix socket in a temporary directory, no
persistence) and, for each transport, measures:

- decisions: bench/routing.py's deployment and day of events, set up and run through
  `SharedEngine.process` (router on the replica, recorded change, one EVALSHA of the commit script),
  each `await engine.process(event, clock)` timed alone; with where that time goes and how big a commit is;
- the floor: PING and EVALSHA of `return 1` (bare, and with a typical commit's arguments) through the very
  client `SharedState` commits with (its options, its pool, its `evalsha` path), each call timed
  alone, the kinds interleaved, half the samples before the decisions and half after (the target's
  floor); and, for comparison only, the same EVALSHA timed right after each round of decisions, where a
  commit's round trip starts after a decision's Python work (caches and the idle core of Redis cold);

- under load: the same day through the service (`acd serve`'s), many agents acting at once, so that the
  events waiting are committed together (one round trip per batch): decisions per second per node.

Targets, per node: p50 of one decision alone <= 3 x EVALSHA p50; >= 5,000 decisions/s under load.
Run from the project root (it reuses bench/routing.py and tests/servers.py):
    .venv/bin/python -m bench.routing_redis [--events N] [--agents N] [--waiting N] [--samples N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import redis
import redis.asyncio as aioredis

from acd.events import AgentLoggedIn, Event, OfferAccepted, TaskArrived, TaskCompleted
from acd.model import Channel
from acd.redisstore import engine as engine_module
from acd.redisstore.client import TURN_MS, SharedState
from acd.redisstore.engine import SharedEngine
from acd.router import Router
from acd.service import AcdService
from acd.store import MemoryStore
from acd.topology import Topology, build_agents
from bench.routing import QUEUES, SKILLS, deployment
from tests.servers import redis_server

START = 1_795_420_800.0  # a Monday, 09:00 in Paris, as bench/routing.py
KINDS = ("arrival", "completion+offer", "accept")
#: What the probe times inside `engine.process`; the rest is the engine's own work around them.
PARTS = ("router", "record", "encode", "commit")
LABELS = {
    "router": "router.process on the replica, via recorder",
    "record": "recorder.change (changed records to JSON)",
    "encode": "payload dumps + redis_writes",
    "commit": "SharedState.commit (whole round trip)",
    "rest": "rest of engine.process (decisions as_dict..)",
}
RATIO_TARGET, RATE_TARGET = 3.0, 5_000
WARM_UP_ROUNDS = 300


@dataclass
class Stats:
    """Latencies in ns, summarised in µs as bench/routing.py does (p99: the value at 99 % of the sorted list)."""

    values: list[int]

    def __post_init__(self) -> None:
        self.values = sorted(self.values)

    @property
    def p50(self) -> float:
        return statistics.median(self.values) / 1000

    @property
    def p99(self) -> float:
        return self.values[int(len(self.values) * 0.99)] / 1000

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values) / 1000


# ------------------------------------------------------------------------------------------- the floor


async def floors(shared: SharedState, samples: int, commit_args: list[Any]) -> dict[str, list[int]]:
    """Each kind of call timed alone `samples` times, the kinds taking turns so that they share conditions."""
    client = shared._client  # the engine's own: its options (decode_responses, no retries) and its pool
    trivial = client.register_script("return 1")
    args = [str(arg) for arg in commit_args]
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "PING": client.ping,
        # The path a commit takes (`SharedState.evalsha`), with no arguments, then with a commit's.
        "EVALSHA return 1": lambda: shared.evalsha(trivial, ()),
        "EVALSHA return 1, a commit's args": lambda: shared.evalsha(trivial, shared._data_keys, *args),
    }
    timings: dict[str, list[int]] = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(max(100, samples // 5)):
            await call()
    gc.collect()
    gc.disable()
    try:
        for _ in range(samples):
            for name, call in calls.items():
                started = time.perf_counter_ns()
                await call()
                timings[name].append(time.perf_counter_ns() - started)
    finally:
        gc.enable()
    return timings


# ------------------------------------------------------------------------------- the node and its day


class Clock:
    """The time the engine reads: moved by the bench only."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


@dataclass
class Node:
    engine: SharedEngine
    clock: Clock
    served: list[str]
    rng: random.Random
    arrivals: int = 0
    processed: int = 0

    @property
    def store(self) -> MemoryStore:
        return self.engine.store

    async def process(self, event: Event) -> None:
        await self.engine.process(event, self.clock)
        self.processed += 1

    def arrival(self) -> TaskArrived:
        self.arrivals += 1
        return TaskArrived(f"t{self.arrivals}", Channel.VOICE, self.rng.choice(self.served))

    def waiting(self) -> int:
        return sum(len(self.store.waiting(q)) for q in self.served)


async def deploy(url: str, name: str, agents: int, waiting: int, seed: int = 1) -> Node:
    """bench/routing.py's deployment, every agent logged in and busy, `waiting` tasks queued: all through the engine."""
    rng = random.Random(seed)
    config = deployment(agents, rng)
    topology = Topology.compile(config)
    shared = SharedState(url, name, "node-1")
    router = Router(topology, MemoryStore(), skills=frozenset(s.id for s in config.skills))
    engine = SharedEngine(shared, router, build_agents(config, topology), lambda decisions, first: None)
    await engine.load()
    await engine.add_missing_agents(START)
    store = engine.store  # the replica, read directly: through the recorder every read would be noted
    served = [q.id for q in config.queues if any(q.id in a.queue_steps for a in store.agents())]
    node = Node(engine, Clock(START), served, rng)
    for agent_id in [a.id for a in store.agents()]:
        await node.process(AgentLoggedIn(agent_id))
    while any(a.state.value == "available" for a in store.agents()) and node.arrivals < agents * 20:
        await node.process(node.arrival())
    for agent in [a for a in store.agents() if a.reservation]:
        await node.process(OfferAccepted(agent.reservation or "", agent.id))
    while node.waiting() < waiting:
        await node.process(node.arrival())
    return node


@dataclass(frozen=True, slots=True)
class Call:
    """One timed `engine.process`: its kind, its time and its parts (ns), and the size of its commit."""

    kind: str
    ns: int
    parts: tuple[int, ...]  # in the order of PARTS
    payload_bytes: int  # the change as the stream keeps it
    args_bytes: int  # every EVALSHA argument (keys, payload, writes), without the protocol's framing


@dataclass
class Probe:
    """Times the parts of `SharedEngine.process` on one engine, and keeps the arguments of its commits."""

    parts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PARTS, 0))
    commits: list[list[Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.parts = dict.fromkeys(PARTS, 0)
        self.commits = []

    def timing(self, part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter_ns()
            try:
                return function(*args, **kwargs)
            finally:
                self.parts[part] += time.perf_counter_ns() - started

        return timed

    def commit(self, shared: SharedState) -> Callable[..., Awaitable[Any]]:
        original = shared.commit

        async def commit(position: int, epoch: str, payload: str, writes: str, window: int = 1000) -> Any:
            # References only: the sizes are counted once the decision's time is taken.
            args = [position, epoch, payload, shared.stream_length, window, shared.node, TURN_MS, writes]
            self.commits.append(args)
            started = time.perf_counter_ns()
            try:
                return await original(position, epoch, payload, writes, window)
            finally:
                self.parts["commit"] += time.perf_counter_ns() - started

        return commit

    @contextmanager
    def installed(self, engine: SharedEngine) -> Iterator[None]:
        """Wrap this engine's router, recorder and commit, and the payload encoders the engine module calls."""
        with ExitStack() as stack:
            patch = stack.enter_context
            patch(mock.patch.object(engine.router, "process", self.timing("router", engine.router.process)))
            patch(mock.patch.object(engine.recorder, "change", self.timing("record", engine.recorder.change)))
            patch(mock.patch.object(engine.shared, "commit", self.commit(engine.shared)))
            for name in ("redis_writes",):
                patch(mock.patch.object(engine_module, name, self.timing("encode", getattr(engine_module, name))))
            yield


@dataclass
class Day:
    calls: list[Call] = field(default_factory=list)
    commit_args: list[list[Any]] = field(default_factory=list)  # every 50th commit's arguments
    script_us: float = 0.0  # the commit script's mean time inside Redis (INFO commandstats)
    slowest_script_ms: float = 0.0  # the longest command in Redis's slow log (10 ms and over)
    #: EVALSHA of `return 1` timed right after each round's last decision, as a commit comes after the
    #: decision's Python work: the floor in the decisions' own conditions, for comparison only.
    floor_in_context: list[int] = field(default_factory=list)

    def stats(self, kind: str | None = None) -> Stats:
        return Stats([c.ns for c in self.calls if kind is None or c.kind == kind])

    def part(self, part: str) -> Stats:
        if part == "rest":
            return Stats([c.ns - sum(c.parts) for c in self.calls])
        return Stats([c.parts[PARTS.index(part)] for c in self.calls])

    def typical_args(self) -> list[Any]:
        """The arguments of the sampled commit whose size is closest to the median commit's."""
        target = statistics.median(c.args_bytes for c in self.calls)
        return min(self.commit_args, key=lambda args: abs(_size(args) - target))


async def day(node: Node, rounds: int) -> Day:
    """bench/routing.py's loop: an agent completes (and is offered the next task), accepts, a task arrives."""
    result, probe, store = Day(), Probe(), node.store
    busy = [a.id for a in store.agents() if a.tasks]
    keys = node.engine.shared.keys.data()

    async def timed(kind: str, event: Event) -> None:
        probe.reset()
        started = time.perf_counter_ns()
        await node.process(event)
        elapsed = time.perf_counter_ns() - started
        assert len(probe.commits) == 1, "one node alone commits every event at the first try"
        args = list(probe.commits[0])  # the writes are one argument
        result.calls.append(Call(kind, elapsed, tuple(probe.parts.values()), len(args[2].encode()), _size(keys + args)))
        if len(result.calls) % 50 == 0:
            result.commit_args.append(args)

    trivial = node.engine.shared._client.register_script("return 1")
    admin = aioredis.Redis.from_url(node.engine.shared.url, decode_responses=True)
    await admin.config_resetstat()
    await admin.slowlog_reset()
    gc.collect()
    gc.disable()
    try:
        with probe.installed(node.engine):
            for _ in range(rounds):
                node.clock.now += 0.01
                agent = store.agent(node.rng.choice(busy))
                if agent is None or not agent.tasks:
                    continue  # not with tasks waiting: every completion is offered the next one
                await timed("completion+offer", TaskCompleted(next(iter(agent.tasks)), agent.id))
                if agent.reservation:
                    await timed("accept", OfferAccepted(agent.reservation, agent.id))
                await timed("arrival", node.arrival())
                started = time.perf_counter_ns()
                await node.engine.shared.evalsha(trivial, ())
                result.floor_in_context.append(time.perf_counter_ns() - started)
    finally:
        gc.enable()
    result.script_us = float((await admin.info("commandstats")).get("cmdstat_evalsha", {}).get("usec_per_call", 0))
    result.slowest_script_ms = max((int(e["duration"]) for e in await admin.slowlog_get(128)), default=0) / 1000
    await admin.aclose()
    return result


# ------------------------------------------------------------------------------------------ one transport


@dataclass
class Concurrent:
    """The same day through the service, many agents at once: the events waiting are committed together."""

    workers: int
    events: int
    seconds: float
    latency: Stats
    commits: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def concurrent(url: str, name: str, args: argparse.Namespace) -> Concurrent:
    """A second node process's view: `acd serve`'s service on the state the sequential run left in Redis."""
    config = deployment(args.agents, random.Random(1))  # the same deployment: same seed, same first draws
    clock = Clock(START + 3600)
    service = AcdService(config, clock=clock, shared=SharedState(url, name, "node-2"))
    latencies: list[int] = []
    arrivals = 0
    async with service.running():
        store = service.store
        busy = [a.id for a in store.agents() if a.tasks]
        served = [q.id for q in config.queues if any(q.id in a.queue_steps for a in store.agents())]
        rng = random.Random(2)
        commits_before = service.engine.position if service.engine else 0

        async def submit(event: Event) -> None:
            started = time.perf_counter_ns()
            await service.submit(event)
            latencies.append(time.perf_counter_ns() - started)

        async def worker(agents: list[str], rounds: int) -> None:
            nonlocal arrivals
            for _ in range(rounds):
                agent = store.agent(rng.choice(agents))
                if agent is None or not agent.tasks:
                    continue
                await submit(TaskCompleted(next(iter(agent.tasks)), agent.id))
                if agent.reservation:
                    await submit(OfferAccepted(agent.reservation, agent.id))
                arrivals += 1
                await submit(TaskArrived(f"c{arrivals}", Channel.VOICE, rng.choice(served)))

        shares = [busy[i :: args.workers] for i in range(args.workers)]
        # Untimed first: the node's first events compute each queue's next opening change (once a day).
        await asyncio.gather(*(worker(share, WARM_UP_ROUNDS // args.workers + 1) for share in shares))
        latencies.clear()
        commits_before = service.engine.position if service.engine else 0
        gc.collect()
        gc.disable()
        started = time.perf_counter()
        try:
            await asyncio.gather(*(worker(share, args.events // args.workers) for share in shares))
        finally:
            gc.enable()
        seconds = time.perf_counter() - started
        commits = (service.engine.position if service.engine else 0) - commits_before
    return Concurrent(args.workers, len(latencies), seconds, Stats(latencies), commits)


@dataclass
class Result:
    transport: str
    setup_s: float
    setup_events: int
    waiting: int
    floors: dict[str, Stats]
    evalsha_p50_before_after: tuple[float, float]
    day: Day
    concurrent: Concurrent


async def measure(transport: str, url: str, args: argparse.Namespace) -> Result:
    flush = aioredis.Redis.from_url(url)
    await flush.flushall()
    await flush.aclose()
    started = time.perf_counter()
    node = await deploy(url, f"bench-{transport}", args.agents, args.waiting)
    setup_s, setup_events = time.perf_counter() - started, node.processed
    commit_args = (await day(node, WARM_UP_ROUNDS)).typical_args()  # also warms the engine up
    before = await floors(node.engine.shared, args.samples // 2, commit_args)
    timed_day = await day(node, args.events)
    after = await floors(node.engine.shared, args.samples - args.samples // 2, commit_args)
    waiting = node.waiting()
    await node.engine.shared.close()
    drift = (Stats(before["EVALSHA return 1"]).p50, Stats(after["EVALSHA return 1"]).p50)
    pooled = {name: Stats(before[name] + after[name]) for name in before}
    loaded = await concurrent(url, f"bench-{transport}", args)
    return Result(transport, setup_s, setup_events, waiting, pooled, drift, timed_day, loaded)


# ---------------------------------------------------------------------------------------------- report


def report(results: list[Result], args: argparse.Namespace) -> None:
    print(
        f"{args.agents:,} agents, {QUEUES} queues, {SKILLS} skills, {args.waiting:,} tasks waiting; "
        f"{args.events:,} rounds of complete/accept/arrive after {WARM_UP_ROUNDS} untimed; "
        f"{args.samples:,} samples of each floor call"
    )
    for r in results:
        before, after = r.evalsha_p50_before_after
        print(
            f"{r.transport}: set up through the engine in {r.setup_s:.1f} s ({r.setup_events:,} events, "
            f"{r.setup_events / r.setup_s:,.0f}/s); {r.waiting:,} tasks waiting at the end; "
            f"EVALSHA p50 {before:.1f} µs before the decisions, {after:.1f} after"
        )
    print()
    _latencies(results)
    print()
    _breakdown(results)
    print()
    for r in results:
        c = r.concurrent
        print(
            f"{r.transport}: {c.workers} agents at once through the service: {c.events:,} events in {c.seconds:.1f} s "
            f"= {c.rate:,.0f} decisions/s in {c.commits:,} commits ({c.events / max(c.commits, 1):.1f} events "
            f"per commit); latency p50 {c.latency.p50:.0f} µs, p99 {c.latency.p99:.0f} µs"
        )
    print()
    for r in results:
        every, floor = r.day.stats(), r.floors["EVALSHA return 1"]
        sequential, ratio = len(every.values) / (sum(every.values) / 1e9), every.p50 / floor.p50
        rate = r.concurrent.rate
        print(
            f"{r.transport:<5} {rate:7,.0f} decisions/s under load [{_verdict(rate >= RATE_TARGET)} >= "
            f"{RATE_TARGET:,}] ({sequential:,.0f}/s one at a time)   p50 of one decision {every.p50:.1f} µs = "
            f"{ratio:.2f} x EVALSHA p50 {floor.p50:.1f} µs [{_verdict(ratio <= RATIO_TARGET)} <= {RATIO_TARGET:g}]"
        )


def _latencies(results: list[Result]) -> None:
    header = "".join(f"{r.transport + ' p50':>10}{'p99':>9}{'mean':>9}" for r in results)
    print(f"{'µs, each call alone':<46}{header}")
    for name in results[0].floors:
        print(f"{name:<46}" + "".join(_cells(r.floors[name]) for r in results))
    print(
        f"{'EVALSHA return 1, right after a decision':<46}"
        + "".join(_cells(Stats(r.day.floor_in_context)) for r in results)
    )
    print(f"{'decision: await engine.process(event, clock)':<46}" + "".join(_cells(r.day.stats()) for r in results))
    for kind in KINDS:
        print(f"{'  ' + kind:<46}" + "".join(_cells(r.day.stats(kind)) for r in results))


def _breakdown(results: list[Result]) -> None:
    print(f"{'where a decision goes, µs':<46}" + "".join(f"{r.transport + ' p50':>10}{'mean':>9}" for r in results))
    for part in (*PARTS, "rest"):
        cells = "".join(f"{r.day.part(part).p50:>10.1f}{r.day.part(part).mean:>9.1f}" for r in results)
        print(f"{LABELS[part]:<46}{cells}")
        if part == "commit":
            cells = "".join(f"{'':>10}{r.day.script_us:>9.1f}" for r in results)
            print(f"{'  of which the script in Redis (commandstats)':<46}{cells}")
    print()
    calls = results[0].day.calls  # the same events on every transport: the same commits
    sizes = ", ".join(
        f"{kind} {statistics.median(c.payload_bytes for c in calls if c.kind == kind):,.0f} "
        f"({max(c.payload_bytes for c in calls if c.kind == kind):,})"
        for kind in KINDS
    )
    print(
        f"commit size, bytes p50 (max): stream payload {sizes}; all EVALSHA arguments "
        f"{statistics.median(c.args_bytes for c in calls):,.0f} ({max(c.args_bytes for c in calls):,})"
    )
    for r in results:
        slowest = max(r.day.calls, key=lambda c: c.ns)
        parts = ", ".join(f"{part} {ns / 1e6:.1f}" for part, ns in zip(PARTS, slowest.parts))
        print(
            f"{r.transport}: slowest decision {slowest.ns / 1e6:.1f} ms ({slowest.kind}; {parts} ms), its commit "
            f"{slowest.args_bytes:,} bytes; longest command in Redis's slow log {r.day.slowest_script_ms:.1f} ms"
        )


def _size(args: list[Any]) -> int:
    return sum(len(str(a).encode()) for a in args)


def _cells(stats: Stats) -> str:
    return f"{stats.p50:>10.1f}{stats.p99:>9.1f}{stats.mean:>9.1f}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="timed rounds of complete/accept/arrive")
    parser.add_argument("--agents", type=int, default=2_000)
    parser.add_argument("--waiting", type=int, default=10_000, help="tasks waiting when the rounds start")
    parser.add_argument("--samples", type=int, default=6_000, help="timed calls of each floor kind")
    parser.add_argument("--workers", type=int, default=32, help="agents acting at once in the loaded run")
    args = parser.parse_args()
    version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=True).stdout.split()[
        2
    ]
    print(
        f"redis-server {version.removeprefix('v=')}, redis-py {redis.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}"
    )
    with tempfile.TemporaryDirectory(prefix="acd-bench-") as directory, redis_server(Path(directory)) as server:
        transports = {"tcp": server.url, "unix": f"unix://{server.socket_path}"}
        results = [asyncio.run(measure(name, url, args)) for name, url in transports.items()]
    report(results, args)


if __name__ == "__main__":
    main()

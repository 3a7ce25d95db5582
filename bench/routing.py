"""Routing decisions per second and the latency of one decision, at 100, 2,000 and 10,000 agents.

Each run: 200 queues, 50 skills, every agent logged in and busy, 10,000 tasks waiting; then a loop of
the events that make a contact centre's day (a task arrives, an agent completes and is offered the best
waiting task, the agent accepts). Each `Router.process` call is timed alone with perf_counter_ns.
Run: .venv/bin/python bench/routing.py [--events N]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time

from acd.deployment.models import (
    AgentConfig,
    CalendarConfig,
    Deployment,
    QueueConfig,
    SiteConfig,
    SkillConfig,
    TeamConfig,
)
from acd.events import AgentLoggedIn, OfferAccepted, TaskArrived, TaskCompleted
from acd.model import Channel
from acd.router import Router
from acd.store import MemoryStore
from acd.topology import Topology, build_agents

QUEUES, SKILLS, WAITING = 200, 50, 10_000


def deployment(agents: int, rng: random.Random) -> Deployment:
    skills = [f"s{i}" for i in range(SKILLS)]
    teams = [TeamConfig(id=f"team{i}", name=f"team {i}", site="a" if i % 2 else "b") for i in range(agents // 5 + 1)]
    return Deployment(
        calendars=[
            CalendarConfig(
                id="always",
                hours={d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                public_holidays=False,
            )
        ],
        sites=[
            SiteConfig(id="a", name="A", departments=["69"], calendar="always"),
            SiteConfig(id="b", name="B", departments=["33"], calendar="always"),
        ],
        skills=[SkillConfig(id=s, name=s) for s in skills],
        teams=teams,
        agents=[
            AgentConfig(
                id=f"a{i}",
                name=f"a{i}",
                team=f"team{i // 5}",
                skills={s: rng.randint(1, 5) for s in rng.sample(skills, 5)},
            )
            for i in range(agents)
        ],
        queues=[
            QueueConfig(
                id=f"q{i}",
                name=f"q{i}",
                site="a",
                sites=["a", "b"],
                channels=["voice"],
                wrap_up=0,
                skills={skills[i % SKILLS]: 1 + (i // SKILLS) % 2},
                steps=[{"after": 60, "min_level": 1}],
            )
            for i in range(QUEUES)
        ],
    )


def run(agents: int, events: int, seed: int = 1) -> dict[str, float]:
    rng = random.Random(seed)
    config = deployment(agents, rng)
    topology = Topology.compile(config)
    store = MemoryStore()
    for agent in build_agents(config, topology):
        store.put_agent(agent)
    router = Router(topology, store)
    now = 1_795_420_800.0  # a Monday, 09:00 in Paris
    served = [q.id for q in config.queues if any(q.id in a.queue_steps for a in store.agents())]
    count = 0

    def arrive() -> list:
        nonlocal count
        count += 1
        return router.process(TaskArrived(f"t{count}", Channel.VOICE, rng.choice(served)), now)

    for agent in list(store.agents()):
        router.process(AgentLoggedIn(agent.id), now)
    while any(a.state.value == "available" for a in store.agents()) and count < agents * 20:
        arrive()
    for agent in list(store.agents()):
        if agent.reservation:
            router.process(OfferAccepted(agent.reservation, agent.id), now)
    while sum(len(store.waiting(q)) for q in served) < WAITING:
        arrive()

    timings: dict[str, list[int]] = {"arrival": [], "completion+offer": [], "accept": []}
    busy = [a for a in store.agents() if a.tasks]
    gc.collect()
    gc.disable()
    for _ in range(events):
        now += 0.01
        agent = rng.choice(busy)
        task_id = next(iter(agent.tasks))
        started = time.perf_counter_ns()
        router.process(TaskCompleted(task_id, agent.id), now)
        timings["completion+offer"].append(time.perf_counter_ns() - started)
        if agent.reservation:
            started = time.perf_counter_ns()
            router.process(OfferAccepted(agent.reservation, agent.id), now)
            timings["accept"].append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        arrive()
        timings["arrival"].append(time.perf_counter_ns() - started)
    gc.enable()
    every = sorted(t for values in timings.values() for t in values)
    result = {
        "agents": agents,
        "waiting": sum(len(store.waiting(q)) for q in served),
        "decisions_per_s": len(every) / (sum(every) / 1e9),
        "median_us": statistics.median(every) / 1000,
        "p99_us": every[int(len(every) * 0.99)] / 1000,
    }
    for name, values in timings.items():
        values.sort()
        result[f"{name}_median_us"] = statistics.median(values) / 1000
        result[f"{name}_p99_us"] = values[int(len(values) * 0.99)] / 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    print(f"{QUEUES} queues, {SKILLS} skills, {WAITING} tasks waiting, {args.events} rounds of complete/accept/arrive")
    rows = [run(agents, args.events) for agents in (100, 2_000, 10_000)]
    print(
        f"{'agents':>7} {'waiting':>8} {'decisions/s':>12} {'median µs':>10} {'p99 µs':>8}   per event: median / p99 µs"
    )
    for row in rows:
        detail = "  ".join(
            f"{name} {row[name + '_median_us']:.1f}/{row[name + '_p99_us']:.1f}"
            for name in ("arrival", "completion+offer", "accept")
        )
        print(
            f"{row['agents']:>7} {row['waiting']:>8} {row['decisions_per_s']:>12,.0f} {row['median_us']:>10.1f} "
            f"{row['p99_us']:>8.1f}   {detail}"
        )
    print(
        f"median from 100 to 10,000 agents: x{rows[2]['median_us'] / rows[0]['median_us']:.2f}; "
        f"p99: x{rows[2]['p99_us'] / rows[0]['p99_us']:.2f}"
    )


if __name__ == "__main__":
    main()

"""Several `acd serve` processes on one real redis-server: what an operator running three nodes relies on.

Each node is a real process started on a free port with `--store redis://…`; the tests drive them only
through HTTP and WebSocket, kill them with SIGKILL, and stop and restart Redis under them.
"""

from __future__ import annotations

import asyncio
import collections
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis as redis_py
from websockets.sync.client import connect

from acd.cli import DEMO_CONFIG, DEMO_PASSWORDS
from acd.deployment import load_deployment
from acd.topology import Topology, build_agents
from tests.servers import RedisServer, free_port, redis_sentinel, redis_server, until, wait_for_port

PATIENCE = 60.0
ALWAYS_OPEN = "\n".join(
    f"- id: {calendar}\n  public_holidays: false\n  hours:\n"
    + "".join(f'    {day}: ["00:00-24:00"]\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    for calendar in ("standard", "back-office")
)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demonstration deployment, open day and night so that the tests may run at any hour."""
    directory = tmp_path_factory.mktemp("nodes") / "config"
    shutil.copytree(DEMO_CONFIG, directory)
    (directory / "calendars.yaml").write_text(ALWAYS_OPEN)
    return directory


@dataclass
class Node:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, user: str = "admin", password: str = DEMO_PASSWORDS["admin"]) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30)
        token = client.post("/api/v1/auth/login", json={"user": user, "password": password}).json()["token"]
        client.headers["authorization"] = f"Bearer {token}"
        self.clients.append(client)
        return client


@dataclass
class Cluster:
    config: Path
    redis: RedisServer
    store: str | None = None  # what the nodes are given as --store (default: the Redis's own URL)
    nodes: list[Node] = field(default_factory=list)

    def start(self, name: str, *, wait: bool = True) -> Node:
        port = free_port()
        log = self.redis.directory / f"{name}.log"
        # Tasks come through the API here, not calls: without SIP, no phone registration gates voice offers.
        command = [
            sys.executable, "-m", "acd.cli", "serve", "--config", str(self.config), "--port", str(port),
            "--store", self.store or self.redis.url, "--node-id", name, "--log-level", "warning", "--sip", "off",
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        node = Node(name, port, process, log)
        self.nodes.append(node)
        if wait:
            wait_for_port(port, process, f"acd serve {name}", PATIENCE)
        return node

    def stop(self) -> None:
        for node in self.nodes:
            for client in node.clients:
                client.close()
            if node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)
                try:
                    node.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()


@pytest.fixture
def cluster(config: Path, tmp_path: Path) -> Iterator[Cluster]:
    with redis_server(tmp_path, appendonly=True) as redis:
        running = Cluster(config, redis)
        try:
            yield running
        finally:
            running.stop()


def agents_serving(config: Path, queue: str) -> list[str]:
    """Agents who serve `queue` from its first step, from the configuration itself."""
    deployment = load_deployment(config)
    topology = Topology.compile(deployment)
    return [a.id for a in build_agents(deployment, topology) if a.queue_steps.get(queue) == 0]


def serve_everything(node: Node, admin: httpx.Client, agents: list[str], expected: int) -> list[str]:
    """Answer, complete and wrap up every offer the agents get, through `node`, until `expected` are served."""
    served: list[str] = []
    deadline = time.monotonic() + 3 * PATIENCE
    while len(served) < expected:
        assert time.monotonic() < deadline, f"served {len(served)} of {expected}"
        idle = True
        for agent in agents:
            view = admin.get(f"/api/v1/agents/{agent}").json()
            task = view["reservation"]
            if task:
                idle = False
                assert admin.post(f"/api/v1/agents/{agent}/offers/{task}/accept").status_code == 200
                assert admin.post(f"/api/v1/agents/{agent}/tasks/{task}/complete").status_code == 200
                if admin.get(f"/api/v1/tasks/{task}").json()["state"] == "wrap_up":
                    admin.post(f"/api/v1/agents/{agent}/tasks/{task}/end-wrap-up")
                served.append(task)
        if idle:
            time.sleep(0.05)
    return served


def accepted_once(admin: httpx.Client, tasks: list[str]) -> None:
    """Each task answered exactly once in the shared event log, and completed."""
    accepted = admin.get("/api/v1/events", params={"kind": "offer_accepted", "limit": 10_000}).json()
    counts = collections.Counter(e["task"] for e in accepted)
    assert {t: counts[t] for t in tasks} == {t: 1 for t in tasks}
    for task in tasks:
        assert admin.get(f"/api/v1/tasks/{task}").json()["outcome"] == "completed"


def all_kept_and_served_once(
    config: Path, node: Node, admin: httpx.Client, other: httpx.Client, tasks: list[str]
) -> None:
    """Every task still waiting, then served through `node` by the queue's agents, each once (as `other` sees)."""
    assert [admin.get(f"/api/v1/tasks/{t}").json()["state"] for t in tasks] == ["queued"] * len(tasks)
    agents = agents_serving(config, QUEUE)
    for agent in agents:
        assert admin.post(f"/api/v1/agents/{agent}/login").status_code == 200
    served = serve_everything(node, admin, agents, len(tasks))
    assert sorted(served) == sorted(tasks)
    accepted_once(other, tasks)


class AsyncClients:
    """Async HTTP clients, one per node, closed together."""

    def __init__(self, nodes: list[Node], headers: list[httpx.Headers]) -> None:
        self.clients = [httpx.AsyncClient(base_url=node.url, headers=h, timeout=60) for node, h in zip(nodes, headers)]

    async def __aenter__(self) -> list[httpx.AsyncClient]:
        return self.clients

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients:
            await client.aclose()


QUEUE = "lons-tva"


def test_a_task_created_on_one_node_is_offered_to_an_agent_connected_to_another(cluster: Cluster) -> None:
    one, two = cluster.start("n1"), cluster.start("n2")
    agent = agents_serving(cluster.config, QUEUE)[0]
    on_two = two.client(agent, DEMO_PASSWORDS["agent"])
    token = on_two.headers["authorization"].split()[1]
    with connect(f"ws://127.0.0.1:{two.port}/api/v1/events?token={token}") as feed:
        assert on_two.post(f"/api/v1/agents/{agent}/login").json()["state"] == "available"
        task = one.client().post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE}).json()
        offers = []
        while not offers:
            event = json.loads(feed.recv(timeout=PATIENCE))
            offers = [event] if event["kind"] == "offered" else []
        assert (offers[0]["task"], offers[0]["agent"]) == (task["id"], agent)
        assert on_two.post(f"/api/v1/agents/{agent}/offers/{task['id']}/accept").json()["state"] == "busy"
    assert one.client().get(f"/api/v1/tasks/{task['id']}").json()["state"] == "assigned"


def test_a_thousand_tasks_through_three_nodes_are_each_served_once(cluster: Cluster) -> None:
    nodes = [cluster.start(f"n{i}") for i in range(3)]
    admins = [node.client() for node in nodes]
    agents = agents_serving(cluster.config, QUEUE)
    for i, agent in enumerate(agents):
        assert admins[i % 3].post(f"/api/v1/agents/{agent}/login").status_code == 200

    async def create_all() -> list[str]:
        limit = asyncio.Semaphore(60)
        headers = [admin.headers for admin in admins]
        async with AsyncClients(nodes, headers) as clients:

            async def create(i: int) -> str:
                async with limit:
                    answer = await clients[i % 3].post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE})
                    assert answer.status_code == 201, answer.text
                    return str(answer.json()["id"])

            return list(await asyncio.gather(*(create(i) for i in range(1000))))

    tasks = asyncio.run(create_all())
    assert len(set(tasks)) == 1000
    served = serve_everything(nodes[1], admins[1], agents, 1000)
    assert sorted(served) == sorted(tasks)
    accepted_once(admins[2], tasks)


def test_a_node_killed_while_holding_reservations_loses_no_task(cluster: Cluster) -> None:
    one, two, three = (cluster.start(name) for name in ("n1", "n2", "n3"))
    admin_one, admin_three = one.client(), three.client()
    agents = agents_serving(cluster.config, QUEUE)
    for agent in agents:
        admin_three.post(f"/api/v1/agents/{agent}/login")  # every agent's session goes through n3
    tasks = [
        admin_three.post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE}).json()["id"] for _ in range(20)
    ]
    reserved = [a for a in agents if admin_one.get(f"/api/v1/agents/{a}").json()["state"] == "reserved"]
    assert reserved, "the test wants reservations held through n3"
    three.process.send_signal(signal.SIGKILL)
    three.process.wait()
    until(
        "n3's agents are taken back",
        lambda: all(admin_one.get(f"/api/v1/agents/{a}").json()["reason"] == "node_lost" for a in agents),
    )
    states = [admin_one.get(f"/api/v1/tasks/{t}").json()["state"] for t in tasks]
    assert set(states) == {"queued"}, states  # every reservation went back, no task lost
    for agent in agents:  # the agents come back through n1
        assert admin_one.put(f"/api/v1/agents/{agent}/state", json={"state": "available"}).status_code == 200
    served = serve_everything(two, two.client(), agents, len(tasks))
    assert sorted(served) == sorted(tasks)
    accepted_once(admin_one, tasks)


def test_redis_restarted_with_its_append_only_file_keeps_every_task(cluster: Cluster) -> None:
    one, two = cluster.start("n1"), cluster.start("n2")
    admin_one = one.client()
    tasks = [admin_one.post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE}).json()["id"] for _ in range(30)]
    cluster.redis.kill()  # SIGKILL: only what the append-only file holds survives
    down = admin_one.post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE})
    assert down.status_code == 503 and down.json()["error"] == "store-unavailable", down.text
    assert "cannot be reached" in down.json()["message"]
    assert admin_one.get("/api/v1/health").status_code == 503
    assert one.process.poll() is None and two.process.poll() is None  # nothing crashed
    cluster.redis.start()
    until("n1 serves again", lambda: admin_one.get("/api/v1/health").status_code == 200)
    admin_two = two.client()
    until("n2 serves again", lambda: admin_two.get("/api/v1/health").status_code == 200)
    all_kept_and_served_once(cluster.config, two, admin_two, admin_one, tasks)


def test_a_node_started_before_redis_waits_for_it_then_serves(cluster: Cluster) -> None:
    cluster.redis.stop()
    node = cluster.start("n1", wait=False)
    until("the node says it waits", lambda: b"waiting for the shared store" in node.log.read_bytes())
    assert node.process.poll() is None
    cluster.redis.start()
    wait_for_port(node.port, node.process, "acd serve n1", PATIENCE)
    assert node.client().get("/api/v1/health").json()["status"] == "ok"


def test_a_redis_that_lost_its_state_is_noticed_without_waiting_for_a_write(cluster: Cluster) -> None:
    node = cluster.start("n1")
    admin = node.client()
    task = admin.post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE}).json()["id"]
    cluster.redis.kill()
    shutil.rmtree(cluster.redis.directory / "appendonlydir")  # as a Redis run without persistence restarts
    cluster.redis.start()
    # The sessions were in the lost state too: logged out, as the agents are.
    until("n1 serves again", lambda: admin.get("/api/v1/health").status_code == 200)
    assert admin.get(f"/api/v1/tasks/{task}").status_code == 401
    admin = node.client()
    # The node does not go on serving its old replica as if nothing happened: it takes what Redis holds.
    until("n1 reloads the state Redis holds", lambda: admin.get(f"/api/v1/tasks/{task}").status_code == 404)
    agent = agents_serving(cluster.config, QUEUE)[0]
    assert admin.get(f"/api/v1/agents/{agent}").json()["state"] == "offline"
    assert b"the shared state was lost" in node.log.read_bytes()


def test_under_sentinel_a_failover_to_the_replica_keeps_every_task(config: Path, tmp_path: Path) -> None:
    with (
        redis_server(tmp_path / "master", appendonly=True) as master,
        redis_server(tmp_path / "replica", appendonly=True, replica_of=master.port) as replica,
        redis_sentinel(tmp_path / "sentinel", master.port, "acd") as sentinel_port,
    ):
        cluster = Cluster(config, master, store=f"redis+sentinel://127.0.0.1:{sentinel_port}/acd")
        sentinel = redis_py.Redis(port=sentinel_port, decode_responses=True)
        try:
            one, two = cluster.start("n1"), cluster.start("n2")
            admin_one, admin_two = one.client(), two.client()
            tasks = [
                admin_one.post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE}).json()["id"]
                for _ in range(20)
            ]
            # Replication is asynchronous: wait until the replica has every write, or the failover loses them.
            with redis_py.Redis(port=master.port) as direct:
                assert direct.execute_command("WAIT", 1, 10_000) == 1
            master.kill()
            down = admin_one.post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE})
            assert down.status_code == 503 and down.json()["error"] == "store-unavailable", down.text
            until(
                "Sentinel promotes the replica",
                lambda: sentinel.sentinel_get_master_addr_by_name("acd") == ("127.0.0.1", replica.port),
            )
            until("n1 writes to the new master", lambda: admin_one.get("/api/v1/health").status_code == 200)
            created = admin_one.post("/api/v1/tasks", json={"channel": "voice", "queue": QUEUE})
            assert created.status_code == 201, created.text
            tasks.append(created.json()["id"])
            until("n2 serves again", lambda: admin_two.get("/api/v1/health").status_code == 200)
            until(
                "n2 sees the task created after the failover",
                lambda: admin_two.get(f"/api/v1/tasks/{tasks[-1]}").status_code == 200,
            )
            all_kept_and_served_once(cluster.config, two, admin_two, admin_one, tasks)
            assert one.process.poll() is None and two.process.poll() is None
        finally:
            sentinel.close()
            cluster.stop()

"""A running ACD on a free port: uvicorn serving the real application in a thread of the test process."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn

from acd.api.app import create_app
from acd.auth import hash_password
from acd.deployment.models import Deployment, UserConfig
from acd.redisstore.client import SharedState
from acd.service import AcdService
from tests.acd import builders
from tests.servers import RedisServer, free_port

SALT = b"0123456789abcdef"
PASSWORD = "correct horse"
HASH = hash_password(PASSWORD, salt=SALT)


def with_users(deployment: Deployment) -> Deployment:
    users = [UserConfig(id=a.id, name=a.name, role="agent", password_hash=HASH, agent=a.id) for a in deployment.agents]
    users.append(UserConfig(id="sup-lons", name="Sup", role="supervisor", password_hash=HASH, teams=["lons-a"]))
    users.append(UserConfig(id="admin", name="Admin", role="admin", password_hash=HASH))
    return deployment.model_copy(update={"users": users})


@dataclass
class Running:
    url: str
    service: AcdService
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, user: str | None = None) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=10)
        self.clients.append(client)
        if user is not None:
            answer = client.post("/api/v1/auth/login", json={"user": user, "password": PASSWORD})
            answer.raise_for_status()
            client.headers["authorization"] = f"Bearer {answer.json()['token']}"
        return client

    def token(self, user: str) -> str:
        return self.client(user).headers["authorization"].split()[1]


_names = itertools.count()


@contextmanager
def serving(service: AcdService) -> Iterator[Running]:
    """`service`'s application served by uvicorn in a thread, on a free port, until the block ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the ACD did not start")
        time.sleep(0.02)
    running = Running(f"http://127.0.0.1:{port}", service)
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=10)


def shared_state(request: pytest.FixtureRequest) -> SharedState | None:
    """For a test run on both stores: None in memory, else a deployment of its own in the tests' Redis."""
    if request.param != "redis":
        return None
    redis: RedisServer = request.getfixturevalue("shared_redis")
    return SharedState(redis.url, f"api-{next(_names)}", "node-api")


@pytest.fixture(params=["memory", "redis"])
def acd_server(request: pytest.FixtureRequest) -> Iterator[Running]:
    service = AcdService(with_users(builders.deployment(hours="00:00-24:00")), shared=shared_state(request))
    with serving(service) as running:
        yield running

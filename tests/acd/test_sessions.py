"""One session on every node: real `acd serve` processes on one real redis-server, and the session store
itself against Redis.

What a user behind a load balancer relies on: a token issued by one node works on the others (the
WebSocket feed included), a log-out on one ends it on all (an open feed too), a node's restart logs nobody
out, but a user removed or whose password changed is logged out by it, and one whose role changed gets its
new rights; an expired token is refused everywhere, and a Redis outage answers 503, never a 401 that would
log people out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis as redis_py
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from acd.auth import Directory, InvalidToken, hash_password, token_key
from acd.cli import DEMO_PASSWORDS
from acd.logins import Window
from acd.redisstore.client import SharedState, StoreUnavailable
from acd.redisstore.sessions import RedisAttempts, RedisSessions, _window
from acd.sessions import MemorySessions
from tests.acd.test_auth import changed
from tests.acd.test_auth import deployment as small_deployment
from tests.acd.test_nodes import PATIENCE, QUEUE, Cluster, Node, cluster, config  # noqa: F401 (fixtures)
from tests.servers import RedisServer, redis_server, until

ADMIN = {"user": "admin", "password": DEMO_PASSWORDS["admin"]}


def log_in(node: Node, credentials: dict[str, str] = ADMIN) -> str:
    answer = httpx.post(f"{node.url}/api/v1/auth/login", json=credentials, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def status(node: Node, token: str, path: str = "/api/v1/queues") -> int:
    return httpx.get(f"{node.url}{path}", headers={"authorization": f"Bearer {token}"}, timeout=30).status_code


def feed(node: Node, token: str) -> str:
    return f"ws://127.0.0.1:{node.port}/api/v1/events?token={token}"


def test_a_token_from_one_node_works_on_another_its_feed_included(cluster: Cluster) -> None:
    one, two = cluster.start("n1"), cluster.start("n2")
    token = log_in(one)
    assert status(one, token) == 200 and status(two, token) == 200
    with connect(feed(two, token)) as events:
        created = httpx.post(
            f"{one.url}/api/v1/tasks",
            json={"channel": "voice", "queue": QUEUE},
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        seen = json.loads(events.recv(timeout=PATIENCE))
        assert (seen["kind"], seen["task"]) == ("task_queued", created.json()["id"])


def test_a_log_out_on_one_node_ends_the_session_on_every_node(cluster: Cluster) -> None:
    one, two = cluster.start("n1"), cluster.start("n2")
    token = log_in(one)
    assert status(two, token) == 200
    out = httpx.post(f"{two.url}/api/v1/auth/logout", headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert out.status_code == 204
    assert status(one, token) == 401 and status(two, token) == 401
    for node in (one, two):
        with pytest.raises(InvalidStatus), connect(feed(node, token)):
            pass


def session_end(events: ClientConnection) -> tuple[int, str]:
    """How an open feed was closed: it receives nothing before."""
    with pytest.raises(ConnectionClosedError) as closed:
        events.recv(timeout=PATIENCE)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_a_log_out_on_one_node_ends_a_feed_open_on_another(cluster: Cluster) -> None:
    one, two = cluster.start("n1"), cluster.start("n2")
    token = log_in(one)
    with connect(feed(two, token)) as events:
        out = httpx.post(f"{one.url}/api/v1/auth/logout", headers={"authorization": f"Bearer {token}"}, timeout=30)
        assert out.status_code == 204
        assert session_end(events) == (4401, "session ended")


def test_a_restarted_node_keeps_its_sessions(cluster: Cluster) -> None:
    one = cluster.start("n1")
    token = log_in(one)
    one.process.send_signal(signal.SIGTERM)
    assert one.process.wait(timeout=PATIENCE) == 0
    again = cluster.start("n1")
    assert status(again, token) == 200


def user_block(users: str, user: str) -> str:
    """The entry of `user` in users.yaml's text."""
    found = re.search(rf"^- id: {user}\n(?:  .*\n)*", users, re.MULTILINE)
    assert found is not None, user
    return found.group(0)


def test_a_restart_applies_the_users_as_configured_now(config: Path, tmp_path: Path) -> None:
    mine = tmp_path / "config"
    shutil.copytree(config, mine)
    with redis_server(tmp_path / "redis", appendonly=True) as redis:
        nodes = Cluster(mine, redis)
        try:
            one, two = nodes.start("n1"), nodes.start("n2")
            admin, agent = log_in(one), log_in(two, {"user": "cmartin", "password": DEMO_PASSWORDS["agent"]})
            supervisor = log_in(one, {"user": "sup-lons-b", "password": DEMO_PASSWORDS["supervisor"]})
            kept = log_in(two, {"user": "sup-pau-a", "password": DEMO_PASSWORDS["supervisor"]})
            assert status(one, admin, "/api/v1/agents/cmartin") == 200
            for node in (one, two):
                node.process.send_signal(signal.SIGTERM)
                assert node.process.wait(timeout=PATIENCE) == 0
            users_yaml = mine / "users.yaml"
            users = users_yaml.read_text()
            admin_entry, sup_entry = user_block(users, "admin"), user_block(users, "sup-lons-b")
            new_hash = hash_password(DEMO_PASSWORDS["supervisor"])
            rehashed = re.sub(r'password_hash: ".*"', f'password_hash: "{new_hash}"', sup_entry)
            users = users.replace(user_block(users, "cmartin"), "").replace(sup_entry, rehashed)
            users_yaml.write_text(users.replace(admin_entry, admin_entry.replace("role: admin", "role: supervisor")))
            one, two = nodes.start("n1"), nodes.start("n2")
            for node in (one, two):
                assert status(node, agent) == 401  # removed
                assert status(node, supervisor) == 401  # its password changed (the same password, hashed anew)
                assert status(node, admin, "/api/v1/agents/cmartin") == 403  # a supervisor of no team now
                assert status(node, admin) == 200 and status(node, kept) == 200
            refused = httpx.get(f"{one.url}/api/v1/queues", headers={"authorization": f"Bearer {agent}"}, timeout=30)
            assert refused.json()["error"] == "invalid-token", refused.text
        finally:
            nodes.stop()


def test_an_expired_token_is_refused_on_every_node(config: Path, tmp_path: Path) -> None:
    short = tmp_path / "short-tokens"
    shutil.copytree(config, short)
    settings = short / "settings.yaml"
    settings.write_text(settings.read_text().replace("token_lifetime: 43200", "token_lifetime: 4"))
    with redis_server(tmp_path / "redis") as redis:
        nodes = Cluster(short, redis)
        try:
            one, two = nodes.start("n1"), nodes.start("n2")
            token = log_in(one)
            with redis_py.Redis(port=redis.port) as direct, connect(feed(two, token)) as events:
                (key,) = direct.keys("acd:{demo}:session:*")
                assert 0 < direct.pttl(key) <= 4000  # Redis drops it when it expires
                assert session_end(events) == (4401, "session ended")  # expired: checked again while idle
                until("the token expires", lambda: status(one, token) == 401, PATIENCE)
                assert status(two, token) == 401
                until("Redis drops the session", lambda: not direct.exists(key), PATIENCE)
        finally:
            nodes.stop()


def test_a_redis_outage_answers_503_and_logs_nobody_out(cluster: Cluster) -> None:
    one, two = cluster.start("n1"), cluster.start("n2")
    token = log_in(one)
    cluster.redis.kill()  # SIGKILL: the append-only file keeps the session
    for node in (one, two):
        down = httpx.get(f"{node.url}/api/v1/queues", headers={"authorization": f"Bearer {token}"}, timeout=30)
        assert down.status_code == 503 and down.json()["error"] == "store-unavailable", down.text
        login = httpx.post(f"{node.url}/api/v1/auth/login", json=ADMIN, timeout=30)
        assert login.status_code == 503 and login.json()["error"] == "store-unavailable", login.text
        # the feed cannot check the token either: refused, not logged out
        with pytest.raises(InvalidStatus), connect(feed(node, token)):
            pass
    cluster.redis.start()
    until("n1 takes the token again", lambda: status(one, token) == 200, PATIENCE)
    until("n2 takes the token again", lambda: status(two, token) == 200, PATIENCE)


def test_the_log_in_limits_hold_across_the_nodes(cluster: Cluster) -> None:
    one, two = cluster.start("n1"), cluster.start("n2")
    wrong = {"user": "admin", "password": "guess"}
    for node in (one, two, one, two, one):  # settings.yaml: 5 failures per user
        assert httpx.post(f"{node.url}/api/v1/auth/login", json=wrong, timeout=30).status_code == 401
    for node in (one, two):
        refused = httpx.post(f"{node.url}/api/v1/auth/login", json=ADMIN, timeout=30)
        assert refused.status_code == 429 and refused.json()["details"]["limit"] == "user", refused.text
    with redis_py.Redis(port=cluster.redis.port) as direct:
        assert 0 < direct.pttl("acd:{demo}:login:user:admin") <= 300_000  # gone with its window


# --------------------------------------------------------------------------- the stores against Redis

DIRECTORY = Directory(small_deployment(), agent_queues={})
SUE = DIRECTORY.authenticate("sup", "sup-secret")


@contextlib.asynccontextmanager
async def node_of(redis: RedisServer) -> AsyncIterator[SharedState]:
    shared = SharedState(redis.url, "sessions", "node-1")
    try:
        yield shared
    finally:
        await shared.close()


def test_redis_sessions_keep_only_the_tokens_hash_and_check_the_expiry(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        async with node_of(redis_db) as shared:
            sessions = RedisSessions(shared, DIRECTORY, lifetime=3600)
            token, expires = await sessions.issue(SUE, now=1000.0)
            assert expires == 4600.0 and await sessions.resolve(token, now=4599.0) == SUE
            with redis_py.Redis(port=redis_db.port) as direct:
                (key,) = direct.keys("*")
                assert key.decode() == f"acd:{{sessions}}:session:{token_key(token).hex()}"
                assert token.encode() not in key + direct.get(key)
                assert json.loads(direct.get(key))[:2] == ["sup", DIRECTORY.session(SUE).fingerprint]  # not the hash
                assert 3_590_000 < direct.pttl(key) <= 3_600_000
            with pytest.raises(InvalidToken, match="unknown or expired token"):
                await sessions.resolve(token, now=4600.0)  # expired by the clock, though Redis still has it
            with pytest.raises(InvalidToken, match="unknown or expired token"):
                await sessions.resolve("not-a-token", now=1000.0)
            await sessions.revoke(token)
            await sessions.revoke(token)  # twice is harmless
            with pytest.raises(InvalidToken):
                await sessions.resolve(token, now=1000.0)

    asyncio.run(scenario())


def test_memory_sessions_rebuild_the_principal_from_the_directory_too() -> None:
    async def scenario() -> None:
        sessions = MemorySessions(DIRECTORY, lifetime=60)
        token, _ = await sessions.issue(SUE, now=0.0)
        assert await sessions.resolve(token, now=1.0) == SUE
        sessions.directory = changed({"sup": None})
        with pytest.raises(InvalidToken, match="the session's user no longer exists"):
            await sessions.resolve(token, now=1.0)

    asyncio.run(scenario())


def test_a_session_record_nobody_wrote_is_refused(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        async with node_of(redis_db) as shared:
            with redis_py.Redis(port=redis_db.port) as direct:
                direct.set(shared.keys.session(token_key("forged")), '["x", "X", "emperor", null, [], 9e9]')
                direct.set(shared.keys.session(token_key("unknown")), '["nobody", "00", 9e9]')
            with pytest.raises(InvalidToken, match="unknown or expired token"):
                await RedisSessions(shared, DIRECTORY, lifetime=60).resolve("forged", now=0.0)
            with pytest.raises(InvalidToken, match="the session's user no longer exists"):
                await RedisSessions(shared, DIRECTORY, lifetime=60).resolve("unknown", now=0.0)

    asyncio.run(scenario())


def test_redis_sessions_and_counts_refuse_with_503_when_redis_is_down(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        async with node_of(redis_db) as shared:
            token, _ = await RedisSessions(shared, DIRECTORY, lifetime=60).issue(SUE, now=0.0)
            redis_db.stop()
            with pytest.raises(StoreUnavailable):
                await RedisSessions(shared, DIRECTORY, lifetime=60).resolve(token, now=1.0)
            with pytest.raises(StoreUnavailable):
                await RedisAttempts(shared).read(("address:a", "user:u"), now=1.0)

    asyncio.run(scenario())


def test_redis_counts_open_a_window_with_its_expiry(redis_db: RedisServer) -> None:
    async def scenario() -> None:
        async with node_of(redis_db) as shared:
            attempts = RedisAttempts(shared)
            both = ("address:192.0.2.1", "user:ana")
            assert await attempts.read(both, now=0.0) == (None, None)
            assert not await attempts.first_refusal("user:ana", now=0.0)
            for _ in range(3):
                await attempts.fail(both, now=0.0, window=300)
            address, user = await attempts.read(both, now=0.0)
            assert address is not None and user is not None
            assert (address.failures, user.failures) == (3, 3) and 299 < user.ends <= 300
            assert await attempts.first_refusal("user:ana", now=0.0)
            assert not await attempts.first_refusal("user:ana", now=0.0)
            await attempts.clear("user:ana")
            kept, cleared = await attempts.read(both, now=0.0)
            assert cleared is None and kept is not None and kept.failures == 3  # the address keeps its count
            with redis_py.Redis(port=redis_db.port) as direct:
                assert sorted(k.decode() for k in direct.keys("*")) == ["acd:{sessions}:login:address:192.0.2.1"]
                assert 0 < direct.pttl("acd:{sessions}:login:address:192.0.2.1") <= 300_000

    asyncio.run(scenario())


def test_a_window_is_what_redis_holds() -> None:
    assert _window(None, -2, 10.0) is None
    assert _window("4", 1500, 10.0) == Window(4, 11.5)
    assert _window("4", -1, 10.0) is None
    assert _window("four", 1500, 10.0) is None

"""The HTTP API and the WebSocket feed, driven over the network against the running application."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect

from acd.api import events
from tests.acd.api.conftest import Running


def state_of(server: Running) -> str:
    """Everything a refused request must leave as it was."""
    store = server.service.store
    return repr(sorted((t.id, t.place, t.agent, t.version) for t in store.tasks())) + repr(
        sorted((a.id, a.state, a.presence, a.reservation, sorted(a.tasks)) for a in store.agents())
    )


def test_a_call_goes_from_queue_to_agent_to_wrap_up(acd_server: Running) -> None:
    admin, ana = acd_server.client("admin"), acd_server.client("ana")
    assert ana.post("/api/v1/agents/ana/login").json()["state"] == "available"
    created = admin.post(
        "/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva", "attributes": {"department": "69"}}
    )
    assert created.status_code == 201
    task = created.json()
    assert task["state"] == "reserved" and task["agent"] == "ana"
    agent = ana.post(f"/api/v1/agents/ana/offers/{task['id']}/accept").json()
    assert agent["state"] == "busy" and agent["tasks"] == [task["id"]]
    agent = ana.post(f"/api/v1/agents/ana/tasks/{task['id']}/complete").json()
    assert agent["state"] == "wrap_up"
    agent = ana.post(f"/api/v1/agents/ana/tasks/{task['id']}/end-wrap-up").json()
    assert agent["state"] == "available"
    assert admin.get(f"/api/v1/tasks/{task['id']}").json()["outcome"] == "completed"
    kinds = [e["kind"] for e in admin.get("/api/v1/events", params={"task": task["id"]}).json()]
    assert kinds == ["task_queued", "offered", "offer_accepted", "task_completed", "task_ended"]
    queue = admin.get("/api/v1/queues/lons-tva").json()
    assert queue["today"]["answered"] == 1 and queue["today"]["completed"] == 1
    assert queue["today"]["service_level"] == 1.0


def test_waiting_task_has_position_and_estimated_wait(acd_server: Running) -> None:
    admin, ana = acd_server.client("admin"), acd_server.client("ana")
    ana.post("/api/v1/agents/ana/login", json={"ready": False})
    ids = [admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).json()["id"] for _ in range(3)]
    third = admin.get(f"/api/v1/tasks/{ids[2]}").json()
    assert third["state"] == "queued" and third["position"] == 3
    assert third["estimated_wait"] is None  # nobody ready serves the queue: no estimate rather than a wrong one
    ana.put("/api/v1/agents/ana/state", json={"state": "available"})
    third = admin.get(f"/api/v1/tasks/{ids[2]}").json()
    assert third["position"] == 2  # the first went to ana
    assert third["estimated_wait"] == pytest.approx(2 * 300 / 1)


def test_call_back_keeps_the_place(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    first = admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).json()
    admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"})
    callback = admin.post(f"/api/v1/tasks/{first['id']}/callback", json={"number": "+33384000000"})
    assert callback.status_code == 201
    body = callback.json()
    assert body["channel"] == "callback" and body["position"] == 1 and body["entered_at"] == first["entered_at"]
    assert admin.get(f"/api/v1/tasks/{first['id']}").json()["outcome"] == "callback"


def test_websocket_streams_an_agents_offers_to_that_agent_only(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    ana = acd_server.client("ana")
    ana.post("/api/v1/agents/ana/login", json={"ready": False})
    feeds = acd_server.url.replace("http", "ws") + "/api/v1/events?token="
    with connect(feeds + acd_server.token("ana")) as feed, connect(feeds + acd_server.token("bob")) as other:
        ana.put("/api/v1/agents/ana/state", json={"state": "available"})
        task = admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).json()
        seen = [json.loads(feed.recv(timeout=10)) for _ in range(3)]
        assert [e["kind"] for e in seen] == ["agent_state", "offered", "agent_state"]
        assert seen[1]["task"] == task["id"] and seen[1]["agent"] == "ana"
        with pytest.raises(TimeoutError):
            other.recv(timeout=0.3)


def test_websocket_refuses_a_bad_token(acd_server: Running) -> None:
    with pytest.raises(InvalidStatus), connect(acd_server.url.replace("http", "ws") + "/api/v1/events?token=nope"):
        pass


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("post", "/api/v1/tasks", {"channel": "voice", "queue": "nowhere"}, 404, "unknown-queue"),
        ("post", "/api/v1/tasks", {"channel": "fax", "queue": "lons-tva"}, 422, "invalid-request"),
        ("post", "/api/v1/tasks", {"channel": "chat", "queue": "lons-tva"}, 422, "channel-not-served"),
        ("post", "/api/v1/tasks", {"channel": "voice", "queue": "lons-tva", "colour": "red"}, 422, "invalid-request"),
        (
            "post",
            "/api/v1/tasks",
            {"channel": "voice", "queue": "lons-tva", "required_skills": {"x": 2}},
            422,
            "invalid-event",
        ),
        ("post", "/api/v1/tasks", b"{not json", 400, "malformed-json"),
        ("get", "/api/v1/tasks/none", None, 404, "unknown-task"),
        ("delete", "/api/v1/tasks/none", None, 404, "unknown-task"),
        ("post", "/api/v1/agents/zed/login", None, 404, "unknown-agent"),
        ("post", "/api/v1/agents/ana/logout", None, 409, "invalid-transition"),
        ("put", "/api/v1/agents/ana/state", {"state": "not_ready"}, 422, "invalid-request"),
        ("put", "/api/v1/agents/ana/state", {"state": "asleep"}, 422, "invalid-request"),
        ("get", "/api/v1/queues/nowhere", None, 404, "unknown-queue"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    acd_server: Running, method: str, path: str, body: object, status: int, error: str
) -> None:
    admin = acd_server.client("admin")
    before = state_of(acd_server)
    if isinstance(body, bytes):
        answer = admin.request(method, path, content=body, headers={"content-type": "application/json"})
    else:
        answer = admin.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    assert answer.json()["message"]
    assert state_of(acd_server) == before


def test_wrong_state_transition_is_refused_with_the_state_named(acd_server: Running) -> None:
    admin, ana = acd_server.client("admin"), acd_server.client("ana")
    ana.post("/api/v1/agents/ana/login")
    task = admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).json()
    before = state_of(acd_server)
    answer = ana.post(f"/api/v1/agents/ana/tasks/{task['id']}/complete")
    assert answer.status_code == 409
    assert answer.json() == {
        "error": "invalid-transition",
        "message": f"cannot complete task '{task['id']}': it is reserved",
        "details": {"task": task["id"], "state": "reserved"},
    }
    assert state_of(acd_server) == before


def test_another_agents_offer_is_refused(acd_server: Running) -> None:
    admin, ana, bob = acd_server.client("admin"), acd_server.client("ana"), acd_server.client("bob")
    ana.post("/api/v1/agents/ana/login")
    bob.post("/api/v1/agents/bob/login", json={"ready": False})
    task = admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).json()
    before = state_of(acd_server)
    # bob acting as ana: forbidden; bob accepting ana's offer in his own name: not his offer.
    assert bob.post(f"/api/v1/agents/ana/offers/{task['id']}/accept").status_code == 403
    answer = bob.post(f"/api/v1/agents/bob/offers/{task['id']}/accept")
    assert answer.status_code == 409 and answer.json()["error"] == "not-your-offer"
    assert state_of(acd_server) == before


def test_roles(acd_server: Running) -> None:
    ana, sup = acd_server.client("ana"), acd_server.client("sup-lons")
    assert ana.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).status_code == 403
    assert ana.get("/api/v1/stats/queue").status_code == 403
    assert sup.post("/api/v1/agents/ana/login").status_code == 200  # ana is in the supervisor's team
    assert sup.post("/api/v1/agents/fay/login").status_code == 403  # fay is not
    assert {a["id"] for a in sup.get("/api/v1/agents").json()} == {"ana", "bob", "cat"}
    assert [q["id"] for q in ana.get("/api/v1/queues").json()] == ["lons-tva", "lons-chat"]
    assert acd_server.client().get("/api/v1/queues").status_code == 401
    bad = acd_server.client().post("/api/v1/auth/login", json={"user": "ana", "password": "wrong"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid-credentials"
    ghost = acd_server.client().post("/api/v1/auth/login", json={"user": "ghost", "password": "wrong"})
    assert ghost.json()["message"] == bad.json()["message"]


def test_logout_revokes_the_token(acd_server: Running) -> None:
    ana = acd_server.client("ana")
    assert ana.post("/api/v1/auth/logout").status_code == 204
    assert ana.get("/api/v1/agents/ana").status_code == 401


def test_a_feed_ends_with_its_session_before_sending_anything_more(
    acd_server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "SESSION_CHECK", 3600.0)  # only the check before each batch can end it here
    admin, other = acd_server.client("admin"), acd_server.client("admin")
    token = admin.headers["authorization"].split()[1]
    with connect(acd_server.url.replace("http", "ws") + f"/api/v1/events?token={token}") as feed:
        assert other.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).status_code == 201
        assert json.loads(feed.recv(timeout=10))["kind"] == "task_queued"
        assert admin.post("/api/v1/auth/logout").status_code == 204
        assert other.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).status_code == 201
        with pytest.raises(ConnectionClosedError) as closed:
            feed.recv(timeout=10)  # the task_queued of the second task never comes
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "session ended")


def test_an_idle_feed_ends_with_its_session(acd_server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "SESSION_CHECK", 0.2)
    ana = acd_server.client("ana")
    token = ana.headers["authorization"].split()[1]
    with connect(acd_server.url.replace("http", "ws") + f"/api/v1/events?token={token}") as feed:
        with pytest.raises(TimeoutError):
            feed.recv(timeout=1)  # checked again and again, still open while the session lasts
        assert ana.post("/api/v1/auth/logout").status_code == 204
        with pytest.raises(ConnectionClosedError) as closed:
            feed.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "session ended")


def test_openapi_document_describes_the_api(acd_server: Running) -> None:
    paths = acd_server.client().get("/openapi.json").json()["paths"]
    assert "/api/v1/tasks" in paths and "/api/v1/agents/{agent_id}/offers/{task_id}/accept" in paths


def test_websocket_gives_a_supervisor_its_teams_queues_only(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    ws = acd_server.url.replace("http", "ws") + f"/api/v1/events?token={acd_server.token('sup-lons')}"
    with connect(ws) as feed:
        admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "pau-tva"})  # no lons-a agent serves it
        lons = admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).json()
        seen = json.loads(feed.recv(timeout=10))
        assert (seen["kind"], seen["task"], seen["queue"]) == ("task_queued", lons["id"], "lons-tva")
        with pytest.raises(TimeoutError):
            feed.recv(timeout=0.3)


def test_event_log_filters_and_pages(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    ids = [admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).json()["id"] for _ in range(3)]
    admin.delete(f"/api/v1/tasks/{ids[1]}", params={"outcome": "abandoned"})  # the caller hung up
    ended = admin.get("/api/v1/events", params={"kind": "task_ended"}).json()
    assert [(e["task"], e["reason"]) for e in ended] == [(ids[1], "abandoned")]
    first_page = admin.get("/api/v1/events", params={"queue": "lons-tva", "limit": 2}).json()
    rest = admin.get("/api/v1/events", params={"queue": "lons-tva", "after": first_page[-1]["id"]}).json()
    assert [e["task"] for e in first_page + rest] == [ids[0], ids[1], ids[2], ids[1]]
    refused = admin.get("/api/v1/events", params={"kind": "no_such_kind"})
    assert refused.status_code == 422 and refused.json()["error"] == "invalid-request"


def test_statistics_by_dimension(acd_server: Running) -> None:
    admin, sup = acd_server.client("admin"), acd_server.client("sup-lons")
    admin.post("/api/v1/agents/ana/login")
    admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva", "attributes": {"department": "69"}})
    teams = {row["name"]: row for row in sup.get("/api/v1/stats/team").json()}
    assert teams["lons-a"]["agents"]["reserved"] == 1 and teams["lons-a"]["agents"]["offline"] == 2
    departments = {row["name"]: row["today"] for row in sup.get("/api/v1/stats/department").json()}
    assert departments["69"]["entered"] == 1 and departments["33"]["entered"] == 0
    assert admin.get("/api/v1/stats/planet").status_code == 422


def test_a_recording_is_only_the_acds_own_file_of_a_task_that_holds_one(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    plain = admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva"}).json()
    # An attribute given through the API names a file of the server: never served.
    forged = admin.post(
        "/api/v1/tasks", json={"channel": "email", "queue": "cfe-email", "attributes": {"recording": "/etc/passwd"}}
    ).json()
    for task in (plain, forged):
        reply = admin.get(f"/api/v1/tasks/{task['id']}/recording")
        assert reply.status_code == 404, reply.text
        assert reply.json()["error"] == "no-recording"
    assert admin.get("/api/v1/tasks/nope/recording").json()["error"] == "unknown-task"
    ana = acd_server.client("ana")  # an agent hears only the messages of its own tasks
    assert ana.get(f"/api/v1/tasks/{forged['id']}/recording").status_code == 403

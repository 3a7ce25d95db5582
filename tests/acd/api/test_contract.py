"""The API keeps its contract for any client: ids of a safe alphabet, one shape for every refusal, an OpenAPI
document that says what the server does, bounded input, and no 56-year waits."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from starlette.exceptions import HTTPException
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from acd.api.app import create_app
from acd.api.schemas import ID_MAX, ID_PATTERN
from acd.service import AcdService
from tests.acd import builders
from tests.acd.api.conftest import Running
from tests.acd.api.test_api import state_of

JSON = {"content-type": "application/json"}
memory_only = pytest.mark.parametrize("acd_server", ["memory"], indirect=True)

#: Ids at the edges of the alphabet: each first and last character, the longest, every punctuation mark.
EDGE_IDS = ["0", "z", "A" + "Z" * (ID_MAX - 1), "9_.:@+-a", "a" + "-" * (ID_MAX - 1), "Call.1@host:5060+x"]
#: What no id may be: a path separator, a dot segment, a leading mark, a space, non-ASCII, too long, empty.
BAD_IDS = ["bb/r1", ".", "..", "-a", "_a", "a b", "é", "a%2F", "a?b", "a#b", "a" * (ID_MAX + 1), ""]


def assert_refusal(answer: Any, status: int, error: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error", "message", "details"} and body["error"] == error and body["message"], body
    assert isinstance(body["details"], dict)
    return dict(body)


# ------------------------------------------------------------------ ids


def test_the_id_alphabet() -> None:
    accepted = [i for i in EDGE_IDS + BAD_IDS if re.fullmatch(ID_PATTERN, i)]
    assert accepted == EDGE_IDS
    # What the ACD makes itself stays inside: its tasks, its calls' tasks, the configuration's ids.
    for made in ("t-0123456789abcdef", "call-0123456789abcdef0123", "lons-tva", "sup-lons-a", "ana", "a_b.c"):
        assert re.fullmatch(ID_PATTERN, made)


@pytest.mark.parametrize("task_id", BAD_IDS)
def test_a_task_id_outside_the_alphabet_is_refused_and_nothing_is_queued(acd_server: Running, task_id: str) -> None:
    admin = acd_server.client("admin")
    before = state_of(acd_server)
    answer = admin.post("/api/v1/tasks", json={"id": task_id, "channel": "voice", "queue": "lons-tva"})
    refusal = assert_refusal(answer, 422, "invalid-request")
    assert refusal["details"]["problems"][0]["field"] == "id"
    assert state_of(acd_server) == before


def _sibling(task_id: str, mark: str) -> str:
    """Another id at the same edge: the same length (the longest stays the longest), one character changed."""
    return task_id[:-1] + mark if len(task_id) > 1 else task_id + mark


@pytest.mark.parametrize("task_id", EDGE_IDS)
def test_a_task_with_an_id_at_the_edges_goes_through_every_path(acd_server: Running, task_id: str) -> None:
    admin, ana = acd_server.client("admin"), acd_server.client("ana")
    ana.post("/api/v1/agents/ana/login")
    created = admin.post("/api/v1/tasks", json={"id": task_id, "channel": "voice", "queue": "lons-tva"})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == task_id and created.json()["agent"] == "ana"
    assert admin.get(f"/api/v1/tasks/{task_id}").json()["state"] == "reserved"
    assert ana.post(f"/api/v1/agents/ana/offers/{task_id}/accept").json()["tasks"] == [task_id]
    assert admin.get(f"/api/v1/tasks/{task_id}/recording").json()["error"] == "no-recording"
    assert ana.post(f"/api/v1/agents/ana/tasks/{task_id}/complete").json()["state"] == "wrap_up"
    assert ana.post(f"/api/v1/agents/ana/tasks/{task_id}/end-wrap-up").json()["state"] == "available"
    assert {e["task"] for e in admin.get("/api/v1/events", params={"task": task_id}).json()} == {task_id}
    # Refused, then cancelled: it leaves the queue, nobody waits for it.
    refused = _sibling(task_id, "+")
    assert admin.post("/api/v1/tasks", json={"id": refused, "channel": "voice", "queue": "lons-tva"}).status_code == 201
    assert ana.post(f"/api/v1/agents/ana/offers/{refused}/refuse").status_code == 200
    assert admin.get(f"/api/v1/tasks/{refused}").json()["state"] == "queued"
    assert admin.delete(f"/api/v1/tasks/{refused}").json()["outcome"] == "cancelled"
    # Turned into a call-back.
    called = _sibling(task_id, "@")
    ana.put("/api/v1/agents/ana/state", json={"state": "not_ready", "reason": "x"})
    assert admin.post("/api/v1/tasks", json={"id": called, "channel": "voice", "queue": "lons-tva"}).status_code == 201
    callback = admin.post(f"/api/v1/tasks/{called}/callback", json={"number": "+33384000000"})
    assert callback.status_code == 201, callback.text
    assert admin.get(f"/api/v1/tasks/{called}").json()["outcome"] == "callback"


ID_PATHS = [
    ("get", "/api/v1/tasks/{id}"),
    ("delete", "/api/v1/tasks/{id}"),
    ("get", "/api/v1/tasks/{id}/recording"),
    ("post", "/api/v1/tasks/{id}/callback"),
    ("get", "/api/v1/agents/{id}"),
    ("post", "/api/v1/agents/{id}/login"),
    ("post", "/api/v1/agents/{id}/logout"),
    ("put", "/api/v1/agents/{id}/state"),
    ("post", "/api/v1/agents/ana/offers/{id}/accept"),
    ("post", "/api/v1/agents/ana/offers/{id}/refuse"),
    ("post", "/api/v1/agents/ana/tasks/{id}/complete"),
    ("post", "/api/v1/agents/ana/tasks/{id}/end-wrap-up"),
    ("post", "/api/v1/agents/{id}/offers/t/accept"),
    ("get", "/api/v1/queues/{id}"),
    ("get", "/api/v1/events?task={id}"),
    ("get", "/api/v1/events?agent={id}"),
    ("get", "/api/v1/events?queue={id}"),
]
#: Bad ids that stay one path segment (a `/` makes another route, a `?` a query).
BAD_SEGMENTS = ["-a", "_a", "a b", "é", "a" * (ID_MAX + 1)]


@memory_only
@pytest.mark.parametrize(("method", "path"), ID_PATHS)
def test_every_id_bearing_path_refuses_an_id_outside_the_alphabet(acd_server: Running, method: str, path: str) -> None:
    admin = acd_server.client("admin")
    before = state_of(acd_server)
    body = {"callback": {"number": "+33384000000"}, "state": {"state": "available"}}.get(path.rsplit("/")[-1])
    for bad in BAD_SEGMENTS:
        assert_refusal(admin.request(method, path.format(id=bad), json=body), 422, "invalid-request")
    # The longest id of the alphabet is no 422: it reaches the route (unknown there).
    answer = admin.request(method, path.format(id="z" * ID_MAX), json=body)
    assert answer.status_code in (200, 404), answer.text
    assert state_of(acd_server) == before


# ------------------------------------------------------------------ one shape for every refusal


@memory_only
@pytest.mark.parametrize(
    ("body", "what"),
    [(b'{"channel": "voice", "queue": "\xff\xfe"}', "not UTF-8"), (b"[" * 10_000 + b"]" * 10_000, "10,000 deep")],
)
def test_a_body_json_cannot_read_is_refused_in_the_api_shape(acd_server: Running, body: bytes, what: str) -> None:
    admin = acd_server.client("admin")
    before = state_of(acd_server)
    answer = admin.post("/api/v1/tasks", content=body, headers={"content-type": "application/json"})
    assert_refusal(answer, 400, "malformed-json")
    assert state_of(acd_server) == before


@memory_only
def test_an_unknown_route_and_a_wrong_method_are_refused_in_the_api_shape(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    assert_refusal(admin.get("/api/v1/nowhere"), 404, "no-such-route")
    assert_refusal(acd_server.client().get("/"), 404, "no-such-route")
    # GET and DELETE of a task are two routes: the Allow header names both, whichever is asked.
    for method in ("OPTIONS", "PATCH", "PUT", "POST"):
        answer = admin.request(method, "/api/v1/tasks/t-1")
        assert_refusal(answer, 405, "method-not-allowed")
        assert answer.headers["allow"] == "DELETE, GET"
    answer = admin.put("/api/v1/tasks")
    assert_refusal(answer, 405, "method-not-allowed")
    assert answer.headers["allow"] == "POST"


# ------------------------------------------------------------------ the OpenAPI document


@memory_only
def test_the_openapi_document_declares_every_refusal_and_the_id_alphabet(acd_server: Running) -> None:
    document = acd_server.client().get("/openapi.json").json()
    error_schema = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"413", "503"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status[0] == "4" or status[0] == "5":
                    assert response["content"]["application/json"]["schema"] == error_schema, (method, path, status)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in ("task_id", "agent_id", "queue_id", "task"):
                    assert parameter["schema"]["pattern"] == ID_PATTERN and parameter["schema"]["maxLength"] == ID_MAX
            if path != "/api/v1/health" and not path.startswith("/api/v1/auth"):
                assert "401" in responses, (method, path)
    tasks = document["paths"]["/api/v1/tasks"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "422", "503"} <= set(tasks)
    cancel = document["paths"]["/api/v1/tasks/{task_id}"]["delete"]["parameters"]
    assert [p["schema"] for p in cancel if p["name"] == "outcome"] == [
        {"enum": ["cancelled", "abandoned"], "type": "string", "default": "cancelled", "title": "Outcome"}
    ]
    schemas = document["components"]["schemas"]
    assert schemas["NotReady"]["required"] == ["state", "reason"]
    assert schemas["NewTask"]["properties"]["attributes"]["maxProperties"] == 32
    assert schemas["NewTask"]["properties"]["id"]["anyOf"][0]["pattern"] == ID_PATTERN


@memory_only
def test_not_ready_without_a_reason_and_available_with_one_are_refused(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    admin.post("/api/v1/agents/ana/login")
    before = state_of(acd_server)
    refusal = assert_refusal(admin.put("/api/v1/agents/ana/state", json={"state": "not_ready"}), 422, "invalid-request")
    assert refusal["details"]["problems"][0]["field"].endswith("reason")
    extra = {"state": "available", "reason": "lunch"}
    assert_refusal(admin.put("/api/v1/agents/ana/state", json=extra), 422, "invalid-request")
    for outcome in ("completed", "rejected_closed", "callback", ""):
        assert_refusal(admin.delete("/api/v1/tasks/t-1", params={"outcome": outcome}), 422, "invalid-request")
    assert state_of(acd_server) == before
    lunch = admin.put("/api/v1/agents/ana/state", json={"state": "not_ready", "reason": "lunch"})
    assert lunch.json()["reason"] == "lunch"


# ------------------------------------------------------------------ bounded input


@memory_only
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"attributes": {f"a{i}": "x" for i in range(33)}}, "attributes"),
        ({"attributes": {"topic": "x" * 1025}}, "attributes.topic"),
        ({"attributes": {"": "x"}}, "attributes."),
        ({"not_before": 1e308}, "not_before"),
        ({"not_before": -1}, "not_before"),
        ({"priority": 10**30}, "priority"),
    ],
)
def test_a_task_out_of_bounds_is_refused(acd_server: Running, change: dict[str, Any], field: str) -> None:
    admin = acd_server.client("admin")
    before = state_of(acd_server)
    answer = admin.post("/api/v1/tasks", json={"channel": "voice", "queue": "lons-tva", **change})
    refusal = assert_refusal(answer, 422, "invalid-request")
    assert refusal["details"]["problems"][0]["field"].startswith(field)
    assert state_of(acd_server) == before


@memory_only
def test_numbers_must_be_finite(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    before = state_of(acd_server)
    for text in ("NaN", "Infinity", "-Infinity"):  # Python's json reads them; JSON has no such numbers
        body = f'{{"channel": "voice", "queue": "lons-tva", "not_before": {text}}}'
        answer = admin.post("/api/v1/tasks", content=body, headers=JSON)
        assert_refusal(answer, 422, "invalid-request")
        callback = f'{{"number": "+33384000000", "at": {text}}}'
        answer = admin.post("/api/v1/tasks/t-1/callback", content=callback, headers=JSON)
        assert_refusal(answer, 422, "invalid-request")
    for value in ("nan", "inf", "-inf", "1e308"):
        for name in ("since", "until"):
            assert_refusal(admin.get("/api/v1/events", params={name: value}), 422, "invalid-request")
    assert state_of(acd_server) == before


# ------------------------------------------------------------------ state_since


@memory_only
def test_an_agent_never_logged_in_has_no_time_in_state(acd_server: Running) -> None:
    admin = acd_server.client("admin")
    fresh = admin.get("/api/v1/agents/ana").json()
    assert (fresh["state"], fresh["state_since"], fresh["seconds_in_state"]) == ("offline", None, None)
    with connect(acd_server.url.replace("http", "ws") + f"/api/v1/events?token={acd_server.token('admin')}") as feed:
        admin.post("/api/v1/agents/ana/login")
        first = json.loads(feed.recv(timeout=10))
    assert (first["kind"], first["agent"], first["data"]) == (
        "agent_state",
        "ana",
        {"state": "available", "previous": "offline", "seconds": None},
    )
    after = admin.get("/api/v1/agents/ana").json()
    assert after["state_since"] is not None and after["seconds_in_state"] >= 0
    admin.post("/api/v1/agents/ana/logout")
    again = [e for e in admin.get("/api/v1/events", params={"kind": "agent_state"}).json() if e["agent"] == "ana"]
    assert again[-1]["data"]["previous"] == "available" and again[-1]["data"]["seconds"] >= 0


@memory_only
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/agents/ana/login", {"ready": 0}, "ready"),
        ("/api/v1/agents/ana/login", {"ready": "true"}, "ready"),
        ("/api/v1/tasks", {"channel": "voice", "queue": "lons-tva", "priority": "5"}, "priority"),
        ("/api/v1/tasks", {"channel": "voice", "queue": "lons-tva", "not_before": "5"}, "not_before"),
        ("/api/v1/tasks", {"channel": "voice", "queue": "lons-tva", "required_skills": {"tva": "3"}}, "required"),
        ("/api/v1/tasks/t-1/callback", {"number": "+33384000000", "at": "5"}, "at"),
    ],
)
def test_numbers_and_booleans_are_taken_as_json_writes_them(
    acd_server: Running, path: str, body: dict[str, Any], field: str
) -> None:
    """What the schema says is a number or a boolean: a string or a 0 is not taken for one."""
    admin = acd_server.client("admin")
    before = state_of(acd_server)
    refusal = assert_refusal(admin.post(path, json=body), 422, "invalid-request")
    assert refusal["details"]["problems"][0]["field"].startswith(field)
    assert state_of(acd_server) == before


@memory_only
def test_the_openapi_document_says_which_operations_take_a_bearer_token(acd_server: Running) -> None:
    document = acd_server.client().get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    secured = {
        (method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") == [{"bearer": []}]
    }
    assert ("post", "/api/v1/auth/login") not in secured and ("get", "/api/v1/health") not in secured
    assert ("post", "/api/v1/auth/logout") in secured and ("post", "/api/v1/tasks") in secured
    assert len(secured) == sum(len(ops) for ops in document["paths"].values()) - 2
    created = document["paths"]["/api/v1/tasks"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"] == {"$ref": "#/components/schemas/TaskView"}


@memory_only
def test_the_live_feed_refuses_a_filter_id_outside_the_alphabet(acd_server: Running) -> None:
    feed = acd_server.url.replace("http", "ws") + f"/api/v1/events?token={acd_server.token('admin')}"
    with pytest.raises(InvalidStatus), connect(feed + "&task=-a"):
        pass
    # the longest id is a filter like another
    with connect(feed + "&task=" + "z" * ID_MAX) as following, pytest.raises(TimeoutError):
        following.recv(timeout=0.3)


def test_any_other_refusal_of_the_framework_keeps_the_shape_and_its_headers() -> None:
    app = create_app(AcdService(builders.deployment()))

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "short and stout", headers={"X-Why": "tea"})

    async def ask() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://acd") as client:
            return await client.get("/teapot")

    answer = asyncio.run(ask())
    assert_refusal(answer, 418, "http-error")
    assert answer.json()["message"] == "short and stout" and answer.headers["x-why"] == "tea"

"""One place renders every refusal: `{"error": id, "message": ..., "details": ...}` with its status.

That includes what the framework refuses by itself (an unknown route, a wrong method, a body that is not
JSON, a body too large), and the OpenAPI document says it: `refusals(...)` declares an operation's statuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Route

from acd.auth import AuthError
from acd.errors import AcdError


class ErrorBody(BaseModel):
    """What every refusal answers."""

    error: str
    message: str
    details: dict[str, Any]


_MEANINGS = {
    400: "The body is not JSON (not UTF-8, malformed, or nested too deep).",
    401: "No bearer token, or an unknown, revoked or expired one.",
    403: "The caller's role may not do this.",
    404: "No such task, agent, queue, call or route.",
    405: "The path has no route for this method; the Allow header lists those it has.",
    409: "The task or agent is not in a state that allows this.",
    413: "The request's body is larger than the server accepts.",
    422: "A field, parameter or id is invalid; `details.problems` names each.",
    429: "Too many failed log-ins of this user or from this address: try again after `Retry-After` seconds.",
    500: "The server failed: a malformed password hash, a fault of the shared store, a call's media.",
    503: "The shared store cannot be reached (several nodes), or too many log-ins wait: try again.",
}


#: The refusal statuses the OpenAPI document can describe (`refusals`).
STATUSES = frozenset(_MEANINGS)


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of the refusals an operation can answer."""
    return {status: {"model": ErrorBody, "description": _MEANINGS[status]} for status in statuses}


def error_response(status: int, error_id: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse({"error": error_id, "message": message, "details": details or {}}, status_code=status)


async def _acd_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AcdError)
    return error_response(exc.status_code, exc.error_id, exc.message, exc.details)


async def _auth_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    response = error_response(exc.status_code, exc.error_id, exc.message, exc.details)
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in exc.details:  # RFC 9110 §10.2.3: whole seconds
        response.headers["Retry-After"] = str(exc.details["retry_after"])
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0]), "message": error["msg"]}
        for error in exc.errors()
    ]
    if any(error["type"] == "json_invalid" for error in exc.errors()):
        return error_response(400, "malformed-json", "the request body is not valid JSON", {"problems": problems})
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    message = f"{first['field']}: {first['message']}"
    return error_response(422, "invalid-request", message, {"problems": problems})


def _routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps an included router whole
        yield from _routes(included.routes) if included is not None else (route,)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers: Starlette's own 405 names only the first route's."""
    methods: set[str] = set()
    for route in _routes(request.app.router.routes):
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """What the framework refuses before a route runs, in the API's shape."""
    assert isinstance(exc, HTTPException)
    method, path = request.method, request.url.path
    if exc.status_code == 405:
        allow = allowed_methods(request)
        response = error_response(405, "method-not-allowed", f"{method} is not allowed on {path}", {"allowed": allow})
        response.headers["Allow"] = ", ".join(allow)
        return response
    if exc.status_code == 404:
        return error_response(404, "no-such-route", f"no route {method} {path}", {"path": path})
    if isinstance(exc, BodyTooLarge):
        return body_too_large(exc.limit)
    if exc.status_code == 400:
        # FastAPI's only own 400: a body json.loads cannot take (not UTF-8, or nested beyond the parser's depth).
        message = "the request body cannot be read as JSON: not UTF-8, or nested too deep"
        return error_response(400, "malformed-json", message)
    response = error_response(exc.status_code, "http-error", str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


class BodyTooLarge(HTTPException):
    """Raised by the body limit while the body is read; an HTTPException, so FastAPI lets it through as is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413)
        self.limit = limit


def body_too_large(limit: int) -> JSONResponse:
    response = error_response(413, "body-too-large", f"the request body is over {limit} bytes", {"limit": limit})
    # The rest of the body is never read: the connection cannot carry another request after it.
    response.headers["Connection"] = "close"
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(AcdError, _acd_error)
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)

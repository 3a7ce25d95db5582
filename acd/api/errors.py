"""One place renders every refusal: `{"error": id, "message": ..., "details": ...}` with its status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from acd.auth import AuthError
from acd.errors import AcdError


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


def install(app: FastAPI) -> None:
    app.add_exception_handler(AcdError, _acd_error)
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

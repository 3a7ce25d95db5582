"""Bounded request bodies: what the server reads of a request is at most the limit, whoever sends it.

A pure ASGI middleware, outside everything else: a declared Content-Length over the limit is refused 413
before the application runs (no route runs, nothing changes); a body without one (chunked) is counted as it
is read, and refused as soon as the count passes the limit. The server (uvicorn) reads the socket only as
the application asks for more, so nothing past the limit piles up in memory either.

Not Starlette's `max_body_size`: on a route that does not read its body, that one lets the route run and
replaces its answer afterwards, so a refused request could still have changed state.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from acd.api.errors import BodyTooLarge, body_too_large


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        # The HTTP server has refused a Content-Length that is not a number already (400).
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await body_too_large(self.limit)(scope, receive, send)
            return
        read = 0
        started = False

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            # The exception handlers answer it where the body is read inside a route; here, the rest.
            if started:
                raise
            await body_too_large(self.limit)(scope, receive, send)

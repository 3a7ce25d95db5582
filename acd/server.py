"""The HTTP server of `acd serve`: uvicorn's, telling a newcomer where to go once it listens."""

from __future__ import annotations

import logging
import socket

import uvicorn

from acd.hostport import join_host_port

log = logging.getLogger("acd")


def where_to_go(host: str, port: int) -> list[str]:
    """The addresses that matter once the ACD listens at host:port: the API's documentation, its health check."""
    if host in ("0.0.0.0", "::", ""):
        shown, also = "127.0.0.1", " (and at every address of this machine)"
    else:
        shown, also = host, ""
    base = f"http://{join_host_port(shown, port)}"
    return [
        f"ready{also}: the API's documentation at {base}/docs, its OpenAPI document at {base}/openapi.json",
        f"health check (for load balancers): {base}/api/v1/health",
    ]


class AnnouncingServer(uvicorn.Server):
    """Says where to go once listening, with the port it got (`--port 0` asks for a free one)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit or not self.servers:  # could not listen: uvicorn said why
            return
        port = self.servers[0].sockets[0].getsockname()[1]
        for line in where_to_go(self.config.host, port):
            log.info("%s", line)

"""The softphone's side of the ACD's API: the agent logs in, changes state, ends wrap-ups and transfers;
the agent's own event feed (a WebSocket) tells the desk what the ACD decided for it.

Each decision about the agent is followed by a fresh read of the agent (its state, tasks and wrap-ups)
and, for an offer, of the task (its queue and the caller's answers to the IVR): the feed says that
something changed, the reads say what is true now. A feed that drops is followed again every second.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import websockets

from headsets.softphone.events import AgentSeen, Heard, OfferSeen

log = logging.getLogger("headsets.acd")
RETRY = 1.0  # seconds between attempts to follow the feed again


class AcdRefused(Exception):
    """The ACD answered an agent's request with an error: its message is what the agent reads."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    agent: str
    deployment: str


class AcdClient:
    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=10, transport=transport)
        self.session: Session | None = None
        self._credentials: tuple[str, str] | None = None

    async def close(self) -> None:
        await self.http.aclose()

    async def log_in(self, user: str, password: str) -> Session:
        """Open an API session as `user`, who must be an agent."""
        answer = await self._request("POST", "/api/v1/auth/login", {"user": user, "password": password})
        if not answer.get("agent"):
            raise AcdRefused(403, f"{user} is not an agent")
        self.session = Session(answer["token"], answer["agent"], answer.get("deployment", "demo"))
        self.http.headers["authorization"] = f"Bearer {self.session.token}"
        self._credentials = (user, password)
        return self.session

    async def join(self, ready: bool) -> AgentSeen:
        """Log the agent in to the ACD (ready to take calls, or not yet)."""
        return _agent(await self._request("POST", self._agent_path("login"), {"ready": ready}))

    async def leave(self) -> None:
        await self._request("POST", self._agent_path("logout"))
        await self._request("POST", "/api/v1/auth/logout")

    async def agent(self) -> AgentSeen:
        return _agent(await self._request("GET", self._agent_path()))

    async def task(self, task: str) -> OfferSeen:
        seen = await self._request("GET", f"/api/v1/tasks/{task}")
        return OfferSeen(seen["id"], seen["queue"], seen["channel"], seen.get("attributes") or {})

    async def change_state(self, state: str, reason: str | None) -> AgentSeen:
        body = {"state": state, **({"reason": reason} if reason else {})}
        return _agent(await self._request("PUT", self._agent_path("state"), body))

    async def end_wrap_up(self, task: str) -> AgentSeen:
        return _agent(await self._request("POST", self._agent_path(f"tasks/{task}/end-wrap-up")))

    async def transfer(self, task: str, target: str) -> None:
        await self._request("POST", f"/api/v1/calls/{task}/transfer", {"to": target})

    async def follow(self, on_heard: Callable[[Heard], None]) -> None:
        """Follow the agent's decisions until cancelled, telling the desk what each one changed."""
        while True:
            try:
                on_heard(await self.agent())  # what changed while the feed was not followed (a new token if due)
                url = self.base_url.replace("http", "ws", 1) + f"/api/v1/events?token={self._session().token}"
                async with websockets.connect(url) as feed:
                    async for message in feed:
                        decision = json.loads(message)
                        on_heard(await self.agent())
                        if decision.get("kind") == "offered" and decision.get("task"):
                            on_heard(await self.task(decision["task"]))
            except (OSError, websockets.WebSocketException, httpx.HTTPError, AcdRefused) as error:
                log.warning("the ACD's event feed: %s; again in %.0f s", error, RETRY)
            await asyncio.sleep(RETRY)

    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("log_in first")  # a programmer's mistake
        return self.session

    def _agent_path(self, rest: str = "") -> str:
        return f"/api/v1/agents/{self._session().agent}" + (f"/{rest}" if rest else "")

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.http.request(method, path, json=body)
        if answer.status_code == 401 and self._credentials is not None and not path.startswith("/api/v1/auth/"):
            await self.log_in(*self._credentials)  # the token outlived its lifetime (a long shift): a new one
            answer = await self.http.request(method, path, json=body)
        if answer.status_code >= 400:
            try:
                message = answer.json().get("message") or answer.reason_phrase
            except ValueError:
                message = answer.reason_phrase
            raise AcdRefused(answer.status_code, str(message))
        return answer.json() if answer.content else {}


def _agent(seen: dict[str, Any]) -> AgentSeen:
    return AgentSeen(seen["state"], seen.get("reason"), tuple(seen.get("tasks", ())), tuple(seen.get("wrap_ups", ())))

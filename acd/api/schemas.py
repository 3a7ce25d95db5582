"""Request bodies of the HTTP API: strict, so that a misspelt field is an error and not silence."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from acd.model import Channel

Name = Annotated[str, Field(min_length=1, max_length=128)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Strict):
    user: Name
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class NewTask(Strict):
    id: Name | None = None
    channel: Channel
    queue: Name
    priority: Annotated[int, Field(ge=-1000, le=1000)] | None = None
    attributes: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=1024)]] = {}
    required_skills: dict[Name, Annotated[int, Field(ge=1, le=5)]] = {}
    #: A scheduled task (a call-back booked for a given time) enters its queue at this epoch time.
    not_before: float | None = None


class CancelTask(Strict):
    outcome: Literal["abandoned", "cancelled"] = "cancelled"


class Callback(Strict):
    number: Annotated[str, Field(pattern=r"^[0-9+*#]{3,32}$")]
    at: float | None = None
    queue: Name | None = None


class AgentStateChange(Strict):
    state: Literal["available", "not_ready"]
    reason: Name | None = None


class AgentLogin(Strict):
    ready: bool = True

"""Request bodies and parameters of the HTTP API: strict, so that a misspelt field is an error and not silence,
and bounded, so that what the schema allows is what the server accepts and keeps."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from acd.model import Channel

Name = Annotated[str, Field(min_length=1, max_length=128)]

#: Ids of tasks, agents and queues, in a body, a path or a query. Safe in a URL path segment as it is (no `/`,
#: no `%`, no `?`), never `.` or `..` (a client would fold those into the path), and wide enough for every id
#: the ACD makes itself: configuration ids (`lons-tva`), its tasks (`t-<hex>`) and its calls' (`call-<hex>`).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$"
ID_MAX = 128
Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=ID_MAX)]
IdPath = Annotated[str, Path(pattern=ID_PATTERN, min_length=1, max_length=ID_MAX)]
IdQuery = Annotated[str | None, Query(pattern=ID_PATTERN, min_length=1, max_length=ID_MAX)]

#: An epoch time (seconds): finite, not before 1970 nor after 2100, so that a timer is a time and not 1e308.
EPOCH_MAX = 4_102_444_800.0
Epoch = Annotated[float, Field(ge=0, le=EPOCH_MAX, allow_inf_nan=False, strict=True)]
EpochQuery = Annotated[float | None, Query(ge=0, le=EPOCH_MAX, allow_inf_nan=False)]

#: A task's attributes: few and short (department, topic, language, SIREN...); at most
#: ATTRIBUTES_MAX x (64 + 1024) characters whatever the body limit.
ATTRIBUTES_MAX = 32
AttributeName = Annotated[str, Field(min_length=1, max_length=64)]
AttributeValue = Annotated[str, Field(max_length=1024)]

#: What a cancellation may say happened: the caller hung up, or the task was withdrawn. The other outcomes
#: (completed, rejected, max wait, call-back) are the core's to decide.
CancelOutcome = Literal["cancelled", "abandoned"]


class Strict(BaseModel):
    """No field but the declared ones, and numbers and booleans as JSON writes them: `"5"` is no number, `0` no
    boolean (the schema says so; pydantic's lax mode would take them)."""

    model_config = ConfigDict(extra="forbid")


class Login(Strict):
    user: Name
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class NewTask(Strict):
    id: Id | None = None
    channel: Channel
    queue: Id
    priority: Annotated[int, Field(ge=-1000, le=1000, strict=True)] | None = None
    attributes: Annotated[dict[AttributeName, AttributeValue], Field(max_length=ATTRIBUTES_MAX)] = {}
    required_skills: Annotated[dict[Name, Annotated[int, Field(ge=1, le=5, strict=True)]], Field(max_length=32)] = {}
    #: A scheduled task (a call-back booked for a given time) enters its queue at this epoch time.
    not_before: Epoch | None = None


class Callback(Strict):
    number: Annotated[str, Field(pattern=r"^[0-9+*#]{3,32}$")]
    at: Epoch | None = None
    queue: Id | None = None


class Available(Strict):
    state: Literal["available"]


class NotReady(Strict):
    state: Literal["not_ready"]
    #: Why the agent cannot take tasks (break, training, headset...): required, it is what supervisors see.
    reason: Name


#: Said in the schema as the server checks it: not_ready needs a reason, available takes none.
AgentStateChange = Annotated[Available | NotReady, Field(discriminator="state")]


class AgentLogin(Strict):
    ready: StrictBool = True

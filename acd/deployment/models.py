"""The deployment's definition as validated models: one model per file of config/.

Field-level rules live here; references between files (a team's site, a queue's skills) are checked by
`references.py` so that each problem can name the file and line it comes from.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from acd.hostport import parse_host_port
from acd.model import DEFAULT_CAPACITY, Channel, Strategy

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
SkillLevel = Annotated[int, Field(ge=1, le=5)]
Seconds = Annotated[float, Field(ge=0, le=7 * 24 * 3600)]
# Metropolitan departments 01-95 (with Corsica 2A/2B) and overseas 971-976.
DEPARTMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


def _once_each(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("each algorithm once")
    return value


#: SIP digest algorithms (RFC 8760), each once, the preferred first.
DigestAlgorithm = Literal["SHA-256", "MD5"]
DigestAlgorithms = Annotated[list[DigestAlgorithm], Field(min_length=1, max_length=2), AfterValidator(_once_each)]


def _host_port(text: str) -> str:
    parse_host_port(text)  # AddressError is a ValueError: pydantic names the field and the text
    return text


#: host:port, read by the product's one reader (an IPv6 address in brackets).
HostPort = Annotated[str, Field(max_length=300), AfterValidator(_host_port)]


class Settings(Model):
    """settings.yaml: centre-wide defaults."""

    #: This deployment's name; with a shared store its keys are `acd:{name}:…` (one Redis Cluster slot).
    name: Identifier = "demo"
    timezone: str = "Europe/Paris"
    missed_offers_limit: int = Field(default=2, ge=1, le=100)
    service_level_seconds: Seconds = 20
    offer_timeout: Seconds = 20
    default_handle_time: Annotated[float, Field(gt=0)] = 300
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    token_lifetime: Annotated[float, Field(gt=0)] = 12 * 3600
    #: Failed log-ins allowed per user, and per source address, within `login_window` seconds; past them
    #: the API refuses log-ins (429) without checking the password until the window ends.
    login_failures_per_user: int = Field(default=5, ge=1, le=1000)
    login_failures_per_address: int = Field(default=20, ge=1, le=100_000)
    login_window: Annotated[float, Field(gt=0, le=24 * 3600)] = 300
    #: Passwords checked at once by a node (scrypt, about 80 ms of one core each): the rest wait their turn,
    #: so that a flood of log-ins never takes every core from the calls' audio.
    login_checks_at_once: int = Field(default=1, ge=1, le=64)
    #: Seconds an ended task stays readable by id; after that only the event log has it. Keeps the live
    #: state (and a node's start) small whatever the centre's age.
    ended_task_retention: Annotated[float, Field(gt=0)] = 3600
    #: The SIP digest realm: part of every phone's HA1, so changing it means new HA1s in phones.yaml.
    sip_realm: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")] = "acd.demo"
    #: The digest algorithms a phone's REGISTER is challenged with, the preferred first (RFC 8760), when its
    #: entry of phones.yaml names none (`digest_algorithms`): those of them it has an HA1 for. Phones take the
    #: first they support, but some older ones (and sipp) take the first whatever it is: put MD5 first for
    #: them, or name MD5 alone in their entries. Also what a REGISTER of an unknown user is challenged with.
    sip_digest_algorithms: DigestAlgorithms = ["SHA-256", "MD5"]
    #: The trunk's address (host:port, UDP) where calls to outside numbers go: transfers to a second-level
    #: office. None: only transfers to the deployment's queues.
    sip_trunk: HostPort | None = None
    #: Seconds a SIP message over TCP may take from its first byte to its last (headers and body); a
    #: connection whose message is not whole by then is closed (a slow sender holds nothing for ever).
    #: An idle connection between messages is kept: a registered phone waits for its calls on it. Answers
    #: not read by the peer within it close the connection too (a peer that never reads holds nothing).
    sip_tcp_message_timeout: Annotated[float, Field(gt=0, le=3600)] = 10
    #: SIP TCP connections one source address may hold open at once; one more is closed at accept (and
    #: logged). Phones behind one NAT share an address: allow for them.
    sip_tcp_connections_per_address: int = Field(default=64, ge=1, le=100_000)
    #: Calls a node holds at once (waiting or talking); one more is refused 503 with Retry-After.
    max_calls: int = Field(default=500, ge=1, le=100_000)
    #: The UDP ports calls' audio uses, first and last (a firewall opens these).
    rtp_ports: tuple[Annotated[int, Field(ge=1024, le=65535)], Annotated[int, Field(ge=1024, le=65535)]] = (
        20000,
        29999,
    )
    #: A call from which no RTP came for this many seconds is ended (the caller's line dropped).
    media_timeout: Annotated[float, Field(gt=0, le=3600)] = 30
    #: Music for waiting callers: a mono 16-bit 8 kHz WAV file, relative to the configuration directory
    #: (none: a soft chime the ACD makes itself).
    music_on_hold: str | None = None
    #: Bytes an HTTP request's body may hold; a larger one is refused 413 before it is read whole.
    request_body_limit: int = Field(default=65536, ge=1024, le=16 * 1024 * 1024)
    #: Where recordings are written (queues with `record: true`), relative to the working directory.
    recordings: str = "recordings"
    #: Where the IVR keeps the prompts it synthesises (WAV files), relative to the working directory.
    prompt_cache: str = "prompt-cache"

    @field_validator("capacity")
    @classmethod
    def _every_channel(cls, value: dict[Channel, int]) -> dict[Channel, int]:
        # A channel left out keeps its default: a channel added later is not silently never offered.
        return {**DEFAULT_CAPACITY, **value}

    @field_validator("rtp_ports", mode="before")
    @classmethod
    def _range_text(cls, value: object) -> object:
        # "20000-29999", as a firewall rule writes a range, or [20000, 29999]
        if isinstance(value, int | float):
            raise ValueError("a range of ports is first-last (20000-29999) or [first, last]")
        if isinstance(value, str):
            first, dash, last = value.partition("-")
            if not dash or not first.strip().isdigit() or not last.strip().isdigit():
                raise ValueError("a range of ports is first-last (20000-29999) or [first, last]")
            return (int(first), int(last))
        return value

    @field_validator("rtp_ports")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] > value[1]:
            raise ValueError("the first port comes before the last")
        return value


class CalendarConfig(Model):
    """calendars.yaml: weekly opening hours ("08:30-18:00") and closures."""

    id: Identifier
    hours: dict[Weekday, list[str]]
    public_holidays: bool = True
    closed_dates: list[date] = []
    open_dates: dict[date, list[str]] = {}


class SiteConfig(Model):
    """sites.yaml: a contact centre and the departments whose callers it serves."""

    id: Identifier
    name: str
    departments: Annotated[list[str], Field(min_length=1, max_length=3)]
    calendar: Identifier

    @field_validator("departments")
    @classmethod
    def _departments(cls, value: list[str]) -> list[str]:
        for code in value:
            if not DEPARTMENT.match(code):
                raise ValueError(f"{code!r} is not a French department code")
        if len(set(value)) != len(value):
            raise ValueError("a department is listed twice")
        return value


class SkillConfig(Model):
    id: Identifier
    name: str


class TeamConfig(Model):
    """teams.yaml: a plateau of agents led by a supervisor."""

    id: Identifier
    name: str
    site: Identifier
    supervisor: Identifier | None = None


class AgentConfig(Model):
    id: Identifier
    name: str
    team: Identifier
    skills: dict[Identifier, SkillLevel] = {}
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=6)]] | None = None


class StepConfig(Model):
    """An overflow step: after `after` seconds in queue, the set of agents widens."""

    after: Annotated[float, Field(gt=0)]
    min_level: SkillLevel | None = None
    add_teams: list[Identifier] = []
    add_sites: list[Identifier] = []

    @model_validator(mode="after")
    def _widens(self) -> StepConfig:
        if self.min_level is None and not self.add_teams and not self.add_sites:
            raise ValueError("a step must lower min_level or add teams or sites")
        return self


class AgingConfig(Model):
    """Priority raised by `step` every `every` seconds of wait, up to `max` in all."""

    every: Annotated[float, Field(gt=0)]
    step: Annotated[int, Field(ge=1)] = 1
    max: Annotated[int, Field(ge=1)] = 5


class OverflowTarget(Model):
    target: Identifier | None = None


class MaxWaitConfig(OverflowTarget):
    seconds: Annotated[float, Field(gt=0)]


class MaxSizeConfig(OverflowTarget):
    tasks: Annotated[int, Field(ge=1)]


class ClosedConfig(OverflowTarget):
    """What a closed queue does with a new task: refuse it, keep it for the opening, or send it on."""

    action: Literal["reject", "accept", "redirect"]

    @model_validator(mode="after")
    def _target(self) -> ClosedConfig:
        if (self.action == "redirect") != (self.target is not None):
            raise ValueError("a target is given with action 'redirect', and only then")
        return self


class QueueConfig(Model):
    id: Identifier
    name: str
    site: Identifier
    channels: Annotated[list[Channel], Field(min_length=1)]
    skills: dict[Identifier, SkillLevel] = {}
    teams: list[Identifier] = []
    sites: list[Identifier] = []
    strategy: Strategy = Strategy.LONGEST_IDLE
    priority: int = Field(default=0, ge=-100, le=100)
    wrap_up: Seconds = 30
    offer_timeout: Annotated[float, Field(gt=0, le=600)] | None = None
    handle_time: Annotated[float, Field(gt=0)] | None = None
    steps: list[StepConfig] = []
    aging: AgingConfig | None = None
    max_wait: MaxWaitConfig | None = None
    max_size: MaxSizeConfig | None = None
    calendar: Identifier | None = None
    when_closed: ClosedConfig | None = None
    service_level_seconds: Seconds | None = None
    #: Record every call of this queue (stereo WAV: caller left, agent right).
    record: bool = False

    @field_validator("steps")
    @classmethod
    def _increasing(cls, value: list[StepConfig]) -> list[StepConfig]:
        afters = [step.after for step in value]
        if afters != sorted(afters) or len(set(afters)) != len(afters):
            raise ValueError("steps must come in strictly increasing order of 'after'")
        return value


class UserConfig(Model):
    """users.yaml: who may log in; passwords only as hashes (see acd.auth.hash_password)."""

    id: Identifier
    name: str
    role: Role
    password_hash: Annotated[str, Field(pattern=r"^scrypt\$")]
    agent: Identifier | None = None
    teams: list[Identifier] = []

    @model_validator(mode="after")
    def _role_fields(self) -> UserConfig:
        if (self.role is Role.AGENT) != (self.agent is not None):
            raise ValueError("'agent' is given for role agent, and only for it")
        if self.teams and self.role is not Role.SUPERVISOR:
            raise ValueError("'teams' is given for role supervisor only")
        return self


#: A number callers dial: international with its + (E.164), or a national or internal one, digits only.
DialledNumber = Annotated[str, Field(pattern=r"^\+?[0-9]{2,15}$")]


class NumberConfig(Model):
    """A number callers dial: its calls enter a queue, or an IVR flow of config/ivr/ (the file's name)."""

    number: DialledNumber
    queue: Identifier | None = None
    flow: Identifier | None = None
    #: The calls' first attributes; the flow's {placeholders} are filled from them (e.g. centre: lons).
    attributes: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")], str] = {}
    name: str | None = None

    @model_validator(mode="after")
    def _destination(self) -> NumberConfig:
        if self.queue is not None and self.flow is not None:
            raise ValueError("a number gives a queue or a flow, not both")
        if self.queue is None and self.flow is None:
            raise ValueError("a number gives the queue or the flow its calls enter")
        return self


#: How digest credentials are hashed (RFC 8760), and the length of each HA1 in hexadecimal.
HA1_LENGTHS = {"MD5": 32, "SHA-256": 64}


class PhoneConfig(Model):
    """An agent's SIP softphone: the user it registers as, H(user:realm:password) per algorithm, and the
    algorithms its REGISTER is challenged with (None: settings.sip_digest_algorithms, those it has an HA1
    for). A phone that cannot take a challenge of some algorithm (many desk phones and baresip 1.0 know
    MD5 only) is challenged with the others alone, without the whole centre being downgraded."""

    agent: Identifier
    user: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    ha1: Annotated[dict[DigestAlgorithm, Annotated[str, Field(pattern=r"^[0-9a-f]+$")]], Field(min_length=1)]
    digest_algorithms: DigestAlgorithms | None = None

    @field_validator("digest_algorithms")
    @classmethod
    def _with_their_ha1(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        ha1 = info.data.get("ha1")  # absent if it was refused itself
        missing = [algorithm for algorithm in value or () if ha1 is not None and algorithm not in ha1]
        if missing:
            raise ValueError(f"no {' or '.join(missing)} HA1 in ha1 to check its answer with")
        return value

    @model_validator(mode="after")
    def _lengths(self) -> PhoneConfig:
        for algorithm, digest in self.ha1.items():
            if len(digest) != HA1_LENGTHS[algorithm]:
                raise ValueError(f"an {algorithm} HA1 is {HA1_LENGTHS[algorithm]} hexadecimal digits")
        return self


class Deployment(Model):
    """A whole validated configuration."""

    settings: Settings = Field(default_factory=lambda: Settings())
    calendars: Annotated[list[CalendarConfig], Field(min_length=1)]
    sites: Annotated[list[SiteConfig], Field(min_length=1)]
    skills: Annotated[list[SkillConfig], Field(min_length=1)]
    teams: Annotated[list[TeamConfig], Field(min_length=1)]
    agents: Annotated[list[AgentConfig], Field(min_length=1)]
    queues: Annotated[list[QueueConfig], Field(min_length=1)]
    users: list[UserConfig] = []
    numbers: list[NumberConfig] = []
    phones: list[PhoneConfig] = []

    def digest_algorithms(self, phone: PhoneConfig) -> list[str]:
        """What the phone's REGISTER is challenged with, the preferred first: its own list, else the
        settings' algorithms it has an HA1 for (empty: it could never register, refused at load)."""
        if phone.digest_algorithms is not None:
            return list(phone.digest_algorithms)
        return [algorithm for algorithm in self.settings.sip_digest_algorithms if algorithm in phone.ha1]

    def site(self, site_id: str) -> SiteConfig:
        return next(site for site in self.sites if site.id == site_id)

    def team(self, team_id: str) -> TeamConfig:
        return next(team for team in self.teams if team.id == team_id)

    def queue(self, queue_id: str) -> QueueConfig:
        return next(queue for queue in self.queues if queue.id == queue_id)

"""Flows, fake facts and a driver's bookkeeping for the interpreter's tests (tests/ivr/test_interpreter.py)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from ivr import actions as act
from ivr import events as ev
from ivr.flow import Flow
from ivr.interpreter import Session
from ivr.validators import VALIDATORS

CONFIG = Path(__file__).resolve().parents[2] / "config"
#: Any time: the fake facts, not a calendar, say whether the centre is open.
T0 = 1_767_600_000.0
LONS_NUMBER, PAU_NUMBER = "+33199000100", "+33199000200"


def demo_flow() -> Flow:
    """config/ivr/accueil.yaml, as the loader reads it (without the deployment's checks)."""
    return Flow.model_validate(yaml.safe_load((CONFIG / "ivr" / "accueil.yaml").read_text(encoding="utf-8")))


def number_attributes(number: str) -> dict[str, str]:
    """The attributes numbers.yaml gives a dialled number (its centre, the other centre, ...)."""
    entries = yaml.safe_load((CONFIG / "numbers.yaml").read_text(encoding="utf-8"))
    (entry,) = [entry for entry in entries if entry["number"] == number]
    return dict(entry["attributes"])


def make_flow(nodes: dict[str, Any], *, start: str | None = None, languages: Iterable[str] = ("fr",)) -> Flow:
    """A flow of `nodes` (dicts as in YAML), starting at `start` or the first node; no prompt texts (the
    interpreter only names prompts)."""
    return Flow.model_validate({"languages": list(languages), "start": start or next(iter(nodes)), "nodes": nodes})


def fr(*names: str) -> tuple[act.Prompt, ...]:
    return tuple(act.Prompt(name, "fr") for name in names)


def en(*names: str) -> tuple[act.Prompt, ...]:
    return tuple(act.Prompt(name, "en") for name in names)


@dataclass
class FakeFacts:
    """The centre as a branch sees it, set by the test; every question asked is kept in `asked`."""

    open: bool = True
    holiday: bool = False
    wait: float | None = 0.0
    agents: int = 3
    asked: list[tuple[str, str, float]] = field(default_factory=list)

    def is_open(self, calendar: str, now: float) -> bool:
        self.asked.append(("open", calendar, now))
        return self.open

    def is_holiday(self, calendar: str, now: float) -> bool:
        self.asked.append(("holiday", calendar, now))
        return self.holiday

    def estimated_wait(self, queue: str, now: float) -> float | None:
        self.asked.append(("wait", queue, now))
        return self.wait

    def agents_logged_in(self, queue: str, now: float) -> int:
        self.asked.append(("agents", queue, now))
        return self.agents


#: The request each answer event answers.
ANSWERS: dict[type, tuple[str, ...]] = {
    ev.QueueUpdate: ("enqueue", "watch"),
    ev.QueueRefused: ("enqueue",),
    ev.CallbackBooked: ("callback",),
    ev.CallbackFailed: ("callback",),
    ev.TransferFailed: ("transfer",),
    ev.Connected: ("transfer",),
    ev.Recorded: ("recording",),
}
REQUESTS: dict[type, str] = {
    act.Enqueue: "enqueue",
    act.WatchQueue: "watch",
    act.RequestCallback: "callback",
    act.Transfer: "transfer",
    act.StopRecording: "recording",
}


class Outstanding:
    """What a driver still owes the session, kept from the actions it returned and the events it gave:
    a prompt not yet said to its end, timers not yet fired, requests not yet answered, and whether the
    call waits in a queue (an agent will answer it)."""

    def __init__(self) -> None:
        self.playing: int | None = None
        self.timers: set[int] = set()
        self.requests: Counter[str] = Counter()
        self.in_queue = False
        self.hung_up = False  # a HangUp action was returned
        self.tokens: list[int] = []  # every token given, in order

    def saw(self, actions: list[act.Action]) -> None:
        for action in actions:
            match action:
                case act.Play(token):
                    self.playing = token
                    self.tokens.append(token)
                case act.StopPlaying():
                    self.playing = None
                case act.StartTimer(token):
                    self.timers.add(token)
                    self.tokens.append(token)
                case act.HangUp():
                    self.hung_up = True
                case _ if type(action) in REQUESTS:
                    self.requests[REQUESTS[type(action)]] += 1

    def delivered(self, event: ev.Event) -> None:
        match event:
            case ev.PromptFinished(token) if token == self.playing:
                self.playing = None
            case ev.TimerFired(token):
                self.timers.discard(token)
            case _ if type(event) in ANSWERS:
                for request in ANSWERS[type(event)]:
                    if self.requests[request]:
                        self.requests[request] -= 1
                        if request == "enqueue" and isinstance(event, ev.QueueUpdate):
                            self.in_queue = True
                        if isinstance(event, ev.CallbackBooked):
                            self.in_queue = False  # the call-back took the call's place: no agent answers it
                        break

    def anything(self) -> bool:
        """Whether something will happen without the caller acting."""
        return self.playing is not None or bool(self.timers) or self.requests.total() > 0 or self.in_queue

    def stale(self) -> list[int]:
        """Tokens given that nothing will answer any more."""
        return [token for token in self.tokens if token != self.playing and token not in self.timers]


def snapshot(session: Session) -> dict[str, object]:
    """Everything a session holds, copied: the same before and after an event it refused."""
    return {name: copy.copy(value) for name, value in vars(session).items()}


# ---------------------------------------------------------------------- random flows (hypothesis)

KEYS = "0123456789*#"
PROMPT_NAMES = st.sampled_from(["p1", "p2", "p3"])
CONDITIONS = [
    {"open": "standard"},
    {"closed": "standard"},
    {"holiday": "standard"},
    {"attribute": {"topic": "a"}},
    {"attribute": {"topic": ["a", "b"]}},
    {"wait_above": {"queue": "{centre}-q", "seconds": 300}},
    {"agents_below": {"queue": "{centre}-q", "count": 2}},
    {"open": "standard", "attribute": {"language": "en"}},
]
SETTINGS = [{"topic": "a"}, {"topic": "b"}, {"language": "en"}, {"language": "fr"}, {"topic": "a", "language": "de"}]


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def random_node(draw: st.DrawFn, node_id: str, ids: list[str]) -> dict[str, Any]:
    link = st.sampled_from(ids)
    kind = draw(
        st.sampled_from(["play", "menu", "collect", "set", "branch", "queue", "transfer", "voicemail", "hangup"])
    )
    if kind == "play":
        return {"type": kind, "prompts": draw(st.lists(PROMPT_NAMES, min_size=1, max_size=2)), "next": draw(link)}
    if kind == "menu":
        option = link | st.fixed_dictionaries({"go": link, "set": st.sampled_from(SETTINGS)})
        return {
            "type": kind,
            "prompt": draw(PROMPT_NAMES),
            "options": draw(st.dictionaries(st.sampled_from(KEYS), option, min_size=1, max_size=3)),
            "timeout": draw(st.sampled_from([1, 5])),
            "retries": draw(st.integers(0, 2)),
            "invalid": draw(optional(PROMPT_NAMES)),
            "no_input": draw(optional(PROMPT_NAMES)),
            "fallback": draw(link),
        }
    if kind == "collect":
        validator = draw(optional(st.sampled_from(sorted(VALIDATORS))))
        natural = {None: 4, "siren": 9, "siret": 14, "department": 3, "date": 8, "phone": 13}[validator]
        max_length = draw(st.sampled_from([natural, natural]) | st.integers(1, 14))
        return {
            "type": kind,
            "prompt": draw(PROMPT_NAMES),
            "into": f"{node_id}_value",
            "min_length": draw(st.integers(1, max_length)),
            "max_length": max_length,
            "terminator": draw(st.sampled_from(["#", "*", None])),
            "validate": validator,
            "optional": draw(st.booleans()),
            "retries": draw(st.integers(0, 2)),
            "invalid": draw(optional(PROMPT_NAMES)),
            "no_input": draw(optional(PROMPT_NAMES)),
            "next": draw(link),
            "fallback": draw(link),
        }
    if kind == "set":
        return {"type": kind, "attributes": draw(st.sampled_from(SETTINGS)), "next": draw(link)}
    if kind == "branch":
        rule = st.fixed_dictionaries({"if": st.sampled_from(CONDITIONS), "go": link})
        return {"type": kind, "rules": draw(st.lists(rule, min_size=1, max_size=2)), "else": draw(link)}
    if kind == "queue":
        callback = st.fixed_dictionaries(
            {
                "above": st.sampled_from([0, 300]),
                "prompt": PROMPT_NAMES,
                "number_prompt": PROMPT_NAMES,
                "confirm": PROMPT_NAMES,
                "invalid": optional(PROMPT_NAMES),
            }
        )
        announce = st.fixed_dictionaries(
            {"every": st.sampled_from([15, 45]), "position": st.booleans(), "wait": st.booleans()}
        )
        max_wait = st.fixed_dictionaries({"seconds": st.just(60), "to": st.sampled_from(["{other}-q", "+33199000901"])})
        return {
            "type": kind,
            "queue": "{centre}-q",
            "prompt": draw(optional(PROMPT_NAMES)),
            "announce": draw(optional(announce)),
            "callback": draw(optional(callback)),
            "max_wait": draw(optional(max_wait)),
            "refused": draw(optional(link)),
        }
    if kind == "transfer":
        return {"type": kind, "to": "{sie}", "prompt": draw(optional(PROMPT_NAMES)), "fallback": draw(optional(link))}
    if kind == "voicemail":
        return {
            "type": kind,
            "prompt": draw(PROMPT_NAMES),
            "queue": "{centre}-email",
            "max_seconds": 30,
            "next": draw(link),
        }
    return {"type": kind, "prompt": draw(optional(PROMPT_NAMES))}


@st.composite
def random_flows(draw: st.DrawFn) -> Flow:
    ids = [f"n{index}" for index in range(draw(st.integers(1, 6)))]
    nodes = {node_id: draw(random_node(node_id, ids)) for node_id in ids}
    languages = draw(st.sampled_from([["fr"], ["en"], ["fr", "en"], ["en", "fr"]]))
    return Flow.model_validate({"languages": languages, "start": "n0", "nodes": nodes})

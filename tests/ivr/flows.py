"""Flows, fake facts and a driver's bookkeeping for the interpreter's tests (tests/ivr/test_interpreter.py)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivr import actions as act
from ivr import events as ev
from ivr.flow import Flow
from ivr.interpreter import Session

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

"""CentreFacts answers the interpreter's Facts from the core's queries and the calendars it is given;
its interpreter reads no clock and does no I/O (what ivr/ may import of the core: tests/test_dependencies.py)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from ivr.facts import CentreFacts

IVR = Path(__file__).resolve().parents[2] / "ivr"
NOW = 1_767_600_000.0


@dataclass
class Calendar:
    reason: str | None  # None: open

    def is_open(self, now: float) -> bool:
        return self.reason is None

    def closed_reason(self, now: float) -> str | None:
        return self.reason


@dataclass
class Queries:
    asked: list[tuple[str, str]] = field(default_factory=list)

    def estimated_wait(self, queue: str) -> float | None:
        self.asked.append(("wait", queue))
        return None if queue == "empty" else 120.0

    def agents_serving(self, queue: str) -> int:
        self.asked.append(("agents", queue))
        return 4


@dataclass(frozen=True)
class Estimate:
    seconds: float | None


class Service:
    """The two queries of acd.service.AcdService, as of_service uses them."""

    def estimate_arrival(self, queue: str) -> Estimate:
        return Estimate(None if queue == "empty" else 75.0)

    def agents_serving(self, queue: str) -> int:
        return {"lons-tva": 2}.get(queue, 0)


CALENDARS = {"open": Calendar(None), "night": Calendar("hours"), "noel": Calendar("holiday:Noël")}


def test_calendars_answer_open_closed_and_holiday() -> None:
    facts = CentreFacts(Queries(), CALENDARS)
    assert [facts.is_open(c, NOW) for c in ("open", "night", "noel")] == [True, False, False]
    assert [facts.is_holiday(c, NOW) for c in ("open", "night", "noel")] == [False, False, True]


def test_queues_are_asked_through_the_queries() -> None:
    queries = Queries()
    facts = CentreFacts(queries, CALENDARS)
    assert (facts.estimated_wait("lons-tva", NOW), facts.estimated_wait("empty", NOW)) == (120.0, None)
    assert facts.agents_logged_in("lons-tva", NOW) == 4
    assert queries.asked == [("wait", "lons-tva"), ("wait", "empty"), ("agents", "lons-tva")]


def test_of_service_reads_the_services_estimate_and_agents() -> None:
    facts = CentreFacts.of_service(Service(), CALENDARS)
    assert (facts.estimated_wait("lons-tva", NOW), facts.estimated_wait("empty", NOW)) == (75.0, None)
    assert (facts.agents_logged_in("lons-tva", NOW), facts.agents_logged_in("pau-tva", NOW)) == (2, 0)
    assert facts.is_holiday("noel", NOW)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
    return found


def test_the_interpreter_modules_read_no_clock_and_do_no_io() -> None:
    pure = ["interpreter.py", "_states.py", "conditions.py", "facts.py", "events.py", "actions.py", "errors.py"]
    for name in pure:
        assert not imports(IVR / name) & {"time", "datetime", "asyncio", "socket", "os", "subprocess"}, name

"""Fuzzing the loader: a mutated demo configuration (its IVR flows too, read by the composition root) either
loads or is refused with a ConfigError.

Every problem of the refusal names a file of the directory, a line inside that file and a field of that
file's section, with a message; no other exception escapes (h11's fuzz invariant, applied to config/).
The mutations start from the demo's own text so that most of them stay close to a plausible mistake.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from acd.cli import DEMO_CONFIG
from acd.deployment import ConfigError, Deployment
from acd.deployment.errors import Problem
from acd.serve import load_configuration
from tests.refusals import assert_points_into, line_count


@dataclass(frozen=True)
class Span:
    """Where a YAML node's text lies in its file, by character index."""

    start: int
    end: int
    line: int  # 0-based line of the start
    column: int

    @classmethod
    def of(cls, node: yaml.Node) -> Span:
        return cls(node.start_mark.index, node.end_mark.index, node.start_mark.line, node.start_mark.column)


@dataclass(frozen=True)
class Pair:
    key: Span
    value: Span
    flow: bool


@dataclass(frozen=True)
class Source:
    """A demo file's text with the spans of its scalars and key/value pairs."""

    name: str
    text: str
    scalars: tuple[Span, ...]
    pairs: tuple[Pair, ...]

    @classmethod
    def read(cls, path: Path) -> Source:
        text = path.read_text(encoding="utf-8")
        scalars: list[Span] = []
        pairs: list[Pair] = []

        def walk(node: yaml.Node) -> None:
            if isinstance(node, yaml.ScalarNode):
                scalars.append(Span.of(node))
            elif isinstance(node, yaml.SequenceNode):
                for item in node.value:
                    walk(item)
            elif isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    pairs.append(Pair(Span.of(key), Span.of(value), bool(node.flow_style)))
                    walk(key)
                    walk(value)

        root = yaml.compose(text, Loader=yaml.SafeLoader)
        assert root is not None
        walk(root)
        return cls(str(path.relative_to(DEMO_CONFIG)), text, tuple(scalars), tuple(pairs))


#: Every file of the demo: one per section, and the IVR flows of ivr/.
SOURCES = {source.name: source for source in (Source.read(path) for path in sorted(DEMO_CONFIG.rglob("*.yaml")))}
#: The demo's own scalars as written (quotes kept): valid values in the wrong place, unknown references.
DEMO_SCALARS = sorted({s.text[span.start : span.end] for s in SOURCES.values() for span in s.scalars})
#: Values that have broken YAML loaders before: other types, YAML 1.1 surprises, explicit tags, aliases.
TRICKY = [
    "",
    "~",
    "null",
    "true",
    "no",
    "on",
    "0",
    "-1",
    "101",
    "1e400",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "1_000",
    "99999999999999999999999",
    "2024-02-29",
    "2024-02-30",
    "2024-13-01",
    "2024-02-29T25:00:00",
    "12:30",
    "18:00-08:00",
    "24:00-25:00",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "[[1]]",
    "{[1]: 2}",
    "{{a: 1}: 2}",
    "*undefined",
    "&anchor value",
    "!!int x",
    "!!float x",
    "!!timestamp x",
    "!!bool maybe",
    "!!binary ~",
    "!!set {a}",
    "!!omap [a]",
    "!!python/object:os.system",
    "!unknown x",
    "'quoted'",
    '"\\ud800"',
    '"\\x00"',
    "'two\n  lines'",
    "|\n  block",
    ">",
    "- a",
    "a: b",
    "# comment",
    "---",
    "...",
    "%TAG",
    "@",
    "`",
    "é",
    "\u2028",
    "   ",
    "Europe/Paris",
    "Europe",
    "69",
    "2A",
    "97",
    "scrypt$",
    "scrypt$1$1$1$AA==$AA==",
    '"08:00-12:00", "11:00-13:00"',
]

replacement = st.one_of(
    st.sampled_from(TRICKY),
    st.sampled_from(DEMO_SCALARS),
    st.integers(-(10**6), 10**6).map(str),
    st.text(max_size=12),
    st.text(max_size=12).map(json.dumps),
)


def splice(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def delete_key(draw: st.DrawFn, source: Source) -> bytes:
    pair = draw(st.sampled_from(source.pairs))
    text, end = source.text, pair.value.end
    if pair.flow and text.startswith(", ", end):
        end += 2
    note(f"delete {text[pair.key.start : pair.value.end]!r} at line {pair.key.line + 1}")
    return splice(text, pair.key.start, end, "").encode()


def change_scalar(draw: st.DrawFn, source: Source) -> bytes:
    span = draw(st.sampled_from(source.scalars))
    new = draw(replacement)
    note(f"replace {source.text[span.start : span.end]!r} at line {span.line + 1} with {new!r}")
    return splice(source.text, span.start, span.end, new).encode()


def duplicate_key(draw: st.DrawFn, source: Source) -> bytes:
    # Only pairs written on one line, so that the copy is a well-formed line of the same mapping.
    pair = draw(st.sampled_from([p for p in source.pairs if p.value.line == p.key.line]))
    written = source.text[pair.key.start : pair.value.end]
    copy = f", {written}" if pair.flow else "\n" + " " * pair.key.column + written
    note(f"duplicate {written!r} at line {pair.key.line + 1}")
    return splice(source.text, pair.value.end, pair.value.end, copy).encode()


def truncate(draw: st.DrawFn, source: Source) -> bytes:
    data = source.text.encode()
    cut = draw(st.integers(0, len(data) - 1))
    note(f"truncate at byte {cut}")
    return data[:cut]


def insert_bytes(draw: st.DrawFn, source: Source) -> bytes:
    data = source.text.encode()
    at = draw(st.integers(0, len(data)))
    blob = draw(st.binary(min_size=1, max_size=8))
    note(f"insert {blob!r} at byte {at}")
    return data[:at] + blob + data[at:]


def swap_lines(draw: st.DrawFn, source: Source) -> bytes:
    lines = source.text.encode().splitlines(keepends=True)
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 2))
    j += j >= i  # any line but i
    lines[i], lines[j] = lines[j], lines[i]
    note(f"swap lines {i + 1} and {j + 1}")
    return b"".join(lines)


MUTATORS = [delete_key, change_scalar, duplicate_key, truncate, insert_bytes, swap_lines]


class Mutation:
    """A demo file's mutated bytes; shown by name only, the notes say what changed."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.data = name, data

    def __repr__(self) -> str:
        return f"Mutation({self.name!r}, <{len(self.data)} bytes>)"


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    source = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    mutate = draw(st.sampled_from(MUTATORS))
    note(f"{mutate.__name__} in {source.name}")
    return Mutation(source.name, mutate(draw, source))


def check_refusal(directory: Path, error: ConfigError) -> None:
    assert error.problems
    for problem in error.problems:
        path = assert_points_into(directory, problem)
        # The field path starts with the section of the file it names: "queues[3].wrap_up" in queues.yaml.
        assert problem.field.split(".")[0].split("[")[0] == path.stem, problem
        assert problem.message.strip(), problem


@pytest.mark.parametrize(
    ("line", "field"),
    [(0, "sites[0].name"), (10, "sites[0].name"), (3, "queues[0].name")],
    ids=["no-line", "past-the-end", "other-file's-field"],
)
def test_the_refusal_check_catches_an_imprecise_problem(tmp_path: Path, line: int, field: str) -> None:
    """The fuzz's own check fails on what it must catch: a line outside the file (sites.yaml has 9), a
    field of another file. (A line past the end is what a YAML error at the end of a file once gave.)"""
    shutil.copytree(DEMO_CONFIG, tmp_path / "config")
    assert line_count((tmp_path / "config" / "sites.yaml").read_bytes()) == 9
    with pytest.raises(AssertionError):
        check_refusal(tmp_path / "config", ConfigError([Problem("sites.yaml", line, field, "wrong")]))
    check_refusal(tmp_path / "config", ConfigError([Problem("sites.yaml", 9, "sites[1].calendar", "right")]))


@settings(max_examples=200, deadline=None, database=None)  # no database: nothing written to the project
@given(mutations())
def test_mutated_configuration_loads_or_is_refused_precisely(mutation: Mutation) -> None:
    # A directory per example: hypothesis runs every example inside one call of a function-scoped fixture.
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "config"
        shutil.copytree(DEMO_CONFIG, directory)
        (directory / mutation.name).write_bytes(mutation.data)
        try:
            deployment = load_configuration(directory).deployment
        except ConfigError as error:
            check_refusal(directory, error)
            syntax = any(p.message.startswith(("YAML:", "not UTF-8")) for p in error.problems)
            event("refused: YAML text" if syntax else "refused: values")  # --hypothesis-show-statistics
        else:
            assert isinstance(deployment, Deployment)
            event("loaded")


#: Edits that escaped as another exception (or named a line past the end of the file) before the loader
#: was fixed, each with the refusal it now gets. The fuzz found the first kinds; overlapping intervals
#: (CalendarError from compiling the topology) and deep nesting (RecursionError) it cannot reach.
HOSTILE = [
    pytest.param(
        "agents.yaml",
        b"- id: cmartin",
        b"- \x08: cmartin",
        "agents.yaml:2: agents: YAML: unacceptable character #x0008: special characters are not allowed",
        id="control-character",
    ),
    pytest.param(
        "agents.yaml",
        "Léa".encode(),
        "Léa".encode("latin-1"),
        "agents.yaml:35: agents: not UTF-8 text: byte 0xe9 cannot be decoded",
        id="latin-1",
    ),
    pytest.param(
        "calendars.yaml",
        b"- id: back-office\n",
        b"  closed_dates: [2025-02-30]\n- id: back-office\n",
        "calendars.yaml:9: calendars: YAML: '2025-02-30' is not a valid timestamp",
        id="impossible-date",
    ),
    pytest.param(
        "queues.yaml",
        b"wrap_up: 15",
        b"wrap_up: !!int soon",
        "queues.yaml:64: queues: YAML: 'soon' is not a valid int",
        id="tagged-value",
    ),
    pytest.param(
        "skills.yaml",
        b"{id: tva,",
        b"{[id]: tva,",
        "skills.yaml:1: skills: YAML: a key must be a scalar",
        id="collection-as-key",
    ),
    pytest.param(
        "sites.yaml",
        b'"31"]\n  calendar: standard\n',
        b'"31"]\n  calendar: [standard\n',
        "sites.yaml:9: sites: YAML: expected ',' or ']', but got '<stream end>'",
        id="list-left-open",
    ),
    pytest.param(
        "calendars.yaml",
        b'mon: ["08:30-18:00"]',
        b'mon: ["08:30-12:00", "11:00-18:00"]',
        "calendars.yaml:4: calendars[0].hours.mon: intervals overlap",
        id="overlapping-hours",
    ),
    pytest.param(
        "calendars.yaml",
        b"- id: back-office\n",
        b'  open_dates: {2025-12-24: ["18:00-08:00"]}\n- id: back-office\n',
        "calendars.yaml:9: calendars[0].open_dates.2025-12-24[0]: interval '18:00-08:00' closes before it opens",
        id="bad-interval-on-open-date",
    ),
    pytest.param(
        "calendars.yaml",
        b"- id: back-office\n",
        b'  open_dates: {2025-12-24: ["08:00-12:00", "11:30-13:00"]}\n- id: back-office\n',
        "calendars.yaml:9: calendars[0].open_dates.2025-12-24: intervals overlap",
        id="overlapping-open-date",
    ),
    pytest.param(
        "settings.yaml",
        b"token_lifetime: 43200",
        b"token_lifetime: " + b"[" * 1000 + b"]" * 1000,
        "settings.yaml:1: settings: YAML: collections nested too deeply",
        id="deep-nesting",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), HOSTILE)
def test_hostile_edit_is_refused_with_its_line(
    tmp_path: Path, name: str, old: bytes, new: bytes, expected: str
) -> None:
    directory = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, directory)
    path = directory / name
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_configuration(directory)
    assert str(caught.value) == expected
    check_refusal(directory, caught.value)

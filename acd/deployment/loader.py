"""Reading config/: one YAML file per section, validated, every problem named by file, line and field."""

from __future__ import annotations

import wave
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from acd.deployment.errors import ConfigError, Problem
from acd.deployment.models import Deployment
from acd.deployment.references import check_references

SECTIONS = ("settings", "calendars", "sites", "skills", "teams", "agents", "queues", "users", "numbers", "phones")
OPTIONAL = frozenset({"settings", "users", "numbers", "phones"})

Lines = dict[tuple[Any, ...], int]


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML would silently keep the last one).

    A scalar PyYAML cannot build (`2024-02-30`, `!!int x`) is reported with its mark, as a ConstructorError,
    instead of the bare ValueError (or KeyError, AttributeError) of PyYAML's constructors.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            if not isinstance(node, yaml.ScalarNode):
                raise
            kind = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid {kind}", node.start_mark
            ) from exc


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):  # `? [a, b]`, `{[1]: 2}`: a collection as a key
            raise yaml.constructor.ConstructorError(None, None, "a key must be a scalar", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _index_lines(node: yaml.Node, path: tuple[Any, ...], lines: Lines) -> None:
    """Path of every value (as pydantic locates it) -> its 1-based line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            _index_lines(value_node, path + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, path + (index,), lines)


def _line_of(lines: Lines, loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return lines.get((), 1)


def field_path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _read(directory: Path, section: str, problems: list[Problem]) -> tuple[Any, Lines]:
    path = directory / f"{section}.yaml"
    name = path.name
    if not path.exists():
        if section not in OPTIONAL:
            problems.append(Problem(name, 0, section, "file is missing"))
        return ({} if section == "settings" else []), {}
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text: byte {raw[exc.start]:#04x} cannot be decoded"
        problems.append(Problem(name, raw.count(b"\n", 0, exc.start) + 1, section, message))
        return None, {}
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # A mark at the end of the stream lies past the last line when the file ends with a line break.
        line = min(mark.line + 1, max(1, len(text.splitlines()))) if mark else 1
        problems.append(Problem(name, line, section, f"YAML: {exc.problem}"))
        return None, {}
    except yaml.reader.ReaderError as exc:  # a character YAML forbids (a control character): no mark
        line = text.count("\n", 0, exc.position) + 1
        message = f"YAML: unacceptable character #x{exc.character:04x}: {exc.reason}"
        problems.append(Problem(name, line, section, message))
        return None, {}
    except RecursionError:  # PyYAML composes nested collections recursively
        problems.append(Problem(name, 1, section, "YAML: collections nested too deeply"))
        return None, {}
    lines: Lines = {}
    if node is not None:
        _index_lines(node, (section,), lines)
    expected = dict if section == "settings" else list
    if data is None:
        data = expected()
    if not isinstance(data, expected):
        problems.append(
            Problem(name, 1, section, f"the file must hold a YAML {'mapping' if expected is dict else 'list'}")
        )
        return None, {}
    return data, lines


def load_deployment(directory: Path) -> Deployment:
    """Read and validate a configuration directory; raise ConfigError naming every problem."""
    if not directory.is_dir():
        raise ConfigError([Problem(str(directory), 0, "", "not a directory")])
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    lines: dict[str, Lines] = {}
    for section in SECTIONS:
        data, section_lines = _read(directory, section, problems)
        if data is not None:
            raw[section], lines[section] = data, section_lines
    if problems:
        raise ConfigError(problems)
    for section in SECTIONS[1:]:
        seen: dict[str, int] = {}
        for index, item in enumerate(raw[section]):
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, str) and ident in seen:
                where = _line_of(lines[section], (section, index, "id"))
                problems.append(Problem(f"{section}.yaml", where, f"{section}[{index}].id", f"duplicate id {ident!r}"))
            elif isinstance(ident, str):
                seen[ident] = index
    try:
        deployment = Deployment.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            section = str(loc[0])
            where = _line_of(lines.get(section, {}), loc)
            problems.append(Problem(f"{section}.yaml", where, field_path(loc), error["msg"]))
        raise ConfigError(problems) from None
    for loc, message in check_references(deployment):
        section = str(loc[0])
        problems.append(Problem(f"{section}.yaml", _line_of(lines.get(section, {}), loc), field_path(loc), message))
    if deployment.settings.music_on_hold is not None:
        trouble = _music_trouble(directory / deployment.settings.music_on_hold)
        if trouble:
            where = _line_of(lines.get("settings", {}), ("settings", "music_on_hold"))
            problems.append(Problem("settings.yaml", where, "settings.music_on_hold", trouble))
    if problems:
        raise ConfigError(problems)
    return deployment


def _music_trouble(path: Path) -> str | None:
    """What is wrong with a music file, if anything: it must be a mono 16-bit 8 kHz WAV (telephony's)."""
    if not path.is_file():
        return f"no such file: {path}"
    try:
        with wave.open(str(path), "rb") as audio:
            shape = (audio.getnchannels(), audio.getsampwidth() * 8, audio.getframerate())
            frames = audio.getnframes()
    except (wave.Error, EOFError) as error:
        return f"{path.name} is not a WAV file ({error})"
    if shape != (1, 16, 8000):
        return f"{path.name} is {shape[0]} channel(s), {shape[1]}-bit, {shape[2]} Hz: mono 16-bit 8000 Hz needed"
    if frames < 160:
        return f"{path.name} is shorter than 20 ms"
    return None

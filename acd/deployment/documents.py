"""YAML documents of config/ read with the line of every value, so that a problem names its line."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from acd.deployment.errors import Problem

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
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`: its keys may be given again here
            continue
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


def line_of(lines: Lines, loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return lines.get((), 1)


def field_path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_document(
    path: Path, name: str, root: tuple[Any, ...], expected: type, problems: list[Problem]
) -> tuple[Any, Lines]:
    """The YAML document of `path` (a mapping or a list, as `expected`) and the line of each of its values,
    located under `root`; (None, {}) with the problem added when it cannot be read. `name` names the file in
    problems."""
    section = field_path(root)
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
        _index_lines(node, root, lines)
    if data is None:
        data = expected()
    if not isinstance(data, expected):
        problems.append(
            Problem(name, 1, section, f"the file must hold a YAML {'mapping' if expected is dict else 'list'}")
        )
        return None, {}
    return data, lines

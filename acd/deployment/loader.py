"""Reading config/: one YAML file per section, validated, every problem named by file, line and field."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from acd.deployment.documents import Lines, field_path, line_of, read_document
from acd.deployment.errors import ConfigError, Problem
from acd.deployment.models import Deployment
from acd.deployment.references import check_references

SECTIONS = ("settings", "calendars", "sites", "skills", "teams", "agents", "queues", "users", "numbers", "phones")
OPTIONAL = frozenset({"settings", "users", "numbers", "phones"})


def _read(directory: Path, section: str, problems: list[Problem]) -> tuple[Any, Lines]:
    path = directory / f"{section}.yaml"
    if not path.exists():
        if section not in OPTIONAL:
            problems.append(Problem(path.name, 0, section, "file is missing"))
        return ({} if section == "settings" else []), {}
    return read_document(path, path.name, (section,), dict if section == "settings" else list, problems)


@dataclass(frozen=True, slots=True)
class ReadDeployment:
    """A sound deployment and where each of its fields stands in its files (to name the line of a problem
    found later, by a check that knows more than this package: the IVR flows' of the composition root)."""

    deployment: Deployment
    lines: dict[str, Lines]

    def problem(self, loc: tuple[Any, ...], message: str) -> Problem:
        """A problem of the field at `loc` (section first), named by file, line and field."""
        section = str(loc[0])
        return Problem(f"{section}.yaml", line_of(self.lines.get(section, {}), loc), field_path(loc), message)


def load_deployment(directory: Path) -> Deployment:
    """Read and validate a configuration directory; raise ConfigError naming every problem.

    The IVR flows of `directory`/ivr/ are not read here: the composition root (`acd.serve.load_configuration`)
    reads and checks them against the deployment this returns."""
    return read_deployment(directory).deployment


def read_deployment(directory: Path) -> ReadDeployment:
    """`load_deployment`, with the lines of its fields."""
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
                where = line_of(lines[section], (section, index, "id"))
                problems.append(Problem(f"{section}.yaml", where, f"{section}[{index}].id", f"duplicate id {ident!r}"))
            elif isinstance(ident, str):
                seen[ident] = index
    try:
        deployment = Deployment.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            section = str(loc[0])
            where = line_of(lines.get(section, {}), loc)
            problems.append(Problem(f"{section}.yaml", where, field_path(loc), error["msg"]))
        raise ConfigError(problems) from None
    read = ReadDeployment(deployment, lines)
    problems += [read.problem(loc, message) for loc, message in check_references(deployment)]
    if deployment.settings.music_on_hold is not None:
        trouble = _music_trouble(directory / deployment.settings.music_on_hold)
        if trouble:
            problems.append(read.problem(("settings", "music_on_hold"), trouble))
    if problems:
        raise ConfigError(problems)
    return read


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

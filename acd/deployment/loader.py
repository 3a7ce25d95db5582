"""Reading config/: one YAML file per section, validated, every problem named by file, line and field."""

from __future__ import annotations

import wave
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
    for loc, message in check_references(deployment):
        section = str(loc[0])
        problems.append(Problem(f"{section}.yaml", line_of(lines.get(section, {}), loc), field_path(loc), message))
    if deployment.settings.music_on_hold is not None:
        trouble = _music_trouble(directory / deployment.settings.music_on_hold)
        if trouble:
            where = line_of(lines.get("settings", {}), ("settings", "music_on_hold"))
            problems.append(Problem("settings.yaml", where, "settings.music_on_hold", trouble))
    if not problems:  # the flows name queues, calendars and numbers: checked against a sound deployment
        # Imported here: ivr.loader reads YAML through this package, so a module-level import would be a cycle.
        from ivr.loader import load_flows, missing_flows

        flows = load_flows(directory, deployment, problems)
        for loc, message in missing_flows(deployment, {path.stem for path in (directory / "ivr").glob("*.yaml")}):
            problems.append(Problem("numbers.yaml", line_of(lines.get("numbers", {}), loc), field_path(loc), message))
        deployment = deployment.model_copy(update={"flows": flows})
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

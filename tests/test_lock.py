"""The lock (requirements*.txt) and pyproject.toml agree, and the installed environment is the lock.

pip-compile writes the lock from pyproject.toml; these checks need no index. The lock must hold exactly what
pyproject.toml's requirements reach through the installed packages' own requirements — nothing missing (a
fresh install would fail, or resolve a version nobody chose) and nothing stale — with a hash for each.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\]+)")


@dataclass(frozen=True)
class Pin:
    version: Version
    hashes: int


def read_lock(name: str) -> dict[str, Pin]:
    """The pins of the lock file `name`: package → version and how many hashes it carries."""
    pins: dict[str, Pin] = {}
    current = ""
    for line in (ROOT / name).read_text().splitlines():
        if found := _PIN.match(line):
            current = canonicalize_name(found[1])
            pins[current] = Pin(Version(found[2]), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            pins[current] = Pin(pins[current].version, pins[current].hashes + 1)
    return pins


def roots(extras: tuple[str, ...]) -> list[Requirement]:
    project = PYPROJECT["project"]
    wanted = list(project["dependencies"]) + PYPROJECT["build-system"]["requires"]
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    return [Requirement(text) for text in wanted]


def applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras or {""})


def reached(extras: tuple[str, ...]) -> dict[str, list[Requirement]]:
    """Every package the project's requirements reach, with the requirements that ask for it."""
    found: dict[str, list[Requirement]] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(requirement, frozenset({""})) for requirement in roots(extras)]
    while todo:
        requirement, asker_extras = todo.pop()
        if not applies(requirement, asker_extras):
            continue
        name = canonicalize_name(requirement.name)
        found.setdefault(name, []).append(requirement)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            asks = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed: the comparison with the lock names it
        for text in asks:
            todo.append((Requirement(text), frozenset(requirement.extras)))
    return found


@pytest.mark.parametrize(("lock", "extras"), [("requirements.txt", ()), ("requirements-test.txt", ("test",))])
def test_the_lock_holds_exactly_what_pyproject_reaches_each_at_a_version_it_allows(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = read_lock(lock)
    needed = reached(extras)
    assert sorted(set(needed) - set(pins)) == [], f"{lock} lacks these: run the lock's refresh (README)"
    assert sorted(set(pins) - set(needed)) == [], f"{lock} holds what nothing asks for: refresh it"
    for name, requirements in needed.items():
        for requirement in requirements:
            assert pins[name].version in requirement.specifier, f"{lock}: {name}=={pins[name].version} vs {requirement}"


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-test.txt"])
def test_every_pin_has_its_hashes(lock: str) -> None:
    assert [name for name, pin in read_lock(lock).items() if pin.hashes == 0] == []


def test_what_acd_serve_needs_is_locked_at_the_same_versions_as_for_the_tests() -> None:
    run, test = read_lock("requirements.txt"), read_lock("requirements-test.txt")
    assert {name: pin.version for name, pin in run.items() if test[name].version != pin.version} == {}


def test_the_installed_packages_are_the_lock() -> None:
    pins = read_lock("requirements-test.txt")
    installed = {canonicalize_name(d.metadata["Name"]): Version(d.version) for d in metadata.distributions()}
    installed.pop("acd")
    differing = {
        name: (version, pins[name].version if name in pins else None)
        for name, version in installed.items()
        if name not in pins or pins[name].version != version
    }
    assert differing == {}, "installed (version, locked version): recreate .venv with install.sh"
    assert sorted(set(pins) - set(installed)) == []


def test_the_lock_was_made_for_the_python_it_runs_on() -> None:
    header = (ROOT / "requirements-test.txt").read_text().splitlines()[1]
    made_with = re.search(r"Python (\d+\.\d+)", header)
    assert made_with is not None
    assert Marker(f"python_version == '{made_with[1]}'").evaluate()

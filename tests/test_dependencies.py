"""The arrows of DESIGN.md ("Layers and arrows"), read from the code: every import of every module, those inside
functions and under TYPE_CHECKING included, checked against one table of what each package may import.

A rule for another package is one line of RULES.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent
PRODUCT = ("acd", "media", "ivr", "headsets", "chat", "cobrowse")


@dataclass(frozen=True)
class Rule:
    """What the modules under `package` may import of the product's other packages.

    `forbidden`: prefixes they import nothing of; `allowed`: the only exceptions among them (exact modules, or
    packages ending with "."); `exempt`: modules of `package` the rule does not bind (a composition root).
    """

    package: str
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()


#: The device contract headsets/ shares with the ACD: the MQTT topics and message, the broker's address, and
#: the one host:port parser. Pure (acd.mqtt's client factory aside), and free of the queue core.
HEADSETS_MAY_USE = ("acd.headset_topics", "acd.mqtt", "acd.hostport")

#: What ivr/ reads of the core: the deployment's files, to check the flows against them when they are loaded
#: (ivr/loader.py), and the model's plain values. The interpreter asks the running centre only through the
#: query protocol of ivr/facts.py.
IVR_MAY_USE = ("acd.deployment.", "acd.model")

#: What media/ uses of the core: its service, events, decisions, errors and values, the clock and the host:port
#: parser, the deployment's calendars compiled (acd.topology), and the API's pieces its calls' routes plug
#: into. Never the router's insides, the store or the replication (acd.routing, acd.store, acd.redisstore...).
MEDIA_MAY_USE = (
    "acd.service", "acd.events", "acd.decisions", "acd.errors", "acd.model", "acd.clock", "acd.hostport",
    "acd.topology", "acd.calendar", "acd.auth", "acd.api.",
)  # fmt: skip

RULES = (
    Rule("acd", ("ivr", "media", "headsets", "chat", "cobrowse"), exempt=("acd.cli", "acd.serve")),
    Rule("ivr", ("acd", "media", "headsets", "chat", "cobrowse"), allowed=IVR_MAY_USE),
    Rule("media", ("acd", "headsets", "chat", "cobrowse"), allowed=MEDIA_MAY_USE),
    Rule("headsets", ("acd", "media", "ivr", "chat", "cobrowse"), allowed=HEADSETS_MAY_USE),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(TOP).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in a file, wherever it stands; relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            yield node.lineno, module
            for alias in node.names:  # `from acd import devices` imports acd.devices
                yield node.lineno, f"{module}.{alias.name}"


def _under(module: str, prefix: str) -> bool:
    if prefix.endswith("."):
        return module.startswith(prefix)
    return module == prefix or module.startswith(prefix + ".")


def breaches(rule: Rule) -> list[str]:
    """Every import of `rule.package` that the rule forbids, as "file:line imports module"."""
    found = []
    for path in sorted((TOP / rule.package).rglob("*.py")):
        name = _module_name(path)
        if name in rule.exempt:
            continue
        for line, module in imports_of(path):
            if not any(_under(module, prefix) for prefix in rule.forbidden):
                continue
            # `from acd import mqtt` yields both `acd` and `acd.mqtt`: the package itself is no breach.
            if module in PRODUCT or any(_under(module, allowed) for allowed in rule.allowed):
                continue
            found.append(f"{path.relative_to(TOP)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("rule", RULES, ids=[rule.package for rule in RULES])
def test_package_imports_only_what_the_map_allows(rule: Rule) -> None:
    assert breaches(rule) == []


def test_every_import_form_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader sees imports in functions, under TYPE_CHECKING, relative ones and `from package import module`:
    a breach hidden in any of them would be found."""
    source = tmp_path / "acd" / "probe.py"
    source.parent.mkdir()
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import media.calls\n"
        "if TYPE_CHECKING:\n"
        "    from ivr.flow import Flow\n"
        "def f():\n"
        "    from headsets import broker\n"
        "from .devices import x\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "TOP", tmp_path)
    found = sorted(module for _, module in imports_of(source))
    assert found == [
        "acd.devices",
        "acd.devices.x",
        "headsets",
        "headsets.broker",
        "ivr.flow",
        "ivr.flow.Flow",
        "media.calls",
        "typing",
        "typing.TYPE_CHECKING",
    ]


def test_a_breach_is_named_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "acd").mkdir()
    (tmp_path / "acd" / "cli.py").write_text("import media.api\n")  # the composition root: exempt
    (tmp_path / "acd" / "core.py").write_text("import json\n\ndef f():\n    from media.sip import endpoint\n")
    monkeypatch.setattr(sys.modules[__name__], "TOP", tmp_path)
    assert breaches(RULES[0]) == ["acd/core.py:4 imports media.sip", "acd/core.py:4 imports media.sip.endpoint"]


#: The pure cores, and what they load with everything they import: no event loop, socket, web framework,
#: store client or broker, and nothing of the product's drivers. The IVR's interpreter walks the flows of
#: config/ivr/ as their validated models (pydantic), which it only reads; pydantic's plug-in loader brings the
#: socket module along (through importlib.metadata's e-mail parser), the interpreter opens none.
PURE_CORES = {
    "acd.router": (),
    "media.control": (),
    "headsets.softphone.desk": (),
    "ivr.interpreter": ("pydantic", "socket"),
}
IMPURE = ("asyncio", "socket", "pydantic", "redis", "fastapi", "starlette", "uvicorn", "aiomqtt", "aiortc", "pjsua2")


@pytest.mark.parametrize("core", sorted(PURE_CORES))
def test_a_pure_core_loads_no_io_nor_driver(core: str) -> None:
    code = f"import sys, {core}; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    drivers = ("media.switchboard", "media.carry_out", "media.sip", "media.rtp", "acd.service", "acd.redisstore")
    found = [
        module for module in loaded
        if (module.split(".")[0] in IMPURE and module.split(".")[0] not in PURE_CORES[core])
        or any(module == d or module.startswith(d + ".") for d in drivers)
    ]  # fmt: skip
    assert found == []

"""Every `error` id the HTTP API can answer, collected from the code: one status each, each in the README's table
with that status, and each status one the OpenAPI document's refusals describe."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import acd
from acd.api.errors import STATUSES
from acd.auth import AuthError
from acd.errors import AcdError

TOP = Path(__file__).resolve().parents[3]
#: Where the API renders refusals: its own modules, and the calls' routes of media/.
RENDERING = sorted((TOP / "acd" / "api").glob("*.py")) + [TOP / "media" / "api.py"]
#: The fallback for a status the framework raises and the API has no id of its own for: several statuses.
ANY_STATUS = "http-error"
ROW = re.compile(r"^\| `(?P<id>[a-z0-9-]+)` \| (?P<status>\d{3}|any other) \| .+ \|$", re.MULTILINE)


def _classes(root: type) -> list[type]:
    found = []
    for sub in root.__subclasses__():
        found += [sub, *_classes(sub)]
    return found


def raised_by_class() -> dict[str, set[int]]:
    """The id and status of every error class the API's handlers render (those under AcdError and AuthError;
    the roots themselves are never raised), once every module that may define one is imported."""
    for module in pkgutil.walk_packages(acd.__path__, "acd."):
        importlib.import_module(module.name)
    importlib.import_module("media.api")
    ids: dict[str, set[int]] = {}
    for cls in _classes(AcdError) + _classes(AuthError):
        ids.setdefault(cls.error_id, set()).add(cls.status_code)  # type: ignore[attr-defined]
    return ids


def rendered_by_hand() -> dict[str, set[int]]:
    """(status, id) of every `error_response(...)` written with literals in the rendering modules; any other
    call must pass an exception's own `error_id` (one of the classes above)."""
    ids: dict[str, set[int]] = {}
    for path in RENDERING:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "error_response"):
                continue
            status, error_id = node.args[0], node.args[1]
            if isinstance(error_id, ast.Attribute) and error_id.attr == "error_id":
                continue  # exc.error_id: a class's
            assert isinstance(error_id, ast.Constant), f"{path.name}:{node.lineno}: an id not written as a literal"
            value = status.value if isinstance(status, ast.Constant) else None  # exc.status_code: http-error's
            ids.setdefault(error_id.value, set()).update({value} if isinstance(value, int) else set())
    return ids


def every_id() -> dict[str, set[int]]:
    ids = raised_by_class()
    for error_id, statuses in rendered_by_hand().items():
        ids.setdefault(error_id, set()).update(statuses)
    return ids


def test_the_roots_are_never_raised_themselves() -> None:
    """`acd-error` and `auth-error` are the roots' ids: no code raises a root, so no answer carries them."""
    pattern = re.compile(r"raise (AcdError|AuthError)\(")
    raising = [
        p
        for p in [*TOP.joinpath("acd").rglob("*.py"), *TOP.joinpath("media").rglob("*.py")]
        if pattern.search(p.read_text())
    ]
    assert raising == []


def test_each_id_has_one_status_the_openapi_document_describes() -> None:
    ids = every_id()
    several = {error_id: statuses for error_id, statuses in ids.items() if len(statuses) > 1}
    assert several == {}
    assert {error_id: statuses for error_id, statuses in ids.items() if not statuses <= STATUSES} == {}


def test_each_id_is_in_the_readmes_table_with_its_status() -> None:
    ids = every_id()
    table = {match["id"]: match["status"] for match in ROW.finditer((TOP / "README.md").read_text(encoding="utf-8"))}
    produced = {error_id: str(next(iter(statuses))) for error_id, statuses in ids.items() if error_id != ANY_STATUS}
    assert {**produced, ANY_STATUS: "any other"} == table


def test_the_collection_finds_what_the_api_answers() -> None:
    """The collectors see ids of each kind: a class of the core, one of media/'s routes, one written by hand."""
    ids = every_id()
    assert ids["unknown-task"] == {404}
    assert ids["unknown-target"] == {404}
    assert ids["no-such-route"] == {404}
    assert ids["malformed-json"] == {400}

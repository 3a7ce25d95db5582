"""What every refused configuration's problem must point at: a file of the directory, and a line inside it
(an empty file still has a line 1 to point at). Shared by the deployment's and the IVR's loader tests."""

from __future__ import annotations

from pathlib import Path

from acd.deployment.errors import Problem


def line_count(data: bytes) -> int:
    """Lines of a file as YAML and editors count them."""
    return max(1, len(data.decode("utf-8", "replace").splitlines()))


def assert_points_into(directory: Path, problem: Problem) -> Path:
    """The problem's file exists in `directory` and its line is one of that file's; the file's path."""
    path = directory / problem.file
    assert path.is_file(), problem
    assert 1 <= problem.line <= line_count(path.read_bytes()), problem
    return path

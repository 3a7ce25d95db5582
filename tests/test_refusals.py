"""The loader tests' own check refuses a problem that points outside its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.deployment.errors import Problem
from tests.refusals import assert_points_into


def test_a_problem_must_point_at_a_line_of_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "queues.yaml").write_text("- id: a\n- id: b\n")
    (tmp_path / "empty.yaml").write_text("")
    assert assert_points_into(tmp_path, Problem("queues.yaml", 2, "queues[1]", "x")) == tmp_path / "queues.yaml"
    assert_points_into(tmp_path, Problem("empty.yaml", 1, "empty", "x"))
    for wrong in (Problem("queues.yaml", 0, "queues", "x"), Problem("queues.yaml", 3, "queues", "x"),
                  Problem("missing.yaml", 1, "missing", "x")):  # fmt: skip
        with pytest.raises(AssertionError):
            assert_points_into(tmp_path, wrong)

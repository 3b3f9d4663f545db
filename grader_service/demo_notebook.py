"""The demo assignment's source notebook (nbgrader markup): an autograded answer, a visible test, a test
with hidden parts, and a manually graded answer."""

from __future__ import annotations

from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def nbgrader_cell_meta(
    grade_id: str,
    *,
    grade: bool = False,
    solution: bool = False,
    locked: bool = False,
    points: float | None = None,
) -> dict[str, Any]:
    """`metadata` of a cell with nbgrader markup (schema version 3)."""
    meta: dict[str, Any] = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def demo_source_notebook() -> bytes:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        new_markdown_cell(
            "# Assignment 1: Python basics\n\nImplement `mean(values)`: the arithmetic mean of a "
            "non-empty list of numbers. Raise `ValueError` for an empty list.",
            metadata=nbgrader_cell_meta("intro", locked=True),
        ),
        new_code_cell(
            "def mean(values):\n    ### BEGIN SOLUTION\n    if not values:\n"
            "        raise ValueError('mean of an empty list')\n    return sum(values) / len(values)\n"
            "    ### END SOLUTION",
            metadata=nbgrader_cell_meta("mean", solution=True),
        ),
        new_code_cell(
            "assert mean([1, 2, 3]) == 2\nassert mean([5]) == 5",
            metadata=nbgrader_cell_meta("test_mean", grade=True, locked=True, points=2),
        ),
        new_code_cell(
            "try:\n    mean([])\nexcept ValueError:\n    pass\nelse:\n"
            "    raise AssertionError('mean([]) must raise ValueError')\n"
            "### BEGIN HIDDEN TESTS\nassert mean([-1, 1]) == 0\nassert abs(mean([0.1, 0.2]) - 0.15) < 1e-9\n"
            "### END HIDDEN TESTS",
            metadata=nbgrader_cell_meta("test_mean_edge_cases", grade=True, locked=True, points=2),
        ),
        new_markdown_cell(
            "Why can the mean of a list of integers be a float? Answer in one sentence.",
            metadata=nbgrader_cell_meta("question", locked=True),
        ),
        new_markdown_cell(
            "### BEGIN SOLUTION\nDividing the integer sum by the count is true division.\n### END SOLUTION",
            metadata=nbgrader_cell_meta("explain", grade=True, solution=True, points=1),
        ),
    ]
    return nbformat.writes(nb).encode("utf-8")

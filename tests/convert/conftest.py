"""Fixtures and helpers of the notebook-pipeline tests.

Fixtures:
- ``files``: the folder of fixture notebooks written for these tests (``tests/convert/files``).
- ``released``: the five-cell assignment generated into ``tmp_path``; an ``Assignment`` with the source,
  release and gradebook paths and the gradebook dict.
- ``released_old``: the same assignment as an nbformat 4.1 notebook without cell ids.

Helpers (plain functions, imported by the test modules):
- ``make_notebook(cells, minor=5)`` and cell builders ``code``/``markdown`` with nbgrader roles.
- ``submit(assignment, tmp_path, edit)``: copy the release, let ``edit(nb)`` change the student's notebook,
  autograde it in-process with real kernels, return ``(result, graded_dir)``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import NotebookNode

from grader_service.convert import autograde, generate_assignment
from grader_service.convert.notebook_io import read_notebook, write_notebook

FILES = Path(__file__).parent / "files"


def role(
    gid: str,
    *,
    grade: bool = False,
    solution: bool = False,
    locked: bool = False,
    points: float | None = None,
    task: bool = False,
) -> dict[str, Any]:
    """Metadata of an nbgrader cell (schema version 3)."""
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": gid,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if task:
        meta["task"] = True
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def code(source: str, meta: dict[str, Any] | None = None) -> NotebookNode:
    return nbformat.v4.new_code_cell(source, metadata=meta or {})


def markdown(source: str, meta: dict[str, Any] | None = None) -> NotebookNode:
    return nbformat.v4.new_markdown_cell(source, metadata=meta or {})


def make_notebook(cells: list[NotebookNode], minor: int = 5) -> NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.nbformat_minor = minor
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    if minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    return nb


@dataclass
class Assignment:
    source: Path
    release: Path
    gradebook_path: Path
    gradebook: dict[str, Any]
    name: str = "five-cells.ipynb"

    def release_nb(self) -> NotebookNode:
        return read_notebook(self.release / self.name)


def make_assignment(tmp_path: Path, fixture: str, name: str = "five-cells.ipynb") -> Assignment:
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(FILES / fixture, source / name)
    release, book = tmp_path / "release", tmp_path / "gradebook.json"
    gradebook = generate_assignment(source, release, book)
    return Assignment(source, release, book, gradebook, name)


@pytest.fixture
def files() -> Path:
    return FILES


@pytest.fixture
def released(tmp_path: Path) -> Assignment:
    return make_assignment(tmp_path, "five-cells.ipynb")


@pytest.fixture
def released_old(tmp_path: Path) -> Assignment:
    return make_assignment(tmp_path, "five-cells-nbformat41.ipynb")


def cell_by_id(nb: NotebookNode, grade_id: str) -> NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def submit(
    assignment: Assignment,
    tmp_path: Path,
    edit: Callable[[NotebookNode], None] | None = None,
    tag: str = "student",
    **kwargs: Any,
) -> tuple[dict[str, Any], Path]:
    nb = assignment.release_nb()
    if edit is not None:
        edit(nb)
    submission, graded = tmp_path / f"sub-{tag}", tmp_path / f"graded-{tag}"
    write_notebook(nb, submission / assignment.name)
    result = autograde(submission, graded, assignment.gradebook, **kwargs)
    return result, graded


def scores(result: dict[str, Any], name: str = "five-cells.ipynb") -> dict[str, float | None]:
    return {gid: c["score"] for gid, c in result["notebooks"][name]["cells"].items()}


def answer_square(nb: NotebookNode, body: str = "    return x * x") -> None:
    """The student's answer to the fixture's `square` question."""
    cell_by_id(nb, "square").source = "def square(x):\n" + body

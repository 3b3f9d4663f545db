"""Builds small nbgrader-style notebooks for tests: an assignment source and student submissions."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader_service.demo_notebook import nbgrader_cell_meta

SOLUTION = "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION\n"


def source_notebook() -> nbformat.NotebookNode:
    """An autograded answer, a visible test (2 pts), a test with hidden parts (1 pt), a manual answer
    (2 pts)."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        new_markdown_cell("# Squares\nWrite `square(x)`.", metadata=nbgrader_cell_meta("intro", locked=True)),
        new_code_cell(SOLUTION, metadata=nbgrader_cell_meta("answer", solution=True)),
        new_code_cell(
            "assert square(3) == 9",
            metadata=nbgrader_cell_meta("test_square", grade=True, locked=True, points=2),
        ),
        new_code_cell(
            "assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(-1) == 1\n### END HIDDEN TESTS",
            metadata=nbgrader_cell_meta("test_hidden", grade=True, locked=True, points=1),
        ),
        new_markdown_cell(
            "### BEGIN SOLUTION\nSquares grow fast.\n### END SOLUTION",
            metadata=nbgrader_cell_meta("explain", grade=True, solution=True, points=2),
        ),
    ]
    return nb


def write_source(folder: Path, name: str = "squares.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(source_notebook(), path)
    return path


def answer_release(
    release_nb: Path,
    dest: Path,
    answer: str = "def square(x):\n    return x * x\n",
    extra_cells: list[str] | None = None,
    markdown: str | None = None,
) -> Path:
    """A student's copy of the released notebook with `answer` in the solution cell (and extra code cells)."""
    nb = nbformat.read(release_nb, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "answer":
            cell.source = answer
        if grade_id == "explain" and markdown is not None:
            cell.source = markdown
    for i, code in enumerate(extra_cells or []):
        nb.cells.insert(2 + i, new_code_cell(code))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest

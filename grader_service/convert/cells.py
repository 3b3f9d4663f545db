"""Roles of nbgrader cells (answer, test, manual answer, task, read-only) read from cell metadata."""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode


def nbgrader_meta(cell: NotebookNode) -> dict[str, Any]:
    """The cell's `metadata.nbgrader` dict, or an empty dict when it has none."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def is_grade(cell: NotebookNode) -> bool:
    """A cell that carries points: autograder tests, or a manually graded answer."""
    return bool(nbgrader_meta(cell).get("grade", False))


def is_solution(cell: NotebookNode) -> bool:
    """A cell where the student writes an answer."""
    return bool(nbgrader_meta(cell).get("solution", False))


def is_task(cell: NotebookNode) -> bool:
    """A manually graded task cell (markdown, read-only, carries points)."""
    return bool(nbgrader_meta(cell).get("task", False))


def is_locked(cell: NotebookNode) -> bool:
    """A cell whose source the student may not change: tests, tasks and read-only cells."""
    meta = nbgrader_meta(cell)
    if not meta or meta.get("solution", False):
        return False
    if meta.get("grade", False) or meta.get("task", False):
        return True
    return bool(meta.get("locked", False))


def is_test(cell: NotebookNode) -> bool:
    """An autograder test cell: graded, not an answer."""
    return is_grade(cell) and not is_solution(cell)


def is_manual_answer(cell: NotebookNode) -> bool:
    """A manually graded answer: graded and an answer."""
    return is_grade(cell) and is_solution(cell)


def has_role(cell: NotebookNode) -> bool:
    """Whether nbgrader treats this cell specially at all."""
    return is_grade(cell) or is_solution(cell) or is_task(cell) or is_locked(cell)


def role(cell: NotebookNode) -> str:
    """One word for the cell's role, used in the gradebook and the result."""
    if is_task(cell):
        return "task"
    if is_manual_answer(cell):
        return "manual"
    if is_test(cell):
        return "tests"
    if is_solution(cell):
        return "answer"
    if is_locked(cell):
        return "readonly"
    return "plain"


def points(cell: NotebookNode) -> float:
    """Points of a grade or task cell (0 for other cells)."""
    if not (is_grade(cell) or is_task(cell)):
        return 0.0
    return float(nbgrader_meta(cell).get("points", 0) or 0)


def source_text(cell: NotebookNode) -> str:
    """The cell source as one string, whether stored as a string or a list of lines."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)

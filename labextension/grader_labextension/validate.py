"""Validate before submitting (like nbgrader's Validate): run the student's notebooks in a fresh kernel in
their own server and report unanswered answer cells, failing visible tests and other errors. Nothing is
written back and nothing is handed in.

Unanswered means the answer cell still holds the stub the release put there ("YOUR CODE HERE", "YOUR
ANSWER HERE") or is empty; hidden tests are not in the student's copy, so passing here does not promise
full marks.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

STUBS = ("YOUR CODE HERE", "YOUR ANSWER HERE")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_MESSAGE = 2000


def _nbgrader(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _error_text(cell: Any) -> str | None:
    """`AssertionError: ...` and the lines the traceback points at (`---->`), not the whole traceback."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            head = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
            text = "\n".join(ANSI.sub("", line) for line in output.get("traceback", []))
            pointed = [line.strip() for line in text.splitlines() if line.lstrip().startswith("---->")]
            return "\n".join([head, *pointed[-3:]])[:MAX_MESSAGE]
    return None


def _problem(notebook: str, index: int, cell: Any, kind: str, message: str) -> dict[str, Any]:
    return {
        "notebook": notebook,
        "cell_index": index,
        "grade_id": _nbgrader(cell).get("grade_id"),
        "kind": kind,
        "message": message,
    }


def check_notebook(name: str, nb: Any) -> list[dict[str, Any]]:
    """The problems in an executed notebook."""
    problems = []
    for index, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        source = cell.get("source", "")
        error = _error_text(cell) if cell.cell_type == "code" else None
        if meta.get("solution") and (not source.strip() or any(stub in source for stub in STUBS)):
            problems.append(_problem(name, index, cell, "unanswered", "this answer cell is not filled in"))
        elif error and meta.get("grade") and not meta.get("solution"):
            problems.append(_problem(name, index, cell, "failed_test", error))
        elif error:
            problems.append(_problem(name, index, cell, "error", error))
    return problems


async def validate_folder(folder: Path, notebooks: list[str], cell_timeout: int) -> dict[str, Any]:
    """Execute each notebook (relative paths in `folder`) and collect the problems."""
    started = time.monotonic()
    problems: list[dict[str, Any]] = []
    for name in notebooks:
        path = folder / name
        nb = nbformat.read(path, as_version=4)
        kernel = nb.metadata.get("kernelspec", {}).get("name") or "python3"
        client = NotebookClient(
            nb,
            timeout=cell_timeout,
            kernel_name=kernel,
            allow_errors=True,
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            await client.async_execute()
        except CellTimeoutError:
            problems.append(
                {
                    "notebook": name,
                    "cell_index": _running_index(nb),
                    "grade_id": None,
                    "kind": "error",
                    "message": f"a cell ran longer than {cell_timeout} s and was stopped",
                }
            )
        except DeadKernelError:
            problems.append(
                {
                    "notebook": name,
                    "cell_index": _running_index(nb),
                    "grade_id": None,
                    "kind": "error",
                    "message": "the kernel died while running this notebook (out of memory?)",
                }
            )
        problems.extend(check_notebook(name, nb))
    return {
        "passed": not problems and bool(notebooks),
        "notebooks": notebooks,
        "problems": problems,
        "duration": round(time.monotonic() - started, 2),
    }


def _running_index(nb: Any) -> int:
    """The index of the last code cell that got an execution count (where a run stopped)."""
    last = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("execution_count"):
            last = index
    return last

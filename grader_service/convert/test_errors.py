"""The error output of visible tests in graded notebooks (what a student may read of a failing test)."""

from __future__ import annotations

import re
from typing import Any

import nbformat

from grader_service.convert import cells
from grader_service.convert.preprocessors.hide_hidden_tests import notebook_hidden_lines, scrub_text

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def visible_test_errors(files: dict[str, bytes], gradebook: dict[str, Any]) -> dict[str, dict[str, str]]:
    """notebook → grade_id → error text of each failing test cell without hidden tests.

    Tests with hidden parts are left out entirely: their tracebacks quote the hidden lines. The others lose
    any hidden line of the notebook (student code run after a hidden test can raise with its source).
    """
    out: dict[str, dict[str, str]] = {}
    for name, entry in gradebook.get("notebooks", {}).items():
        raw = files.get(name)
        if raw is None:
            continue
        hidden = notebook_hidden_lines(entry)
        visible = {
            c["grade_id"] for c in entry["cells"] if c["role"] == "tests" and not c.get("hidden_tests")
        }
        try:
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        except Exception:  # noqa: BLE001  (a graded notebook we cannot read has no error text to show)
            continue
        for cell in nb.cells:
            grade_id = str(cells.nbgrader_meta(cell).get("grade_id") or "")
            if grade_id not in visible or cell.cell_type != "code":
                continue
            parts = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    trace = "\n".join(_ANSI.sub("", line) for line in output.get("traceback", []))
                    parts.append(trace or f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
                elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                    parts.append(_ANSI.sub("", _text(output.get("text", ""))))
            if parts:
                out.setdefault(name, {})[grade_id] = scrub_text("\n".join(parts), hidden)
    return out

"""ClearMarkScheme: the grader's mark scheme leaves task cells in the release."""

from __future__ import annotations

from grader_service.convert.notebook_io import read_notebook
from grader_service.convert.preprocessors import ClearMarkScheme


def test_mark_scheme_removed_and_recorded(files):
    nb, resources = ClearMarkScheme()(read_notebook(files / "task-mark-scheme.ipynb"), {})
    assert nb.cells[0].source == "Explain."
    assert "Give 2 points" in resources["instructor_sources"]["task1"]

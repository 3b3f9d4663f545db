"""ComputeScores: pass, fail, partial credit, stderr, status from the kernel, manual answers."""

from __future__ import annotations

import nbformat
import pytest

from grader_service.convert.preprocessors import ComputeChecksums, ComputeScores, SaveGradebook
from grader_service.convert.preprocessors.execute import RUN_KEY

from .conftest import code, make_notebook, markdown, role


def graded_pair(test_outputs, status="ok"):
    nb = make_notebook(
        [
            code("assert f()", role("t", grade=True, points=2)),
            markdown("YOUR ANSWER HERE", role("m", grade=True, solution=True, points=1)),
            markdown("Task", role("k", task=True, points=3)),
        ]
    )
    nb, resources = ComputeChecksums()(nb, {})
    nb, resources = SaveGradebook()(nb, resources)
    nb.cells[0].outputs = test_outputs
    nb.cells[0].metadata[RUN_KEY] = {"status": status, "stderr": False}
    return nb, resources


def result(value):
    return nbformat.v4.new_output("execute_result", data={"text/plain": value}, execution_count=1)


@pytest.mark.parametrize(
    ("outputs", "status", "score", "label"),
    [
        ([], "ok", 2.0, "passed"),
        ([result("1.5")], "ok", 1.5, "partial"),
        ([result("7")], "ok", 2.0, "passed"),  # out of range: not partial credit
        ([result("'text'")], "ok", 2.0, "passed"),
        ([nbformat.v4.new_output("stream", name="stderr", text="warn")], "ok", 0.0, "failed"),
        ([nbformat.v4.new_output("error", ename="E", evalue="", traceback=[])], "ok", 0.0, "failed"),
        ([], "error", 0.0, "failed"),  # e.g. showtraceback replaced: only the reply says error
        ([result("2")], "timeout", 0.0, "timeout"),
    ],
)
def test_test_cell_scores(outputs, status, score, label):
    nb, resources = graded_pair(outputs, status)
    _, resources = ComputeScores()(nb, resources)
    cell = resources["scores"]["cells"]["t"]
    assert (cell["score"], cell["status"]) == (score, label)


def test_manual_answers():
    nb, resources = graded_pair([])
    _, resources = ComputeScores()(nb, resources)
    cells = resources["scores"]["cells"]
    assert cells["m"]["score"] == 0.0 and cells["m"]["comment"] == "No response."
    assert cells["k"]["score"] is None and resources["scores"]["needs_manual"] is True
    nb.cells[1].source = "My answer"
    _, resources = ComputeScores()(nb, resources)
    assert resources["scores"]["cells"]["m"]["score"] is None
    assert resources["scores"]["max_score"] == 6.0

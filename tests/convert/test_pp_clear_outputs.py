"""ClearOutputs: no outputs or execution counts in the release."""

from __future__ import annotations

import nbformat

from grader_service.convert.preprocessors import ClearOutputs

from .conftest import code, make_notebook


def test_outputs_and_counts_cleared():
    cell = code("print(1)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    cell.execution_count = 3
    cell.metadata["execution"] = {"iopub.status.busy": "2024-01-01"}
    nb, _ = ClearOutputs()(make_notebook([cell]), {})
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
    assert "execution" not in nb.cells[0].metadata

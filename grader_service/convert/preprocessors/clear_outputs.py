"""ClearOutputs: remove outputs and execution counts."""

from __future__ import annotations

from nbformat import NotebookNode

from grader_service.convert.preprocessors.base import Preprocessor, Resources


class ClearOutputs(Preprocessor):
    """Empty every code cell's outputs and execution count and drop execution timing metadata.

    Side effects: edits cells in place.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: Resources, index: int
    ) -> tuple[NotebookNode, Resources]:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        return cell, resources

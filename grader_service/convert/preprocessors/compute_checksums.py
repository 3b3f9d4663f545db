"""ComputeChecksums: stamp each nbgrader cell with the checksum and type it has at release."""

from __future__ import annotations

from nbformat import NotebookNode

from grader_service.convert import cells
from grader_service.convert.checksum import compute_checksum
from grader_service.convert.preprocessors.base import Preprocessor, Resources


class ComputeChecksums(Preprocessor):
    """Write `checksum` (nbgrader-compatible md5) and `cell_type` into `metadata.nbgrader`.

    Side effects: edits the metadata of answer, test, task and read-only cells in place.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: Resources, index: int
    ) -> tuple[NotebookNode, Resources]:
        if cells.has_role(cell):
            cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
            cell.metadata.nbgrader["cell_type"] = cell.cell_type
        return cell, resources

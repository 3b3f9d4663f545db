"""ClearMarkScheme: remove the grader's mark scheme from task cells in the student version."""

from __future__ import annotations

from nbformat import NotebookNode
from traitlets import Bool, Unicode

from grader_service.convert import cells
from grader_service.convert.preprocessors.base import Preprocessor, Resources
from grader_service.convert.preprocessors.regions import remove_marked_blocks


class ClearMarkScheme(Preprocessor):
    """Delete `=== BEGIN MARK SCHEME ===` … `=== END MARK SCHEME ===` blocks from task cells.

    Side effects: edits task-cell sources in place; records the full source in
    ``resources["instructor_sources"][grade_id]``; raises MetadataError for a mark scheme outside a task
    cell (unless `enforce_metadata` is off).
    """

    begin_delimiter = Unicode("BEGIN MARK SCHEME", help="Marker that opens a mark scheme.").tag(config=True)
    end_delimiter = Unicode("END MARK SCHEME", help="Marker that closes a mark scheme.").tag(config=True)
    enforce_metadata = Bool(True, help="Reject mark schemes in cells that are not task cells.").tag(
        config=True
    )

    def preprocess_cell(
        self, cell: NotebookNode, resources: Resources, index: int
    ) -> tuple[NotebookNode, Resources]:
        remove_marked_blocks(
            cell,
            resources,
            index,
            self.begin_delimiter,
            self.end_delimiter,
            belongs=cells.is_task,
            misplaced="mark scheme found in a cell that is not a task cell",
            enforce=self.enforce_metadata,
        )
        return cell, resources

"""ClearHiddenTests: remove hidden tests from the student version, keeping them for the gradebook."""

from __future__ import annotations

from nbformat import NotebookNode
from traitlets import Bool, Unicode

from grader_service.convert import cells
from grader_service.convert.preprocessors.base import Preprocessor, Resources
from grader_service.convert.preprocessors.regions import remove_marked_blocks


class ClearHiddenTests(Preprocessor):
    """Delete `### BEGIN HIDDEN TESTS` … `### END HIDDEN TESTS` blocks (delimiters included).

    Side effects: edits test-cell sources in place; records the full source of every cell it changed in
    ``resources["instructor_sources"][grade_id]`` and the grade_ids in ``resources["hidden_tests"]``;
    raises MetadataError for markers outside test cells (unless `enforce_metadata` is off).
    """

    begin_delimiter = Unicode("BEGIN HIDDEN TESTS", help="Marker that opens a hidden-test block.").tag(
        config=True
    )
    end_delimiter = Unicode("END HIDDEN TESTS", help="Marker that closes a hidden-test block.").tag(
        config=True
    )
    enforce_metadata = Bool(True, help="Reject hidden-test blocks in cells that are not test cells.").tag(
        config=True
    )

    def preprocess_cell(
        self, cell: NotebookNode, resources: Resources, index: int
    ) -> tuple[NotebookNode, Resources]:
        grade_id = remove_marked_blocks(
            cell,
            resources,
            index,
            self.begin_delimiter,
            self.end_delimiter,
            belongs=cells.is_test,
            misplaced="hidden tests found in a cell that is not an autograder test cell",
            enforce=self.enforce_metadata,
        )
        if grade_id is not None:
            resources.setdefault("hidden_tests", []).append(grade_id)
        return cell, resources

"""ClearHiddenTests: remove hidden tests from the student version, keeping them for the gradebook."""

from __future__ import annotations

from nbformat import NotebookNode
from traitlets import Bool, Unicode

from grader_service.convert import cells
from grader_service.convert.errors import MetadataError
from grader_service.convert.metadata.validator import describe_cell
from grader_service.convert.preprocessors.base import Preprocessor, Resources
from grader_service.convert.preprocessors.regions import find_regions, has_marker, replace_regions


class ClearHiddenTests(Preprocessor):
    """Delete `### BEGIN HIDDEN TESTS` … `### END HIDDEN TESTS` blocks (delimiters included).

    Side effects: edits test-cell sources in place; records the full source of every cell it changed in
    ``resources["instructor_sources"][grade_id]`` and the grade_ids in ``resources["hidden_tests"]``;
    raises MetadataError for markers outside test cells (unless `enforce_metadata` is off).
    """

    begin_delimiter = Unicode("BEGIN HIDDEN TESTS", help="Marker that opens a hidden-test block.").tag(
        config=True
    )
    end_delimiter = Unicode("END HIDDEN TESTS", help="Marker that closes a hidden-test block.").tag(config=True)
    enforce_metadata = Bool(True, help="Reject hidden-test blocks in cells that are not test cells.").tag(
        config=True
    )

    def preprocess_cell(
        self, cell: NotebookNode, resources: Resources, index: int
    ) -> tuple[NotebookNode, Resources]:
        if not has_marker(cell, self.begin_delimiter, self.end_delimiter):
            return cell, resources
        where = describe_cell(resources.get("notebook", "notebook"), index, cell)
        if not cells.is_test(cell):
            if self.enforce_metadata:
                raise MetadataError(f"{where}: hidden tests found in a cell that is not an autograder test cell")
            return cell, resources
        regions = find_regions(cell.source, self.begin_delimiter, self.end_delimiter, where)
        grade_id = cells.nbgrader_meta(cell)["grade_id"]
        resources.setdefault("instructor_sources", {}).setdefault(grade_id, cell.source)
        resources.setdefault("hidden_tests", []).append(grade_id)
        cell.source = replace_regions(cell.source, regions, None)
        return cell, resources

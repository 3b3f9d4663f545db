"""ClearMarkScheme: remove the grader's mark scheme from task cells in the student version."""

from __future__ import annotations

from nbformat import NotebookNode
from traitlets import Bool, Unicode

from grader_service.convert import cells
from grader_service.convert.errors import MetadataError
from grader_service.convert.metadata.validator import describe_cell
from grader_service.convert.preprocessors.base import Preprocessor, Resources
from grader_service.convert.preprocessors.regions import find_regions, has_marker, replace_regions


class ClearMarkScheme(Preprocessor):
    """Delete `=== BEGIN MARK SCHEME ===` … `=== END MARK SCHEME ===` blocks from task cells.

    Side effects: edits task-cell sources in place; records the full source in
    ``resources["instructor_sources"][grade_id]``; raises MetadataError for a mark scheme outside a task
    cell (unless `enforce_metadata` is off).
    """

    begin_delimiter = Unicode("BEGIN MARK SCHEME", help="Marker that opens a mark scheme.").tag(config=True)
    end_delimiter = Unicode("END MARK SCHEME", help="Marker that closes a mark scheme.").tag(config=True)
    enforce_metadata = Bool(True, help="Reject mark schemes in cells that are not task cells.").tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: Resources, index: int
    ) -> tuple[NotebookNode, Resources]:
        if not has_marker(cell, self.begin_delimiter, self.end_delimiter):
            return cell, resources
        where = describe_cell(resources.get("notebook", "notebook"), index, cell)
        if not cells.is_task(cell):
            if self.enforce_metadata:
                raise MetadataError(f"{where}: mark scheme found in a cell that is not a task cell")
            return cell, resources
        regions = find_regions(cell.source, self.begin_delimiter, self.end_delimiter, where)
        grade_id = cells.nbgrader_meta(cell)["grade_id"]
        resources.setdefault("instructor_sources", {}).setdefault(grade_id, cell.source)
        cell.source = replace_regions(cell.source, regions, None)
        return cell, resources

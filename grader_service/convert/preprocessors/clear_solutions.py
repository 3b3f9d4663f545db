"""ClearSolutions: replace the instructor's solutions with stubs in the student version."""

from __future__ import annotations

from nbformat import NotebookNode
from traitlets import Bool, Dict, Unicode

from grader_service.convert import cells
from grader_service.convert.errors import MetadataError
from grader_service.convert.metadata.validator import describe_cell
from grader_service.convert.notebook_io import notebook_language
from grader_service.convert.preprocessors.base import Preprocessor, Resources
from grader_service.convert.preprocessors.regions import find_regions, has_marker, replace_regions


class ClearSolutions(Preprocessor):
    """Replace `### BEGIN SOLUTION` … `### END SOLUTION` regions with a stub.

    In a code cell the region becomes the stub for the notebook's language, indented like the opening
    delimiter; a solution cell with no region has its whole source replaced. A markdown answer becomes
    `text_stub`. Side effects: edits cell sources in place; raises MetadataError when a delimiter is found
    in a cell that is not a solution cell (unless `enforce_metadata` is off) or a region is not closed.
    """

    code_stub = Dict(
        default_value={
            "python": "# YOUR CODE HERE\nraise NotImplementedError()",
            "r": '# YOUR CODE HERE\nstop("No Answer Given!")',
            "julia": '# YOUR CODE HERE\nerror("No Answer Given!")',
            "matlab": "% YOUR CODE HERE\nerror('No Answer Given!')",
            "octave": "% YOUR CODE HERE\nerror('No Answer Given!')",
            "java": "// YOUR CODE HERE",
            "c++": "// YOUR CODE HERE",
        },
        help="Stub that replaces a solution region, per kernel language (lower case).",
    ).tag(config=True)
    default_code_stub = Unicode("# YOUR CODE HERE", help="Stub for a language missing from `code_stub`.").tag(
        config=True
    )
    text_stub = Unicode("YOUR ANSWER HERE", help="Text that replaces a markdown answer.").tag(config=True)
    begin_delimiter = Unicode("BEGIN SOLUTION", help="Marker that opens a solution region.").tag(config=True)
    end_delimiter = Unicode("END SOLUTION", help="Marker that closes a solution region.").tag(config=True)
    enforce_metadata = Bool(True, help="Reject solution regions in cells that are not solution cells.").tag(
        config=True
    )

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        language = notebook_language(nb)
        stub = self.code_stub.get(language, self.default_code_stub)
        name = resources.get("notebook", "notebook")
        for index, cell in enumerate(nb.cells):
            where = describe_cell(name, index, cell)
            marked = has_marker(cell, self.begin_delimiter, self.end_delimiter)
            if not cells.is_solution(cell):
                if marked and self.enforce_metadata:
                    raise_region_error(where)
                if not marked:
                    continue
            regions = find_regions(cell.source, self.begin_delimiter, self.end_delimiter, where)
            replacement = stub if cell.cell_type == "code" else self.text_stub
            if regions:
                cell.source = replace_regions(cell.source, regions, replacement)
            elif cells.is_solution(cell):
                cell.source = replacement
        return nb, resources


def raise_region_error(where: str) -> None:
    """A solution region outside a solution cell would leak the answer into the release."""
    raise MetadataError(
        f"{where}: solution region detected in a cell that is not a solution cell; mark the cell as an "
        "answer cell or remove the markers"
    )

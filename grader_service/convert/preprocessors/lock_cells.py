"""LockCells: set Jupyter's `deletable`/`editable` flags so students cannot change protected cells."""

from __future__ import annotations

from nbformat import NotebookNode
from traitlets import Bool

from grader_service.convert import cells
from grader_service.convert.preprocessors.base import Preprocessor, Resources


class LockCells(Preprocessor):
    """Answer cells become undeletable; test, task and read-only cells undeletable and uneditable.

    The flags only guide the editor: autograde restores protected cells from the gradebook anyway.
    Side effects: edits cell metadata in place.
    """

    lock_solution_cells = Bool(True, help="Make answer cells undeletable.").tag(config=True)
    lock_protected_cells = Bool(
        True, help="Make test, task and read-only cells undeletable and uneditable."
    ).tag(config=True)
    lock_all_cells = Bool(
        False, help="Make every cell undeletable and uneditable (answers stay editable)."
    ).tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: Resources, index: int
    ) -> tuple[NotebookNode, Resources]:
        if cells.is_solution(cell):
            if self.lock_solution_cells or self.lock_all_cells:
                cell.metadata["deletable"] = False
                cell.metadata.pop("editable", None)
        elif (self.lock_protected_cells and cells.is_locked(cell)) or self.lock_all_cells:
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        return cell, resources

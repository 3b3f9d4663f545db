"""OverwriteCells: make a submission tamper-proof by restoring protected cells from the gradebook."""

from __future__ import annotations

import logging
from typing import Any

from nbformat import NotebookNode

from grader_service.convert.notebook_io import change_cell_type, copy_node, normalise_cell
from grader_service.convert.preprocessors.base import Preprocessor, Resources


class OverwriteCells(Preprocessor):
    """Put the released truth back into a student's notebook before it runs.

    Cells are matched by grade_id (the first cell with a given id wins), so notebooks without cell ids
    (nbformat 4.0-4.4) work too. For every gradebook cell:

    - test, task and read-only cells get the gradebook's source back (hidden tests included), their
      metadata and their type;
    - answer cells keep the student's source but get their type and nbgrader metadata back;
    - a deleted cell is inserted again after the gradebook cell that precedes it.

    A later copy of a grade_id, or a grade_id the release does not have, loses its nbgrader metadata and
    runs as an ordinary cell, so it can neither add points nor replace a test. Reads
    ``resources["gradebook_notebook"]``. Side effects: edits the notebook in place; appends what it
    restored to ``resources["log"]`` and ``resources["tampering"]``.
    """

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        entries = resources["gradebook_notebook"]["cells"]
        by_id = {entry["grade_id"]: entry for entry in entries}
        claimed: dict[str, NotebookNode] = {}
        chosen = self._choose(nb, by_id)
        for index, cell in enumerate(nb.cells):
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if isinstance(grade_id, str) and grade_id in chosen and chosen[grade_id] is cell:
                claimed[grade_id] = cell
                self._restore(cell, by_id[grade_id], nb, resources)
                continue
            if isinstance(grade_id, str) and grade_id in chosen:
                self._tamper(
                    resources,
                    grade_id,
                    f"cell {index} repeats grade_id {grade_id!r}: run as an ordinary cell",
                )
            elif isinstance(meta, dict) and (meta.get("grade") or meta.get("solution") or meta.get("locked")):
                self._tamper(
                    resources,
                    str(grade_id),
                    f"cell {index} has grade_id {grade_id!r}, which the release "
                    "does not have: run as an ordinary cell",
                )
            del cell.metadata["nbgrader"]
        self._insert_missing(nb, entries, claimed, resources)
        return nb, resources

    @staticmethod
    def _choose(nb: NotebookNode, by_id: dict[str, dict[str, Any]]) -> dict[str, NotebookNode]:
        """For each grade_id, the cell that stands for it: among copies the first one still as released,
        else the first one."""
        chosen: dict[str, NotebookNode] = {}
        pristine: set[str] = set()
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(grade_id, str) or grade_id not in by_id or grade_id in pristine:
                continue
            entry = by_id[grade_id]
            if cell.cell_type == entry["cell_type"] and cell.source == entry["release_source"]:
                chosen[grade_id] = cell
                pristine.add(grade_id)
            else:
                chosen.setdefault(grade_id, cell)
        return chosen

    def _restore(
        self, cell: NotebookNode, entry: dict[str, Any], nb: NotebookNode, resources: Resources
    ) -> None:
        grade_id = entry["grade_id"]
        if cell.cell_type != entry["cell_type"]:
            self._tamper(
                resources,
                grade_id,
                f"cell {grade_id!r}: type changed from {entry['cell_type']} to {cell.cell_type}; restored",
            )
            change_cell_type(cell, entry["cell_type"], nb)
        if entry["role"] in ("tests", "task", "readonly"):
            if cell.source != entry["release_source"]:
                self._tamper(
                    resources, grade_id, f"cell {grade_id!r}: a protected cell was changed; restored"
                )
            cell.source = entry["source"]
            cell.metadata = copy_node(entry["metadata"])
        else:
            cell.metadata["nbgrader"] = copy_node(entry["metadata"]["nbgrader"])
        if entry["role"] == "tests" and entry.get("hidden_tests"):
            self.note(resources, f"cell {grade_id!r}: hidden tests put back")

    def _insert_missing(
        self,
        nb: NotebookNode,
        entries: list[dict[str, Any]],
        claimed: dict[str, NotebookNode],
        resources: Resources,
    ) -> None:
        previous: NotebookNode | None = None
        for entry in entries:
            grade_id = entry["grade_id"]
            if grade_id in claimed:
                previous = claimed[grade_id]
                continue
            cell = self._cell_from_entry(entry, nb)
            position = 0 if previous is None else next(i for i, c in enumerate(nb.cells) if c is previous) + 1
            nb.cells.insert(position, cell)
            claimed[grade_id] = cell
            previous = cell
            self._tamper(resources, grade_id, f"cell {grade_id!r} was deleted; restored from the release")

    @staticmethod
    def _cell_from_entry(entry: dict[str, Any], nb: NotebookNode) -> NotebookNode:
        cell = NotebookNode(
            cell_type=entry["cell_type"],
            metadata=copy_node(entry["metadata"]),
            source=entry["source"]
            if entry["role"] in ("tests", "task", "readonly")
            else entry["release_source"],
        )
        return normalise_cell(cell, nb)

    def _tamper(self, resources: Resources, grade_id: str, message: str) -> None:
        resources.setdefault("tampering", []).append({"grade_id": grade_id, "message": message})
        self.note(resources, message, logging.WARNING)

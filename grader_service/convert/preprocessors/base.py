"""The preprocessor contract: a configurable step that takes (notebook, resources) and returns them.

Keys of `resources` used by the pipeline (a preprocessor documents which it reads and writes):

- ``notebook``: the notebook's path relative to the assignment folder, e.g. ``"p1.ipynb"``.
- ``log``: a list of human-readable lines, appended to by every step.
- ``language``: the notebook's kernel language (``"python"`` when unknown).
- ``instructor_sources``: grade_id → the full instructor source of a cell (before hidden tests or mark
  schemes were removed); written while generating an assignment.
- ``gradebook_notebook``: this notebook's entry of the assignment gradebook (see ``gradebook.py``).
- ``execution``: ``{"cwd": str, "env": dict}`` for the kernel; ``timings``: seconds per phase.
- ``scores``: the notebook's scores, written by ``ComputeScores``.
"""

from __future__ import annotations

import logging
from typing import Any

from nbformat import NotebookNode
from traitlets import Bool
from traitlets.config import LoggingConfigurable

Resources = dict[str, Any]


class Preprocessor(LoggingConfigurable):
    """Base class. Subclasses override `preprocess` or `preprocess_cell`; both edit the notebook in place."""

    enabled = Bool(True, help="Run this step; a disabled step passes the notebook through unchanged.").tag(
        config=True
    )

    def __call__(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        if not self.enabled:
            return nb, resources
        return self.preprocess(nb, resources)

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        """Run `preprocess_cell` on every cell."""
        for index, cell in enumerate(nb.cells):
            nb.cells[index], resources = self.preprocess_cell(cell, resources, index)
        return nb, resources

    def preprocess_cell(
        self, cell: NotebookNode, resources: Resources, index: int
    ) -> tuple[NotebookNode, Resources]:
        """Handle one cell; the default leaves it unchanged."""
        return cell, resources

    def begin(self, resources: Resources) -> None:
        """Called by the converter before any step runs (lets slow set-up, like a kernel, start early)."""

    def end(self, resources: Resources) -> None:
        """Called by the converter after all steps ran or one failed: release what `begin` acquired."""

    def note(self, resources: Resources, message: str, level: int = logging.INFO) -> None:
        """Add a line to the run's log (``resources["log"]``) and to this step's logger."""
        line = f"[{type(self).__name__}] {message}"
        resources.setdefault("log", []).append(line)
        self.log.log(level, "%s", line)

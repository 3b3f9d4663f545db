"""SaveGradebook: describe the released notebook's graded and protected cells for the gradebook."""

from __future__ import annotations

import copy

from nbformat import NotebookNode

from grader_service.convert import cells
from grader_service.convert.notebook_io import notebook_language
from grader_service.convert.preprocessors.base import Preprocessor, Resources


class SaveGradebook(Preprocessor):
    """Build this notebook's gradebook entry from the release version (run it last).

    Reads ``resources["instructor_sources"]`` (full sources of cells whose hidden tests or mark scheme
    were removed). Side effects: writes the entry to ``resources["gradebook_notebook"]``; the notebook is
    not changed and nothing is written to disk.
    """

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        full = resources.get("instructor_sources", {})
        hidden = set(resources.get("hidden_tests", []))
        entries = []
        for cell in nb.cells:
            if not cells.has_role(cell):
                continue
            grade_id = cells.nbgrader_meta(cell)["grade_id"]
            metadata = copy.deepcopy(dict(cell.metadata))
            entries.append(
                {
                    "grade_id": grade_id,
                    "role": cells.role(cell),
                    "cell_type": cell.cell_type,
                    "points": cells.points(cell),
                    "checksum": cells.nbgrader_meta(cell).get("checksum", ""),
                    "source": full.get(grade_id, cell.source),
                    "release_source": cell.source,
                    "hidden_tests": grade_id in hidden,
                    "metadata": metadata,
                }
            )
        graded = [e for e in entries if e["role"] in ("tests", "manual", "task")]
        resources["gradebook_notebook"] = {
            "max_score": float(sum(e["points"] for e in graded)),
            "language": notebook_language(nb),
            "kernelspec": dict(nb.metadata.get("kernelspec", {})),
            "cells": entries,
        }
        self.note(resources, f"{len(graded)} graded cells, {len(entries)} protected or graded cells in all")
        return nb, resources

"""GenerateFeedback: graded notebooks → one standalone HTML page per notebook, hidden tests removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traitlets import default

from grader_service.convert import cell_records
from grader_service.convert.converters.base import Converter
from grader_service.convert.errors import ConvertError
from grader_service.convert.notebook_io import read_notebook
from grader_service.convert.preprocessors import ComputeScores, HideHiddenTests, LimitOutput
from grader_service.convert.render.feedback_page import render_page


class GenerateFeedback(Converter):
    """Hide hidden tests and mark schemes, cap outputs, score (unless scores are given), render."""

    @default("preprocessors")
    def _default_preprocessors(self) -> list[type]:
        return [HideHiddenTests, LimitOutput, ComputeScores]

    def run(
        self,
        graded_dir: str | Path,
        feedback_dir: str | Path,
        gradebook: dict[str, Any],
        result: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """Write `<notebook>.html` for each graded notebook; returns notebook name → HTML path.

        `result` (an autograde result, possibly with manual scores and comments merged in by the
        service) replaces the scores computed from the graded notebook, notebook by notebook.
        """
        cell_records.validate_cell_records(gradebook)
        graded, feedback = Path(graded_dir), Path(feedback_dir)
        if not graded.is_dir():
            raise ConvertError(f"{graded}: no such directory")
        pages: dict[str, tuple[Path, str]] = {}
        for name, entry in sorted(gradebook["notebooks"].items()):
            path = graded / name
            if not path.is_file():
                self.log.warning("%s: not in %s; no feedback page", name, graded)
                continue
            nb = read_notebook(path, name)
            resources: dict[str, Any] = {"notebook": name, "gradebook_notebook": entry}
            nb, resources = self.convert(nb, resources)
            scores = resources["scores"]
            if result and name in result.get("notebooks", {}):
                scores = result["notebooks"][name]
            target = feedback / (name[: -len(".ipynb")] + ".html")
            pages[name] = (target, render_page(nb, scores, name))
        for target, page in pages.values():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page, encoding="utf-8")
        return {name: str(target) for name, (target, _) in pages.items()}


def generate_feedback(
    graded_dir: str | Path,
    feedback_dir: str | Path,
    gradebook: dict[str, Any] | str | Path,
    *,
    result: dict[str, Any] | None = None,
    config: Any = None,
) -> dict[str, str]:
    """Render feedback pages for a graded submission; returns notebook name → HTML path."""
    book = cell_records.load_cell_records(gradebook) if isinstance(gradebook, (str, Path)) else gradebook
    return GenerateFeedback(config=config).run(graded_dir, feedback_dir, book, result)

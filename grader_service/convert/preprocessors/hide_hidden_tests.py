"""HideHiddenTests: take hidden tests and mark schemes out of a graded notebook before students see it."""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from traitlets import Unicode

from grader_service.convert import cells
from grader_service.convert.preprocessors.base import Preprocessor, Resources


class HideHiddenTests(Preprocessor):
    """Show protected cells as released and keep hidden-test code out of their outputs.

    Test, task and read-only cells get their release source (no hidden tests, no mark scheme). In a test
    cell that had hidden tests, tracebacks (which quote the failing line) are reduced to the error's name
    and message, and the message too is replaced when it quotes a hidden line.
    Reads ``resources["gradebook_notebook"]``. Side effects: edits sources and outputs in place.
    """

    hidden_message = Unicode(
        "a hidden test failed (hidden tests are not shown)",
        help="Shown instead of a hidden test's error message.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        by_id = {e["grade_id"]: e for e in resources["gradebook_notebook"]["cells"]}
        for cell in nb.cells:
            entry = by_id.get(cells.nbgrader_meta(cell).get("grade_id", ""))
            if entry is None or entry["role"] not in ("tests", "task", "readonly"):
                continue
            cell.source = entry["release_source"]
            if entry.get("hidden_tests") and cell.cell_type == "code":
                hidden = hidden_lines(entry)
                for output in cell.get("outputs", []):
                    self._scrub(output, hidden)
        return nb, resources

    def _scrub(self, output: dict[str, Any], hidden: list[str]) -> None:
        if output.get("output_type") == "error":
            evalue = str(output.get("evalue", ""))
            if any(line in evalue for line in hidden):
                evalue = self.hidden_message
            output["evalue"] = evalue
            output["traceback"] = [f"{output.get('ename', 'Error')}: {evalue or self.hidden_message}"]
        elif output.get("output_type") == "stream":
            text = output.get("text", "")
            for line in hidden:
                text = text.replace(line, "…")
            output["text"] = text


def hidden_lines(entry: dict[str, Any]) -> list[str]:
    """Non-trivial lines present in the full test source but not in the released one."""
    released = set(entry["release_source"].split("\n"))
    return [
        line.strip()
        for line in entry["source"].split("\n")
        if line not in released and len(line.strip()) > 3 and "HIDDEN TESTS" not in line
    ]

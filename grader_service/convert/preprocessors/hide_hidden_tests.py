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
    and message, and the message too is replaced when it quotes a hidden line. Every other code cell's
    outputs lose the hidden lines too: student code run after a hidden test can print its source (IPython's
    `In`, `linecache`) from a cell of its own.
    Reads ``resources["gradebook_notebook"]``. Side effects: edits sources and outputs in place.
    """

    hidden_message = Unicode(
        "a hidden test failed (hidden tests are not shown)",
        help="Shown instead of a hidden test's error message.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        by_id = {e["grade_id"]: e for e in resources["gradebook_notebook"]["cells"]}
        everywhere = notebook_hidden_lines(resources["gradebook_notebook"])
        for cell in nb.cells:
            if cell.cell_type == "code":
                for output in cell.get("outputs", []):
                    scrub_output(output, everywhere)
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


#: hidden lines shorter than this are not looked for outside their own cell (`pass`, `else:` would mangle
#: ordinary output and reveal nothing)
MIN_SCRUB_LENGTH = 8
SCRUB_MARK = "…"


def notebook_hidden_lines(gradebook_notebook: dict[str, Any]) -> list[str]:
    """The hidden lines of every test cell of one notebook, longest first (so no line is cut in part)."""
    found = {
        line
        for entry in gradebook_notebook.get("cells", [])
        if entry.get("hidden_tests")
        for line in hidden_lines(entry)
        if len(line) >= MIN_SCRUB_LENGTH
    }
    return sorted(found, key=len, reverse=True)


def scrub_text(text: str, hidden: list[str]) -> str:
    """`text` with every occurrence of a hidden line replaced (what a later cell printed of a test)."""
    for line in hidden:
        if line in text:
            text = text.replace(line, SCRUB_MARK)
    return text


def _scrub_value(value: Any, hidden: list[str]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, hidden)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [scrub_text("".join(value), hidden)]
    return value


def scrub_output(output: dict[str, Any], hidden: list[str]) -> None:
    """Remove hidden lines from one output's text: streams, errors, and textual rich data."""
    if not hidden:
        return
    kind = output.get("output_type")
    if kind == "stream":
        output["text"] = _scrub_value(output.get("text", ""), hidden)
    elif kind == "error":
        output["evalue"] = scrub_text(str(output.get("evalue", "")), hidden)
        output["traceback"] = [scrub_text(str(line), hidden) for line in output.get("traceback", [])]
    elif kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        for mime in list(data):
            if mime.startswith("text/") or mime == "image/svg+xml":
                data[mime] = _scrub_value(data[mime], hidden)

"""LimitOutput: cap outputs per stream, per traceback, per cell and per notebook."""

from __future__ import annotations

import logging
from typing import Any

from nbformat import NotebookNode
from traitlets import Int

from grader_service.convert.output_collector import output_size
from grader_service.convert.preprocessors.base import Preprocessor, Resources

LINES_MARK = "... Output truncated ..."
TRACEBACK_MARK = "... Traceback truncated ..."


class LimitOutput(Preprocessor):
    """Keep graded notebooks and feedback small whatever the student printed.

    A stream longer than `max_lines` keeps its first lines and ends with a truncation line; a traceback
    longer than `max_traceback` entries keeps its head and tail. A cell over `max_cell_chars` and a
    notebook over `max_notebook_chars` lose their remaining rich outputs and stream text. Error outputs
    and stderr streams are shortened but never removed, because scoring reads them.
    Side effects: edits outputs in place; notes each cut in ``resources["log"]``.
    """

    max_lines = Int(1000, help="Lines kept per stream output (the last one becomes a truncation note).").tag(
        config=True
    )
    max_traceback = Int(100, help="Entries kept per traceback.").tag(config=True)
    max_cell_chars = Int(100_000, help="Characters of output kept per cell.").tag(config=True)
    max_notebook_chars = Int(2_000_000, help="Characters of output kept per notebook.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        budget = self.max_notebook_chars
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.get("outputs"):
                continue
            for output in cell.outputs:
                self._limit_lines(output)
            allowance = min(self.max_cell_chars, max(budget, 0))
            before = sum(output_size(o) for o in cell.outputs)
            if before > allowance:
                cell.outputs = self._fit(cell.outputs, allowance)
                self.note(
                    resources,
                    f"cell {index}: output cut from {before} to at most {allowance} characters",
                    logging.WARNING,
                )
            budget -= sum(output_size(o) for o in cell.outputs)
        return nb, resources

    def _limit_lines(self, output: dict[str, Any]) -> None:
        if output.get("output_type") == "stream":
            lines = output.get("text", "").splitlines(keepends=True)
            if len(lines) > self.max_lines > 0:
                output["text"] = "".join(lines[: self.max_lines - 1]) + LINES_MARK + "\n"
        elif output.get("output_type") == "error":
            trace = output.get("traceback", [])
            if len(trace) > self.max_traceback > 2:
                head = self.max_traceback // 2
                tail = self.max_traceback - head - 1
                output["traceback"] = trace[:head] + [TRACEBACK_MARK] + trace[-tail:]

    @staticmethod
    def _fit(outputs: list[NotebookNode], allowance: int) -> list[NotebookNode]:
        kept: list[NotebookNode] = []
        used = 0
        dropped = False
        for output in outputs:
            kind = output.get("output_type")
            size = output_size(output)
            if used + size <= allowance:
                kept.append(output)
                used += size
                continue
            room = max(allowance - used, 200)
            if kind == "stream":
                if output.get("name") == "stderr" or allowance - used > 0:
                    output["text"] = output["text"][:room] + "\n" + LINES_MARK + "\n"
                    kept.append(output)
                    used += len(output["text"])
                else:
                    dropped = True
            elif kind == "error":
                output["traceback"] = [line[:room] for line in output.get("traceback", [])[-3:]]
                output["evalue"] = str(output.get("evalue", ""))[:room]
                kept.append(output)
                used += output_size(output)
            else:
                dropped = True
        if dropped:
            kept.append(
                NotebookNode(
                    output_type="stream",
                    name="stdout",
                    text=f"{LINES_MARK} (outputs over the size limit were removed)\n",
                )
            )
        return kept

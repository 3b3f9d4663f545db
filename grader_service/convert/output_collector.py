"""Turns a cell's iopub messages into nbformat outputs, with a hard size ceiling to bound memory."""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import output_from_msg

TRUNCATION_MARK = "\n... Output truncated by the grader ...\n"


def output_size(output: dict[str, Any]) -> int:
    """Rough size in characters of one output (text, data payloads, traceback)."""
    kind = output.get("output_type")
    if kind == "stream":
        return len(output.get("text", ""))
    if kind == "error":
        return sum(len(line) for line in output.get("traceback", [])) + len(str(output.get("evalue", "")))
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in output.get("data", {}).values())


class OutputCollector:
    """Accumulates outputs of one cell execution.

    Consecutive stream messages of the same name are merged. Once `limit` characters have been collected,
    further stream text and rich outputs are dropped (a marker is appended once), but errors and the fact
    that stderr was written are always kept, because scoring depends on them.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.outputs: list[NotebookNode] = []
        self.size = 0
        self.truncated = False
        self.wrote_stderr = False
        self.saw_error = False
        self._clear_pending = False

    def _mark_truncated(self) -> None:
        if not self.truncated:
            self.truncated = True
            self.outputs.append(NotebookNode(output_type="stream", name="stdout", text=TRUNCATION_MARK))

    def _apply_pending_clear(self) -> None:
        if self._clear_pending:
            self._clear_pending = False
            self.outputs = [o for o in self.outputs if o.get("output_type") == "error"]
            self.size = sum(output_size(o) for o in self.outputs)
            self.truncated = False

    def add_message(self, msg: dict[str, Any]) -> None:
        """Handle one iopub message addressed to this execution."""
        kind = msg["msg_type"]
        content = msg["content"]
        if kind == "clear_output":
            if content.get("wait"):
                self._clear_pending = True
            else:
                self._clear_pending = True
                self._apply_pending_clear()
            return
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return
        self._apply_pending_clear()
        if kind == "stream":
            self._add_stream(content.get("name", "stdout"), str(content.get("text", "")))
            return
        if kind == "error":
            self.saw_error = True
            self.outputs.append(output_from_msg(msg))
            self.size += output_size(self.outputs[-1])
            return
        output = output_from_msg(msg)
        size = output_size(output)
        if self.size + size > self.limit:
            self._mark_truncated()
            return
        self.size += size
        self.outputs.append(output)

    def _add_stream(self, name: str, text: str) -> None:
        if name == "stderr":
            self.wrote_stderr = True
        room = self.limit - self.size
        if room <= 0:
            if name == "stderr" and not any(o.get("name") == "stderr" for o in self.outputs):
                self.outputs.append(NotebookNode(output_type="stream", name="stderr", text=text[:200]))
            self._mark_truncated()
            return
        cut = text[:room]
        self.size += len(cut)
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last.get("output_type") == "stream" and last.get("name") == name:
            last["text"] += cut
        else:
            self.outputs.append(NotebookNode(output_type="stream", name=name, text=cut))
        if len(cut) < len(text):
            self._mark_truncated()

    def add_error(self, ename: str, evalue: str, traceback: list[str] | None = None) -> None:
        """Record an error the grader itself observed (timeout, dead kernel, hidden traceback)."""
        self.saw_error = True
        self.outputs.append(
            NotebookNode(
                output_type="error",
                ename=ename,
                evalue=evalue,
                traceback=list(traceback or [f"{ename}: {evalue}"]),
            )
        )

"""Feedback page of one graded notebook: scores, comments, sources and outputs, in one small HTML file."""

from __future__ import annotations

import base64
import binascii
import html
import re
from typing import Any

from nbformat import NotebookNode

from grader_service.convert import cells
from grader_service.convert.render.markdown import render_markdown

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f6f8;color:#1d232b}
main{max-width:60rem;margin:0 auto;padding:1.5rem}
header{background:#fff;border:1px solid #d8dde3;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
h1{font-size:1.4rem;margin:0 0 .25rem}
.total{font-size:1.15rem;font-weight:600}
.cell{background:#fff;border:1px solid #d8dde3;border-radius:8px;margin:.75rem 0;padding:.5rem 1rem;
overflow:hidden}
.cell.graded{border-left:5px solid #8a94a3}
.cell.passed{border-left-color:#2e8540}
.cell.failed,.cell.tampered,.cell.timeout,.cell.not_run,.cell.missing{border-left-color:#c62828}
.cell.partial{border-left-color:#d98c00}.cell.needs_manual,.cell.manual{border-left-color:#3366cc}
.cell.no_response{border-left-color:#c62828}
.score{display:flex;gap:.75rem;align-items:baseline;font-size:.9rem;color:#46505c;
border-bottom:1px dashed #d8dde3;padding-bottom:.35rem;margin-bottom:.35rem}
.score b{color:#1d232b}.comment{background:#fff8e1;border-radius:4px;padding:.35rem .6rem;margin:.4rem 0}
pre{margin:.3rem 0;padding:.5rem .7rem;background:#f0f2f5;border-radius:4px;overflow-x:auto;
white-space:pre-wrap;word-break:break-word;
font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre.src{background:#f7f9fb;border:1px solid #e3e7ec}.prompt{color:#7a8594;font:12px ui-monospace,monospace}
pre.stderr{background:#fdecea}pre.error{background:#fdecea;color:#7f1d1d}
img{max-width:100%}.img-ref{color:#7a8594;font-style:italic}
code{background:#f0f2f5;padding:0 .2rem;border-radius:3px}
"""

STATUS_TEXT = {
    "passed": "passed",
    "partial": "partial credit",
    "failed": "failed",
    "timeout": "timed out",
    "not_run": "not run",
    "missing": "missing",
    "needs_manual": "to be graded by hand",
    "no_response": "no response",
    "manual": "graded by hand",
    "tampered": "not run as written (the kernel was tampered with)",
}


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _image(mime: str, payload: Any) -> str:
    data = _text(payload).replace("\n", "")
    if mime == "image/svg+xml":
        data = base64.b64encode(_text(payload).encode("utf-8")).decode("ascii")
    else:
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return '<pre class="error">[invalid image data]</pre>'
    return f'<img alt="output image" src="data:{mime};base64,{data}">'


def render_output(output: dict[str, Any]) -> str:
    """One output as HTML. Raw HTML and JavaScript from the notebook are never passed through."""
    kind = output.get("output_type")
    if kind == "stream":
        css = "stderr" if output.get("name") == "stderr" else "stdout"
        return f'<pre class="{css}">{html.escape(_ANSI.sub("", _text(output.get("text", ""))))}</pre>'
    if kind == "error":
        trace = "\n".join(_ANSI.sub("", line) for line in output.get("traceback", []))
        trace = trace or f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        return f'<pre class="error">{html.escape(trace)}</pre>'
    data = output.get("data", {})
    for mime in ("image/png", "image/jpeg", "image/gif", "image/svg+xml"):
        if mime in data:
            return _image(mime, data[mime])
    if "text/markdown" in data:
        return f'<div class="md">{render_markdown(_text(data["text/markdown"]))}</div>'
    if "text/plain" in data:
        return f"<pre>{html.escape(_ANSI.sub('', _text(data['text/plain'])))}</pre>"
    return ""


def render_cell(cell: NotebookNode, verdict: dict[str, Any] | None, comment: str | None) -> str:
    """One cell with, for graded cells, its score line and comment."""
    classes = ["cell", cell.cell_type]
    parts = []
    if verdict is not None:
        status = str(verdict.get("status", ""))
        classes += ["graded", status]
        grade_id = html.escape(cells.nbgrader_meta(cell).get("grade_id", ""))
        parts.append(
            f'<div class="score"><span>{grade_id}</span><b>{_fmt(verdict.get("score"))} / '
            f"{_fmt(verdict.get('max_score'))} points</b>"
            f"<span>{html.escape(STATUS_TEXT.get(status, status))}</span></div>"
        )
    if comment:
        parts.append(f'<div class="comment">{html.escape(comment)}</div>')
    if cell.cell_type == "markdown":
        parts.append(f'<div class="md">{render_markdown(cell.source)}</div>')
    elif cell.cell_type == "code":
        count = cell.get("execution_count")
        parts.append(f'<div class="prompt">In [{count if count is not None else " "}]:</div>')
        parts.append(f'<pre class="src">{html.escape(cell.source)}</pre>')
        parts.extend(render_output(output) for output in cell.get("outputs", []))
    else:
        parts.append(f"<pre>{html.escape(cell.source)}</pre>")
    return f'<section class="{" ".join(classes)}">' + "".join(parts) + "</section>"


def render_feedback(nb: NotebookNode, scores: dict[str, Any], title: str) -> str:
    """The whole page for one notebook."""
    graded = scores.get("cells", {})
    comments = scores.get("comments", {})
    body = []
    for cell in nb.cells:
        grade_id = cells.nbgrader_meta(cell).get("grade_id")
        body.append(render_cell(cell, graded.get(grade_id) if grade_id else None, comments.get(grade_id)))
    pending = (
        "<p>Some answers are still to be graded by hand; the score may change.</p>"
        if scores.get("needs_manual")
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Feedback: {html.escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f"<header><h1>Feedback: {html.escape(title)}</h1>"
        f'<div class="total">Score: {_fmt(scores.get("score"))} / '
        f"{_fmt(scores.get('max_score'))}</div>{pending}"
        "</header>" + "\n".join(body) + "</main></body></html>\n"
    )

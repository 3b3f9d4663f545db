"""A feedback page with nbconvert's HTML exporter and the project's own template (templates/grader_feedback):
JupyterLab's rendering of answers and outputs, a score line and comment on each graded cell, the totals,
no script at all (math becomes MathML here), HTML from the notebook passed through an allow-list."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbformat import NotebookNode

from grader_service.convert import cells
from grader_service.convert.render.safe_html import MathSlots, latex_output, sanitize

TEMPLATES = Path(__file__).with_name("templates")

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
    "grading_failed": "automatic grading failed",
}


class _MathRenderer(IPythonRenderer):
    """Markdown renderer that leaves marks where formulas are (filled with MathML after sanitising)."""

    def __init__(self, slots: MathSlots, **kw: Any) -> None:
        super().__init__(escape=False, **kw)
        self.slots = slots

    def block_math(self, body: str) -> str:
        return self.slots.mark(body, True)

    def inline_math(self, body: str) -> str:
        return self.slots.mark(body, False)

    def latex_environment(self, name: str, body: str) -> str:
        return self.slots.mark(f"\\begin{{{name}}}{body}\\end{{{name}}}", True)


def feedback_markdown(source: Any, cell: Any = None) -> str:
    """Markdown → sanitised HTML with MathML formulas (attachments inlined as data images)."""
    text = "".join(source) if isinstance(source, list) else str(source)
    slots = MathSlots()
    attachments = (cell or {}).get("attachments", {}) if cell is not None else {}
    renderer = _MathRenderer(slots, attachments=attachments, embed_images=False, exclude_anchor_links=True)
    return slots.fill(sanitize(MarkdownWithMath(renderer=renderer).render(text)))


class FeedbackExporter(HTMLExporter):
    """HTMLExporter with the grader_feedback template and the filters it uses."""

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("extra_template_basedirs", [str(TEMPLATES)])
        kw.setdefault("template_name", "grader_feedback")
        kw.setdefault("exclude_anchor_links", True)
        super().__init__(**kw)  # type: ignore[no-untyped-call]

    def _init_resources(self, resources: Any) -> Any:
        resources = super()._init_resources(resources)  # type: ignore[no-untyped-call]
        resources["should_sanitize_html"] = True
        return resources

    def default_filters(self) -> Any:
        yield from super().default_filters()  # type: ignore[no-untyped-call]
        yield ("feedback_markdown", feedback_markdown)
        yield ("safe_html", sanitize)
        yield ("latex_output", latex_output)


@lru_cache(maxsize=1)
def _exporter() -> FeedbackExporter:
    return FeedbackExporter()


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def render_page(nb: NotebookNode, scores: dict[str, Any], title: str) -> str:
    """The page of one notebook; `scores` as GenerateFeedback passes them (totals, cells, comments)."""
    nb = copy.deepcopy(nb)
    graded = scores.get("cells", {})
    comments = scores.get("comments", {})
    for cell in nb.cells:
        grade_id = cells.nbgrader_meta(cell).get("grade_id")
        if not grade_id:
            continue
        verdict = graded.get(grade_id)
        info: dict[str, Any] = {"grade_id": grade_id, "comment": comments.get(grade_id) or ""}
        if verdict is not None:
            status = str(verdict.get("status") or "")
            info.update(
                scored=True,
                status=status,
                status_text=STATUS_TEXT.get(status, status),
                score_text=_fmt(verdict.get("score")),
                max_text=_fmt(verdict.get("max_score")),
            )
        cell.metadata["grader_feedback"] = info
    resources = {
        "grader_feedback": {
            "title": title,
            "score_text": _fmt(scores.get("score")),
            "max_text": _fmt(scores.get("max_score")),
            "pending": bool(scores.get("needs_manual")),
        },
        "metadata": {"name": title},
    }
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return str(body)

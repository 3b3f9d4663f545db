"""ComputeScores: score each graded cell of an executed notebook against the gradebook."""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from traitlets import Unicode

from grader_service.convert import cells
from grader_service.convert.checksum import compute_checksum
from grader_service.convert.preprocessors.base import Preprocessor, Resources
from grader_service.convert.preprocessors.execute import RUN_KEY


class ComputeScores(Preprocessor):
    """Score tests and flag what needs a human.

    - Test cell: 0 when the kernel guard could not vouch for it (status "tampered").
      0 when it failed (its run status was not ok — the kernel's execute_reply, so a hidden
      traceback still counts — or it has an error output or wrote to stderr); the number its last result
      shows when that is in 0..points (partial credit); otherwise full points.
    - Manual answer: unchanged since release (same checksum) → 0 with the comment `no_response_comment`;
      otherwise no score (needs manual grading). Task cells always need manual grading.
    - Answer cells left unchanged get the same comment but carry no points.

    Reads ``resources["gradebook_notebook"]``. Side effects: writes ``resources["scores"]``; the notebook
    is not changed.
    """

    no_response_comment = Unicode(
        "No response.", help="Comment on an answer the student left as released."
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        entries = resources["gradebook_notebook"]["cells"]
        found = {}
        for cell in nb.cells:
            grade_id = cells.nbgrader_meta(cell).get("grade_id")
            if grade_id is not None and grade_id not in found:
                found[grade_id] = cell
        scored: dict[str, dict[str, Any]] = {}
        comments: dict[str, str] = {}
        for entry in entries:
            cell = found.get(entry["grade_id"])
            verdict = self._score(entry, cell)
            if verdict.get("comment"):
                comments[entry["grade_id"]] = verdict["comment"]
            if entry["role"] in ("tests", "manual", "task"):
                scored[entry["grade_id"]] = verdict
        resources["scores"] = summarise(scored, comments)
        return nb, resources

    def _score(self, entry: dict[str, Any], cell: NotebookNode | None) -> dict[str, Any]:
        points = float(entry["points"])
        verdict: dict[str, Any] = {
            "score": None,
            "max_score": points,
            "status": "needs_manual",
            "role": entry["role"],
        }
        if cell is None:
            verdict.update(score=0.0, status="missing")
            return verdict
        if entry["role"] == "tests":
            verdict.update(self._score_test(cell, points))
        elif entry["role"] in ("manual", "answer"):
            if compute_checksum(cell) == entry["checksum"]:
                verdict.update(score=0.0, status="no_response", comment=self.no_response_comment)
            elif entry["role"] == "answer":
                verdict.update(status="answered")
        elif entry["role"] == "readonly":
            verdict.update(status="readonly")
        return verdict

    @staticmethod
    def _score_test(cell: NotebookNode, points: float) -> dict[str, Any]:
        run = cell.metadata.get(RUN_KEY, {})
        status = run.get("status", "ok")
        outputs = cell.get("outputs", [])
        if status == "not_run":
            return {"score": 0.0, "status": "not_run"}
        if status == "timeout":
            return {"score": 0.0, "status": "timeout"}
        if status == "tampered":
            return {"score": 0.0, "status": "tampered"}
        failed = (
            status != "ok"
            or run.get("stderr", False)
            or any(o.get("output_type") == "error" for o in outputs)
            or any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in outputs)
        )
        if failed:
            return {"score": 0.0, "status": "failed"}
        guard = run.get("guard")
        if isinstance(guard, dict):
            # the guard's signed account of the value the cell showed, not the output (a patched formatter
            # or a forged message can change what the output says)
            value = guard.get("value")
            if guard.get("shown") and isinstance(value, float) and 0 <= value <= points:
                return {"score": value, "status": "passed" if value == points else "partial"}
            return {"score": points, "status": "passed"}
        results = [o for o in outputs if o.get("output_type") == "execute_result"]
        if results:
            text = results[-1].get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            try:
                value = float(text)
            except ValueError:
                value = None
            if value is not None and 0 <= value <= points and value == value:
                return {"score": value, "status": "passed" if value == points else "partial"}
        return {"score": points, "status": "passed"}


def summarise(scored: dict[str, dict[str, Any]], comments: dict[str, str]) -> dict[str, Any]:
    """Notebook totals from per-cell verdicts."""
    return {
        "score": float(sum(v["score"] or 0.0 for v in scored.values())),
        "max_score": float(sum(v["max_score"] for v in scored.values())),
        "needs_manual": any(v["score"] is None for v in scored.values()),
        "cells": scored,
        "comments": comments,
    }

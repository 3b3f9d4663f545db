"""Grading records written straight into the database, for API tests that run no worker."""

from __future__ import annotations

from typing import Any

from grader_service.orm.grading import GradingCell, SubmissionGrading
from grader_service.orm.models import AutoStatus, Submission
from grader_service.services import grading_record

#: (grade_id, kind, max_points, auto_score, auto_status, hidden_tests, error_output): 10 points in all
SAMPLE_CELLS: list[tuple[str, str, float, float | None, str, bool, str | None]] = [
    ("answer", "autograded_answer", 0, None, "answered", False, None),
    ("test_a", "autograded_test", 4, 4.0, "passed", False, None),
    ("test_b", "autograded_test", 2, 0.0, "failed", False, "AssertionError: square(3) is not 9"),
    ("test_hidden", "autograded_test", 2, 0.0, "failed", True, None),
    ("explain", "manual_answer", 2, None, "needs_manual", False, None),
]
ESSAY: list[tuple[str, str, float, float | None, str, bool, str | None]] = [
    ("essay", "manual_answer", 10, None, "needs_manual", False, None)
]


def seed_record(
    service: Any, submission_id: int, cells: list[Any] | None = None, notebook: str = "hw.ipynb"
) -> None:
    """A grading record as autograde would leave it (the submission counts as automatically graded)."""
    with service.db.session() as s:
        sub = s.get(Submission, submission_id)
        if s.get(SubmissionGrading, submission_id) is not None:
            return
        for position, (gid, kind, points, auto, status, hidden, error) in enumerate(cells or SAMPLE_CELLS):
            s.add(
                GradingCell(
                    submission_id=submission_id,
                    notebook=notebook,
                    grade_id=gid,
                    position=position,
                    kind=kind,
                    max_points=points,
                    auto_score=auto,
                    auto_status=status,
                    hidden_tests=hidden,
                    error_output=error,
                )
            )
        s.add(
            SubmissionGrading(
                submission_id=submission_id,
                version="original",
                graded_commit=sub.commit_hash,
                revision=1,
                feedback_pages=[],
            )
        )
        s.flush()
        sub.auto_status = AutoStatus.automatically_graded
        grading_record.apply_to_submission(sub, grading_record.cells_of(s, submission_id))
        s.commit()


def give_score(world: Any, submission_id: int, score: float) -> Any:
    """What a tutor does to give a submission `score` of 10: one manually graded essay cell."""
    seed_record(world.service, submission_id, ESSAY)
    path = f"{world.released_path}/submissions/{submission_id}/grading"
    return world.req("tutor", "PATCH", path, json={"cells": {"essay": {"manual_score": score}}})

"""SQLAlchemy models of a submission's grading record: one row per graded cell, one per submission.

nbgrader's model: every cell that carries points (autograded tests, manually graded answers, tasks) or can
carry a comment (solution cells) has a row with its automatic score, an optional manual score (which wins)
and extra credit. The submission's score is derived from these rows (services.grading_record); nothing
types it in as one number. `SubmissionGrading` says which version was graded and where the feedback is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grader_service.orm.base import Base, UtcDateTime, utcnow
from grader_service.schemas.states import CellKind

#: cell kinds; answers carry comments only, tests points only, manual answers and tasks both
KIND_AUTO_ANSWER = CellKind.autograded_answer.value
KIND_AUTO_TEST = CellKind.autograded_test.value
KIND_MANUAL_ANSWER = CellKind.manual_answer.value
KIND_TASK = CellKind.task.value
CELL_KINDS = (KIND_AUTO_ANSWER, KIND_AUTO_TEST, KIND_MANUAL_ANSWER, KIND_TASK)
COMMENTABLE = frozenset({KIND_AUTO_ANSWER, KIND_MANUAL_ANSWER, KIND_TASK})
SCORED = frozenset({KIND_AUTO_TEST, KIND_MANUAL_ANSWER, KIND_TASK})


class GradingCell(Base):
    """One graded or commentable cell of one submission's notebook."""

    __tablename__ = "grading_cells"
    __table_args__ = (UniqueConstraint("submission_id", "notebook", "grade_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    notebook: Mapped[str] = mapped_column(String(255))
    grade_id: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(32))
    max_points: Mapped[float] = mapped_column(Float, default=0.0)
    #: what the autograder gave; None for answers it cannot score (manual answers, tasks) or when it failed
    auto_score: Mapped[float | None] = mapped_column(Float)
    #: the autograder's verdict (passed, failed, partial, timeout, not_run, missing, no_response...)
    auto_status: Mapped[str | None] = mapped_column(String(32))
    auto_comment: Mapped[str | None] = mapped_column(Text)
    #: the error output of a visible test (never of a test with hidden parts)
    error_output: Mapped[str | None] = mapped_column(Text)
    hidden_tests: Mapped[bool] = mapped_column(default=False)
    manual_score: Mapped[float | None] = mapped_column(Float)
    extra_credit: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    graded_by: Mapped[str | None] = mapped_column(String(64))
    graded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SubmissionGrading(Base):
    """Which version of a submission was graded, the record's revision, and the state of its feedback."""

    __tablename__ = "submission_gradings"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    #: `original` (the student's commit) or `edit` (a tutor's corrected version in the `edit` repo)
    version: Mapped[str] = mapped_column(String(16), default="original")
    graded_commit: Mapped[str | None] = mapped_column(String(40))
    autograde_commit: Mapped[str | None] = mapped_column(String(40))
    autograde_job_id: Mapped[int | None] = mapped_column(Integer)
    autograded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: bumped by every change of scores or comments; feedback of an older revision is outdated
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    feedback_revision: Mapped[int | None] = mapped_column(Integer)
    #: the generated pages: a commit of the (staff-only) `autograde` repo, branch feedback-<submission>
    feedback_commit: Mapped[str | None] = mapped_column(String(40))
    feedback_pages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    feedback_generated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: the commit of the student's `feedback` repo that published them
    feedback_released_commit: Mapped[str | None] = mapped_column(String(40))
    feedback_released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    feedback_error: Mapped[str | None] = mapped_column(Text)


__all__ = ["CELL_KINDS", "COMMENTABLE", "SCORED", "GradingCell", "SubmissionGrading"]

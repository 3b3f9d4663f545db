"""Response models of a submission's grading record and its feedback.

Staff and students read the same routes and get different models: staff every field of every cell, a
student what the assignment lets them see (scores as far as `score_visibility` allows, comments once the
feedback is released, never the output of hidden tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from grader_service.schemas.responses import Answer
from grader_service.schemas.responses.jobs import Job
from grader_service.schemas.states import CellKind, FeedbackRelease, FeedbackStatus

AUTO_STATUS = (
    "what autograding made of the cell: passed, failed, error, tampered (a test's source was changed), "
    "grading_failed, answered or no_response (answers); None before autograde"
)


class StaffCell(Answer):
    """One graded or commented cell, as tutors and instructors see it."""

    notebook: str
    grade_id: str
    kind: CellKind
    max_points: float
    auto_score: float | None
    auto_status: str | None = Field(description=AUTO_STATUS)
    auto_comment: str | None = Field(description="the grader's own comment (e.g. an unanswered answer)")
    manual_score: float | None = Field(description="a tutor's score; replaces the automatic one")
    extra_credit: float | None
    comment: str | None = Field(description="a tutor's comment")
    score: float | None = Field(description="what counts: manual score, else automatic, plus extra credit")
    needs_manual: bool = Field(description="the cell waits for a human")
    can_comment: bool
    hidden_tests: bool = Field(description="the cell's tests were hidden from students")
    error_output: str | None
    graded_by: str | None
    graded_at: datetime | None


class StaffTotals(Answer):
    """Sums over the scored cells, with the submission's late scaling and final score."""

    max_points: float
    auto_score: float | None
    manual_score: float | None
    extra_credit: float
    score: float | None
    needs_manual: int = Field(description="how many cells wait for a human")
    late_scaling: float | None
    final_score: float | None


class StaffNotebook(Answer):
    name: str
    cells: list[StaffCell]
    max_points: float
    score: float | None
    needs_manual: int


class FeedbackState(Answer):
    """Where a submission's feedback stands (staff)."""

    status: FeedbackStatus
    outdated: bool = Field(description="the grading changed after the pages were generated")
    release_mode: FeedbackRelease
    generated_at: datetime | None
    released_at: datetime | None
    error: str | None = Field(description="why the last generation failed")


class StaffGrading(Answer):
    """The whole grading record of a submission (tutors and instructors)."""

    submission_id: int
    graded: bool = Field(description="whether autograde has produced a record")
    version: str | None = Field(description="the version graded: original (the student's) or edit")
    original_commit: str | None
    graded_commit: str | None
    autograde_commit: str | None
    autograde_job_id: int | None
    autograded_at: datetime | None
    revision: int = Field(description="increases with every change of the record")
    updated_at: datetime | None
    updated_by: str | None
    totals: StaffTotals
    notebooks: list[StaffNotebook]
    feedback: FeedbackState


class StudentCell(Answer):
    """One cell as its student sees it: the score fields only while scores are visible, `comment` only
    once feedback is released; `error_output` is None for a cell with hidden tests."""

    notebook: str
    grade_id: str
    kind: CellKind
    max_points: float
    hidden_tests: bool
    score: float | None = None
    status: str | None = Field(None, description=AUTO_STATUS)
    passed: bool | None = Field(None, description="tests only")
    error_output: str | None = None
    needs_manual: bool | None = None
    comment: str | None = None


class StudentTotals(Answer):
    max_points: float
    score: float | None = Field(description="None while scores are withheld")
    late_scaling: float | None
    final_score: float | None = Field(description="None while scores are withheld")


class StudentNotebook(Answer):
    name: str
    cells: list[StudentCell]
    max_points: float
    score: float | None = Field(description="None while scores are withheld")
    needs_manual: int | None = Field(description="None while scores are withheld")


class StudentGrading(Answer):
    """A student's own grading record."""

    submission_id: int
    graded: bool
    scores_visible: bool
    feedback_released: bool
    totals: StudentTotals
    notebooks: list[StudentNotebook]


class FeedbackPage(Answer):
    path: str = Field(description="the page's path within the feedback (a notebook's name with .html)")
    url: str = Field(description="where to read it (GET)")


class StaffFeedback(FeedbackState):
    """A submission's feedback as staff see it: its state, the newest generated pages and the last job."""

    submission_id: int
    job: Job | None
    pages: list[FeedbackPage]


class StudentFeedback(Answer):
    """A student's feedback: the released pages, or none."""

    submission_id: int
    status: Literal["released", "not_released"]
    released_at: datetime | None = None
    pages: list[FeedbackPage]

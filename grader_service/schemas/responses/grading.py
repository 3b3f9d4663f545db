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
from grader_service.schemas.states import CellKind, FeedbackRelease, FeedbackStatus, GradedVersion

AUTO_STATUS = (
    "the autograder's verdict on the cell. Tests: passed, partial (partial credit), failed, timeout, "
    "not_run, tampered (the kernel guard could not vouch for the test). Answers: answered, or no_response "
    "(left as released). Manual answers and tasks: needs_manual or no_response. Any cell: missing or "
    "unreadable (so was its notebook), grading_failed (autograde failed). Stored as the grading result "
    "named it, so any other string (or None) is possible from a remote worker"
)
LATE_SCALING = "the factor of the late period the submission fell in (1: on time)"
FINAL_SCORE = "score times late_scaling: what the grade counts"


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
    late_scaling: float = Field(description=LATE_SCALING)
    final_score: float | None = Field(description=FINAL_SCORE)


class StaffNotebook(Answer):
    """One notebook's cells, in notebook order, with their sums."""

    name: str
    cells: list[StaffCell]
    max_points: float
    score: float | None = Field(description="None while no cell has a score")
    needs_manual: int = Field(description="how many cells wait for a human")


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
    version: GradedVersion | None = Field(description="the version graded; None before autograde")
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
    """The submission's sums as its student sees them."""

    max_points: float
    score: float | None = Field(description="None while scores are withheld (or nothing is scored)")
    late_scaling: float = Field(description=LATE_SCALING)
    final_score: float | None = Field(description=f"{FINAL_SCORE}; None while scores are withheld")


class StudentNotebook(Answer):
    """One notebook's cells as its student sees them."""

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
    """One generated HTML page of a submission's feedback."""

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

"""Response models of the course's resources: lectures, their members, assignments and submissions."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from grader_service.schemas.requests import LatePeriod
from grader_service.schemas.responses import Answer
from grader_service.schemas.responses.jobs import Job
from grader_service.schemas.states import (
    AssignmentStatus,
    AutoStatus,
    FeedbackRelease,
    FeedbackStatus,
    GradingBasis,
    JobState,
    LectureStatus,
    ManualStatus,
    Role,
    ScoreVisibility,
)


class MemberCounts(Answer):
    """How many members the lecture has in each role."""

    student: int
    tutor: int
    instructor: int


class Lecture(Answer):
    """A lecture; `role` is the caller's own, `member_counts` are shown to its tutors and instructors."""

    id: int
    code: str = Field(description="the short unique code that names the lecture's git repos")
    name: str
    status: LectureStatus
    created_at: datetime
    updated_at: datetime
    role: Role | None = Field(
        None, description="the caller's role (left out for an admin who is not a member)"
    )
    member_counts: MemberCounts | None = Field(None, description="staff reading one lecture only")


class Member(Answer):
    """A member of a lecture and their role in it."""

    id: int
    username: str
    display_name: str | None
    role: Role


class RepoUrls(Answer):
    """The git clone URLs of an assignment the caller may use: `source` and the per-student templates
    `autograde` ({username}) and `edit` ({submission_id}) for staff, `release`, `user` and `feedback` for
    whoever may read them."""

    source: str | None = None
    release: str | None = None
    user: str | None = None
    feedback: str | None = None
    autograde: str | None = None
    edit: str | None = None


class Assignment(Answer):
    """An assignment of a lecture; the commit fields are for its tutors and instructors only."""

    id: int
    lecture_id: int
    name: str
    position: int = Field(description="order among the lecture's assignments")
    assignment_type: str = Field(description="its category in the grading policy (e.g. Homework)")
    points: float = Field(description="the points it is worth (from the generated notebooks)")
    deadline: datetime | None
    late_periods: list[LatePeriod] = Field(description="late hand-ins allowed after the deadline, scaled")
    max_submissions: int | None = Field(description="how many hand-ins a student may make (None: no limit)")
    cell_timeout: int = Field(description="seconds a cell may run when autograded")
    allowed_files: list[str] = Field(description="globs of the files a hand-in may contain (empty: all)")
    status: AssignmentStatus
    grading_basis: GradingBasis
    feedback_release: FeedbackRelease
    score_visibility: ScoreVisibility
    created_at: datetime
    updated_at: datetime
    generated: bool = Field(description="whether the student version has been generated")
    repos: RepoUrls
    extended_deadline: datetime | None = Field(
        None, description="the caller's own deadline when they have an extension (late scaling uses it)"
    )
    release_commit: str | None = Field(None, description="staff: the generated student version's commit")
    source_commit: str | None = Field(None, description="staff: the source commit it was generated from")
    generated_at: datetime | None = Field(None, description="staff: when it was generated")


class Submission(Answer):
    """A hand-in and its grading state. While the assignment withholds scores from students, a student's
    view has `scores_visible` false and every score null."""

    id: int
    lecture_id: int
    assignment_id: int
    username: str
    commit: str | None = Field(description="the commit of the student's `user` repo that was handed in")
    submitted_at: datetime
    auto_status: AutoStatus
    manual_status: ManualStatus
    feedback_status: FeedbackStatus
    auto_score: float | None
    manual_score: float | None
    score: float | None = Field(description="auto and manual scores together, before late scaling")
    late_scaling: float = Field(description="the factor of the late period it fell in (1: on time)")
    final_score: float | None = Field(description="score times late_scaling: what the grade counts")
    updated_at: datetime
    scores_visible: bool
    autograde: Job | None = Field(
        None, description="one submission: its latest autograde job (with the log for staff), or None"
    )


class SubmissionLogJob(Answer):
    """The job a log belongs to."""

    id: int
    state: JobState
    error: str | None


class SubmissionLogs(Answer):
    """The log of a submission's latest autograde job (empty, with `job` None, before any)."""

    submission_id: int
    job: SubmissionLogJob | None
    log: str

"""SQLAlchemy models of the core domain: users, lectures, roles, assignments, submissions, jobs, tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from grader_service.orm.base import Base, UtcDateTime, utcnow
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


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint, so adding a value is a simple migration.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    memberships: Mapped[list[LectureMember]] = relationship(back_populates="user")


class Lecture(Base):
    __tablename__ = "lectures"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[LectureStatus] = mapped_column(
        _enum(LectureStatus, "lecture_status"), default=LectureStatus.active
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: the grading policy (GRADER, GRADE_CUTOFFS); None means grader_service.grades.DEFAULT_POLICY
    grading_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: whether instructors may override grades in bulk (the writable gradebook)
    gradebook_writable: Mapped[bool] = mapped_column(default=False, server_default=false())

    members: Mapped[list[LectureMember]] = relationship(back_populates="lecture")


class LectureMember(Base):
    """A user's role in one lecture (admins are global and come from config, not from this table)."""

    __tablename__ = "lecture_members"
    __table_args__ = (
        # the gradebook's page (a walk in name order) and its username count (one index-only scan of the
        # lecture's members), with no join to users (PostgreSQL; on SQLite the name columns stay NULL)
        Index(
            "ix_lecture_members_gradebook",
            "lecture_id",
            "username",
            postgresql_include=["role", "user_id", "username_lower"],
        ),
    )

    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: copies of `users.name` and of its lower() for the gradebook's name order and `username_contains`;
    #: on PostgreSQL triggers keep them in step with users and memberships (migration 0006), whatever
    #: writes the rows, so nothing sets them. NULL on SQLite (its gradebook joins the users instead).
    username: Mapped[str | None] = mapped_column(String(64))
    username_lower: Mapped[str | None] = mapped_column(String(128))

    lecture: Mapped[Lecture] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_non_negative"),
        CheckConstraint("max_submissions IS NULL OR max_submissions >= 1", name="max_submissions_positive"),
        Index(None, "lecture_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)
    assignment_type: Mapped[str] = mapped_column(String(64), default="Homework")
    points: Mapped[float] = mapped_column(Float, default=0.0)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    late_periods: Mapped[list[Any]] = mapped_column(JSON, default=list)
    max_submissions: Mapped[int | None] = mapped_column(Integer)
    cell_timeout: Mapped[int] = mapped_column(Integer)
    allowed_files: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[AssignmentStatus] = mapped_column(
        _enum(AssignmentStatus, "assignment_status"), default=AssignmentStatus.created
    )
    # set by the generate job: the student version's commit in `release` and the gradebook (cells, points,
    # checksums, hidden tests: never shown to students)
    source_commit: Mapped[str | None] = mapped_column(String(40))
    release_commit: Mapped[str | None] = mapped_column(String(40))
    gradebook: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    generated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    grading_basis: Mapped[GradingBasis] = mapped_column(
        _enum(GradingBasis, "grading_basis"), default=GradingBasis.best, server_default="best"
    )
    feedback_release: Mapped[FeedbackRelease] = mapped_column(
        _enum(FeedbackRelease, "feedback_release"), default=FeedbackRelease.manual, server_default="manual"
    )
    score_visibility: Mapped[ScoreVisibility] = mapped_column(
        _enum(ScoreVisibility, "score_visibility"),
        default=ScoreVisibility.immediate,
        server_default="immediate",
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    lecture: Mapped[Lecture] = relationship()


class Submission(Base):
    """One commit a student handed in, with its grading statuses and scores."""

    __tablename__ = "submissions"
    __table_args__ = (Index(None, "assignment_id", "user_id", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    commit_hash: Mapped[str | None] = mapped_column(String(40))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    auto_status: Mapped[AutoStatus] = mapped_column(
        _enum(AutoStatus, "auto_status"), default=AutoStatus.pending
    )
    manual_status: Mapped[ManualStatus] = mapped_column(
        _enum(ManualStatus, "manual_status"), default=ManualStatus.not_graded
    )
    feedback_status: Mapped[FeedbackStatus] = mapped_column(
        _enum(FeedbackStatus, "feedback_status"), default=FeedbackStatus.not_generated
    )
    auto_score: Mapped[float | None] = mapped_column(Float)
    manual_score: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    late_scaling: Mapped[float] = mapped_column(Float, default=1.0)
    final_score: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship()


class AssignmentExtension(Base):
    """A student's own deadline for one assignment: it replaces the assignment's deadline for their
    hand-in cut-off and late scaling (the late periods then count from it)."""

    __tablename__ = "assignment_extensions"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    granted_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Job(Base):
    """One unit of background work (autograde, generate, feedback, recompute...) and its history."""

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "state", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.queued)
    lecture_id: Mapped[int | None] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(255))
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    log: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # SHA-256 of the short-lived token a remote executor (a Kubernetes pod) uses for this job only
    token_hash: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """An API token, stored as the SHA-256 of its value (tokens are random, so no salt is needed)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    hashed: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16), default="api")
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()


__all__ = [
    "ApiToken",
    "Assignment",
    "AssignmentExtension",
    "AssignmentStatus",
    "AutoStatus",
    "FeedbackRelease",
    "FeedbackStatus",
    "GradingBasis",
    "Job",
    "JobState",
    "Lecture",
    "LectureMember",
    "LectureStatus",
    "ManualStatus",
    "Role",
    "ScoreVisibility",
    "Submission",
    "User",
]

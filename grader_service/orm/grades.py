"""SQLAlchemy models of the grades subsystem: grading snapshots, assignment and lecture grades, overrides.

Follows the Open edX persistent grades model (subsection → assignment, course → lecture). The unique
constraints double as the indexes of the read use cases: (lecture, user, assignment) serves the progress
view (lecture + user prefix) and reports (lecture prefix); (lecture, user) on lecture grades serves the
gradebook and reports (lecture prefix).

The gradebook's filtered counts must be exact over 100,000 learners without joining every membership: the
grade rows carry what the filters need, indexed (`ix_*_gradebook`). `effective_percent` is the
override-aware assignment percent the `assignment_grade_min/max` filter compares, written by every writer
of a grade or override (grades.persistence, grades.overrides). `member_role` is the learner's current role
in the lecture (NULL when not a member); on PostgreSQL triggers keep it in step with `lecture_members`
(migration 0005), and the counts read it there. SQLite leaves it NULL (its counts join the memberships, and
a SQLite trigger that names these tables would break alembic's batch table rebuilds).

How many members and grade rows a lecture has, per role, is kept on PostgreSQL too (`GradebookTally`,
migration 0007), so an exact count never scans a whole lecture for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grader_service.orm.base import Base, UtcDateTime, utcnow
from grader_service.orm.models import LectureMember

#: where an override came from (the history records it)
OVERRIDE_SYSTEMS = ("gradebook", "import", "api")


class GradingSnapshot(Base):
    """The version of an assignment a grade was computed against (like edX's visible blocks).

    Content-addressed: `key` is the SHA-1 of the assignment id, release commit and graded cells with
    their points, so equal versions share one row and an edited assignment gets a new one. A grade keeps
    its snapshot's `points` as its possible score until an explicit regrade moves it to the current one.
    """

    __tablename__ = "grading_snapshots"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    release_commit: Mapped[str | None] = mapped_column(String(40))
    points: Mapped[float] = mapped_column(Float)
    #: graded cells and their points, `[{"cell_id", "points"}]`; empty until cell-level gradebooks exist
    cells: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AssignmentGrade(Base):
    """A learner's grade of one assignment (the counted submission's score); overrides apply on read."""

    __tablename__ = "assignment_grades"
    __table_args__ = (
        UniqueConstraint("lecture_id", "user_id", "assignment_id"),
        # the assignment filter's count and page (also the assignment foreign key's index)
        Index(
            "ix_assignment_grades_gradebook",
            "assignment_id",
            "member_role",
            "effective_percent",
            postgresql_include=["user_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    earned_all: Mapped[float] = mapped_column(Float)
    possible_all: Mapped[float] = mapped_column(Float)
    earned_graded: Mapped[float] = mapped_column(Float)
    possible_graded: Mapped[float] = mapped_column(Float)
    #: when the learner first handed in (set once, never moved)
    first_attempted: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: the submission the score came from (None for a grade created by an override)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))
    snapshot_key: Mapped[str | None] = mapped_column(ForeignKey("grading_snapshots.key"))
    #: the percent (0-100) the gradebook shows and filters on, overrides applied field by field:
    #: earned_graded * 100 / possible_graded, 0 when possible is 0. Derived; the fields above stay as graded.
    effective_percent: Mapped[float] = mapped_column(Float)
    #: the learner's role in the lecture, NULL when not a member (PostgreSQL only, kept by triggers)
    member_role: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AssignmentGradeOverride(Base):
    """The newest override of one assignment grade: each field, when not null, replaces the grade's."""

    __tablename__ = "assignment_grade_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    grade_id: Mapped[int] = mapped_column(ForeignKey("assignment_grades.id", ondelete="CASCADE"), unique=True)
    earned_all_override: Mapped[float | None] = mapped_column(Float)
    possible_all_override: Mapped[float | None] = mapped_column(Float)
    earned_graded_override: Mapped[float | None] = mapped_column(Float)
    possible_graded_override: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    system: Mapped[str] = mapped_column(String(16))
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AssignmentGradeOverrideHistory(Base):
    """Every change of an override: who, when, from where, why, and the values before and after."""

    __tablename__ = "assignment_grade_override_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    override_id: Mapped[int] = mapped_column(
        ForeignKey("assignment_grade_overrides.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    system: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    old: Mapped[dict[str, Any]] = mapped_column(JSON)
    new: Mapped[dict[str, Any]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LectureGrade(Base):
    """A learner's lecture grade under the policy whose hash it records (stale when that differs)."""

    __tablename__ = "lecture_grades"
    __table_args__ = (
        UniqueConstraint("lecture_id", "user_id"),
        Index("ix_lecture_grades_lecture_id_passed_timestamp", "lecture_id", "passed_timestamp"),
        # the course grade filter's count and page
        Index(
            "ix_lecture_grades_gradebook",
            "lecture_id",
            "member_role",
            "percent_grade",
            postgresql_include=["user_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    percent_grade: Mapped[float] = mapped_column(Float)
    #: the letter reached, "" for none (fail)
    letter_grade: Mapped[str] = mapped_column(String(64))
    #: the first time the learner passed; kept when they later drop below passing
    passed_timestamp: Mapped[datetime | None] = mapped_column(UtcDateTime)
    grading_policy_hash: Mapped[str] = mapped_column(String(28))
    #: the learner's role in the lecture, NULL when not a member (PostgreSQL only, kept by triggers)
    member_role: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# The gradebook counts the members of a role (total minus the excluded roles, usually the few staff).
Index("ix_lecture_members_lecture_id_role", LectureMember.lecture_id, LectureMember.role)

#: indexes migrations 0005 and 0006 create where the database supports them, which the models cannot
#: express: pg_trgm GIN indexes on users.name and lecture_members.username_lower for `username_contains`
#: (PostgreSQL with the extension only)
UNMODELLED_INDEXES = frozenset({"ix_users_name_trgm", "ix_lecture_members_username_trgm"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """alembic's `include_object` hook: leave the unmodelled indexes out of autogenerate's comparison."""
    return not (type_ == "index" and reflected and compare_to is None and name in UNMODELLED_INDEXES)


__all__ = [
    "AssignmentGrade",
    "AssignmentGradeOverride",
    "AssignmentGradeOverrideHistory",
    "GradingSnapshot",
    "LectureGrade",
    "OVERRIDE_SYSTEMS",
    "UNMODELLED_INDEXES",
    "include_object",
]


#: GradebookTally.scope of the lecture's memberships and of its lecture grades (an assignment's grade rows
#: are tallied under the assignment's id)
TALLY_MEMBERS = 0
TALLY_LECTURE_GRADES = -1


class GradebookTally(Base):
    """PostgreSQL: a change in how many memberships (scope 0), lecture grades (scope -1) or grade rows of one
    assignment (scope = its id) a lecture has with one role; their sum is the current number.

    Statement triggers (migration 0007) add a row per statement and role that inserts or deletes such rows,
    row triggers one per row whose role (or lecture or assignment) changes, so no writer waits for another
    to update a shared counter; `grades.tallies` sums them and folds a scope's rows into one when they pile
    up. Rows are visible with the writes they count, so the sums are exact in every snapshot. SQLite keeps
    none (its counts join the tables).
    """

    __tablename__ = "gradebook_tallies"
    __table_args__ = (Index("ix_gradebook_tallies_lecture_id_scope", "lecture_id", "scope"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    scope: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))
    n: Mapped[int] = mapped_column(BigInteger)

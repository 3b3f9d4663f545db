"""Coursework: assignments, submissions and jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:34:17.828313
"""

from __future__ import annotations

import sqlalchemy as sa

import grader_service.orm.base  # noqa: F401  (column types)
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lecture_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("assignment_type", sa.String(length=64), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("deadline", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("late_periods", sa.JSON(), nullable=False),
        sa.Column("max_submissions", sa.Integer(), nullable=True),
        sa.Column("cell_timeout", sa.Integer(), nullable=False),
        sa.Column("allowed_files", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "released",
                "closed",
                name="assignment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "max_submissions IS NULL OR max_submissions >= 1",
            name=op.f("ck_assignments_max_submissions_positive"),
        ),
        sa.CheckConstraint("points >= 0", name=op.f("ck_assignments_points_non_negative")),
        sa.ForeignKeyConstraint(
            ["lecture_id"],
            ["lectures.id"],
            name=op.f("fk_assignments_lecture_id_lectures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignments_lecture_id"), ["lecture_id", "position"], unique=False
        )

    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("commit_hash", sa.String(length=40), nullable=True),
        sa.Column("submitted_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "auto_status",
            sa.Enum(
                "pending",
                "running",
                "automatically_graded",
                "grading_failed",
                name="auto_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "manual_status",
            sa.Enum(
                "not_graded",
                "being_edited",
                "manually_graded",
                name="manual_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "feedback_status",
            sa.Enum(
                "not_generated",
                "generating",
                "generated",
                "released",
                "generation_failed",
                name="feedback_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("auto_score", sa.Float(), nullable=True),
        sa.Column("manual_score", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("late_scaling", sa.Float(), nullable=False),
        sa.Column("final_score", sa.Float(), nullable=True),
        sa.Column("updated_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_submissions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_submissions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submissions_assignment_id"),
            ["assignment_id", "user_id", "submitted_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_submissions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                "cancelled",
                name="job_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("lecture_id", sa.Integer(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=255), nullable=True),
        sa.Column("queued_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("log", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_jobs_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lecture_id"], ["lectures.id"], name=op.f("fk_jobs_lecture_id_lectures"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_jobs_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_lecture_id"), ["lecture_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_state"), ["state", "queued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_submission_id"), ["submission_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_submission_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_jobs_lecture_id"))

    op.drop_table("jobs")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_user_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_assignment_id"))

    op.drop_table("submissions")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_lecture_id"))

    op.drop_table("assignments")

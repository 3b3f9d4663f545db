"""Grading record: per-cell scores and comments of each submission, the graded version, feedback state;
per assignment when feedback is released and when students see scores.

- grading_cells: one row per graded or commentable cell (auto score, manual score, extra credit, comment)
- submission_gradings: one row per graded submission (version and commit graded, revision, feedback)
- assignments.feedback_release (manual | on_grading | after_deadline) and
  assignments.score_visibility (immediate | after_feedback)

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-05 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from grader_service.orm.base import UtcDateTime

revision = "0008"
down_revision = "0009"  # chained after h14ops' 0009 at merge time
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grading_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("notebook", sa.String(length=255), nullable=False),
        sa.Column("grade_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("max_points", sa.Float(), nullable=False),
        sa.Column("auto_score", sa.Float(), nullable=True),
        sa.Column("auto_status", sa.String(length=32), nullable=True),
        sa.Column("auto_comment", sa.Text(), nullable=True),
        sa.Column("error_output", sa.Text(), nullable=True),
        sa.Column("hidden_tests", sa.Boolean(), nullable=False),
        sa.Column("manual_score", sa.Float(), nullable=True),
        sa.Column("extra_credit", sa.Float(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("graded_by", sa.String(length=64), nullable=True),
        sa.Column("graded_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_grading_cells_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_cells")),
        sa.UniqueConstraint(
            "submission_id",
            "notebook",
            "grade_id",
            name=op.f("uq_grading_cells_submission_id_notebook_grade_id"),
        ),
    )
    with op.batch_alter_table("grading_cells", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grading_cells_submission_id"), ["submission_id"], unique=False)
    op.create_table(
        "submission_gradings",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("graded_commit", sa.String(length=40), nullable=True),
        sa.Column("autograde_commit", sa.String(length=40), nullable=True),
        sa.Column("autograde_job_id", sa.Integer(), nullable=True),
        sa.Column("autograded_at", UtcDateTime(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("feedback_revision", sa.Integer(), nullable=True),
        sa.Column("feedback_commit", sa.String(length=40), nullable=True),
        sa.Column("feedback_pages", sa.JSON(), nullable=False),
        sa.Column("feedback_generated_at", UtcDateTime(), nullable=True),
        sa.Column("feedback_released_commit", sa.String(length=40), nullable=True),
        sa.Column("feedback_released_at", UtcDateTime(), nullable=True),
        sa.Column("feedback_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_gradings_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_gradings")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "feedback_release",
                sa.Enum(
                    "manual",
                    "on_grading",
                    "after_deadline",
                    name="feedback_release",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="manual",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "score_visibility",
                sa.Enum(
                    "immediate",
                    "after_feedback",
                    name="score_visibility",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="immediate",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        # the enums' CHECK constraints first: SQLite's table rebuild would keep them naming gone columns
        batch_op.drop_constraint(op.f("ck_assignments_score_visibility"), type_="check")
        batch_op.drop_constraint(op.f("ck_assignments_feedback_release"), type_="check")
        batch_op.drop_column("score_visibility")
        batch_op.drop_column("feedback_release")
    op.drop_table("submission_gradings")
    with op.batch_alter_table("grading_cells", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grading_cells_submission_id"))
    op.drop_table("grading_cells")

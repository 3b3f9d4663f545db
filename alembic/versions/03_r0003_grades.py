"""Grades: grading snapshots, assignment and lecture grades, overrides with history; grading settings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 19:47:32.746915
"""

from __future__ import annotations

import sqlalchemy as sa

import grader_service.orm.base  # noqa: F401  (column types)
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grading_snapshots",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("release_commit", sa.String(length=40), nullable=True),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("created", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_grading_snapshots_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_grading_snapshots")),
    )
    with op.batch_alter_table("grading_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grading_snapshots_assignment_id"), ["assignment_id"], unique=False
        )

    op.create_table(
        "lecture_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lecture_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("percent_grade", sa.Float(), nullable=False),
        sa.Column("letter_grade", sa.String(length=64), nullable=False),
        sa.Column("passed_timestamp", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("grading_policy_hash", sa.String(length=28), nullable=False),
        sa.Column("created", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("modified", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lecture_id"],
            ["lectures.id"],
            name=op.f("fk_lecture_grades_lecture_id_lectures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lecture_grades_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lecture_grades")),
        sa.UniqueConstraint("lecture_id", "user_id", name=op.f("uq_lecture_grades_lecture_id_user_id")),
    )
    with op.batch_alter_table("lecture_grades", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lecture_grades_lecture_id_passed_timestamp"),
            ["lecture_id", "passed_timestamp"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_lecture_grades_user_id"), ["user_id"], unique=False)

    op.create_table(
        "assignment_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lecture_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("earned_all", sa.Float(), nullable=False),
        sa.Column("possible_all", sa.Float(), nullable=False),
        sa.Column("earned_graded", sa.Float(), nullable=False),
        sa.Column("possible_graded", sa.Float(), nullable=False),
        sa.Column("first_attempted", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_key", sa.String(length=40), nullable=True),
        sa.Column("created", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("modified", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_assignment_grades_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lecture_id"],
            ["lectures.id"],
            name=op.f("fk_assignment_grades_lecture_id_lectures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_key"],
            ["grading_snapshots.key"],
            name=op.f("fk_assignment_grades_snapshot_key_grading_snapshots"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_assignment_grades_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assignment_grades_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_grades")),
        sa.UniqueConstraint(
            "lecture_id",
            "user_id",
            "assignment_id",
            name=op.f("uq_assignment_grades_lecture_id_user_id_assignment_id"),
        ),
    )
    with op.batch_alter_table("assignment_grades", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_grades_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assignment_grades_user_id"), ["user_id"], unique=False)

    op.create_table(
        "assignment_grade_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grade_id", sa.Integer(), nullable=False),
        sa.Column("earned_all_override", sa.Float(), nullable=True),
        sa.Column("possible_all_override", sa.Float(), nullable=True),
        sa.Column("earned_graded_override", sa.Float(), nullable=True),
        sa.Column("possible_graded_override", sa.Float(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("created", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("modified", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grade_id"],
            ["assignment_grades.id"],
            name=op.f("fk_assignment_grade_overrides_grade_id_assignment_grades"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_grade_overrides")),
        sa.UniqueConstraint("grade_id", name=op.f("uq_assignment_grade_overrides_grade_id")),
    )
    op.create_table(
        "assignment_grade_override_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("override_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("old", sa.JSON(), nullable=False),
        sa.Column("new", sa.JSON(), nullable=False),
        sa.Column("created", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["override_id"],
            ["assignment_grade_overrides.id"],
            name=op.f("fk_assignment_grade_override_history_override_id_assignment_grade_overrides"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_assignment_grade_override_history_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_grade_override_history")),
    )
    with op.batch_alter_table("assignment_grade_override_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_grade_override_history_override_id"), ["override_id"], unique=False
        )

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "grading_basis",
                sa.Enum(
                    "best",
                    "latest",
                    name="grading_basis",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="best",
                nullable=False,
            )
        )

    with op.batch_alter_table("lectures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grading_policy", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("gradebook_writable", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("lectures", schema=None) as batch_op:
        batch_op.drop_column("gradebook_writable")
        batch_op.drop_column("grading_policy")

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("grading_basis")

    with op.batch_alter_table("assignment_grade_override_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_grade_override_history_override_id"))

    op.drop_table("assignment_grade_override_history")
    op.drop_table("assignment_grade_overrides")
    with op.batch_alter_table("assignment_grades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_grades_user_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_grades_assignment_id"))

    op.drop_table("assignment_grades")
    with op.batch_alter_table("grading_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grading_snapshots_assignment_id"))

    op.drop_table("grading_snapshots")
    with op.batch_alter_table("lecture_grades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lecture_grades_user_id"))
        batch_op.drop_index(batch_op.f("ix_lecture_grades_lecture_id_passed_timestamp"))

    op.drop_table("lecture_grades")

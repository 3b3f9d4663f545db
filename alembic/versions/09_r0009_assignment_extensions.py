"""Per-student deadline extensions: assignment_extensions (assignment, user) → the student's own deadline.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-05 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa

import grader_service.orm.base  # noqa: F401  (column types)
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_extensions",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("deadline", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_assignment_extensions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_assignment_extensions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assignment_id", "user_id", name=op.f("pk_assignment_extensions")),
    )
    with op.batch_alter_table("assignment_extensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_extensions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assignment_extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_extensions_user_id"))
    op.drop_table("assignment_extensions")

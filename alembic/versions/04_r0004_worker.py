"""Worker: generated assignments (release commit, gradebook) and per-job tokens for remote executors.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:47:35.964789
"""

from __future__ import annotations

import sqlalchemy as sa

import grader_service.orm.base  # noqa: F401  (column types)
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_commit", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("release_commit", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("gradebook", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("generated_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("token_hash")

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("generated_at")
        batch_op.drop_column("gradebook")
        batch_op.drop_column("release_commit")
        batch_op.drop_column("source_commit")

"""Identity: users, API tokens, lectures and their members' roles.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 19:34:17.828313
"""

from __future__ import annotations

import sqlalchemy as sa

import grader_service.orm.base  # noqa: F401  (column types)
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lectures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "archived",
                name="lecture_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lectures")),
        sa.UniqueConstraint("code", name=op.f("uq_lectures_code")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hashed", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("created_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_used", grader_service.orm.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("hashed", name=op.f("uq_api_tokens_hashed")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lecture_members",
        sa.Column("lecture_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "student",
                "tutor",
                "instructor",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", grader_service.orm.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lecture_id"],
            ["lectures.id"],
            name=op.f("fk_lecture_members_lecture_id_lectures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lecture_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("lecture_id", "user_id", name=op.f("pk_lecture_members")),
    )
    with op.batch_alter_table("lecture_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lecture_members_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lecture_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lecture_members_user_id"))

    op.drop_table("lecture_members")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("lectures")

"""Gradebook member names: username_contains and the name order without joining the users.

- lecture_members.username, lecture_members.username_lower: copies of users.name and lower(users.name).
  On PostgreSQL two triggers keep them in step: one fills them whenever a membership row is inserted or
  its user_id (or the copies themselves) is written, one follows every rename of a user. Backfilled here.
  SQLite gets the columns but no triggers (for the same reason as migration 0005's member_role: a SQLite
  trigger naming these tables would break alembic's batch table rebuilds), so there they stay NULL and the
  gradebook joins the users.
- index (lecture_id, username) INCLUDE (role, user_id, username_lower) on lecture_members: a page is one
  walk in name order and a 1–2 character username count one index-only scan of the lecture's members.
- PostgreSQL with pg_trgm (migration 0005 created it when it could): a trigram GIN index on
  lecture_members.username_lower for patterns of 3+ characters; skipped with a log line otherwise.

After upgrading a large database run VACUUM (ANALYZE) lecture_members: the backfill rewrites every row, and
until the visibility map is set again the index-only scans read the table too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 22:40:00.000000
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

TRGM_INDEX = "ix_lecture_members_username_trgm"

PG_FUNCTIONS = [
    # a membership row takes its user's current name (also overwrites a direct write of the copies)
    """CREATE FUNCTION gradebook_fill_member_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT u.name, lower(u.name) INTO NEW.username, NEW.username_lower FROM users u WHERE u.id = NEW.user_id;
    RETURN NEW;
END $$""",
    # a renamed user's memberships follow
    """CREATE FUNCTION gradebook_follow_user_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lecture_members SET username = NEW.name, username_lower = lower(NEW.name)
     WHERE user_id = NEW.id AND username IS DISTINCT FROM NEW.name;
    RETURN NULL;
END $$""",
]
PG_TRIGGERS = [
    "CREATE TRIGGER lecture_members_username BEFORE INSERT OR UPDATE OF user_id, username, username_lower "
    "ON lecture_members FOR EACH ROW EXECUTE FUNCTION gradebook_fill_member_name()",
    "CREATE TRIGGER users_member_names AFTER UPDATE OF name ON users FOR EACH ROW "
    "WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION gradebook_follow_user_name()",
]


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    with op.batch_alter_table("lecture_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("username_lower", sa.String(length=128), nullable=True))
    if postgres:
        op.execute(
            "UPDATE lecture_members AS m SET username = u.name, username_lower = lower(u.name) "
            "FROM users u WHERE u.id = m.user_id"
        )
    with op.batch_alter_table("lecture_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lecture_members_gradebook",
            ["lecture_id", "username"],
            unique=False,
            postgresql_include=["role", "user_id", "username_lower"],
        )
    if postgres:
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
        if bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
            op.execute(
                f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON lecture_members "
                "USING gin (username_lower gin_trgm_ops)"
            )
        else:
            log.warning(
                "pg_trgm is not installed; skipping the trigram index %s, so username_contains "
                "filters of 3+ characters scan the lecture's members. A superuser can run CREATE "
                "EXTENSION pg_trgm and re-run this migration to add it.",
                TRGM_INDEX,
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
        op.execute("DROP TRIGGER IF EXISTS users_member_names ON users")
        op.execute("DROP TRIGGER IF EXISTS lecture_members_username ON lecture_members")
        op.execute("DROP FUNCTION IF EXISTS gradebook_follow_user_name()")
        op.execute("DROP FUNCTION IF EXISTS gradebook_fill_member_name()")
    with op.batch_alter_table("lecture_members", schema=None) as batch_op:
        batch_op.drop_index("ix_lecture_members_gradebook")
        batch_op.drop_column("username_lower")
        batch_op.drop_column("username")

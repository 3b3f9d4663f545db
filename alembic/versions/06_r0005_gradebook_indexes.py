"""Gradebook indexes: exact filtered counts over large lectures without joining every membership.

- assignment_grades.effective_percent: the override-aware percent the assignment filter compares (the app
  writes it with every grade and override change; backfilled here).
- lecture_grades.member_role, assignment_grades.member_role: the learner's current role in the lecture
  (NULL when not a member). On PostgreSQL two triggers keep it in step: one fills it when a grade row is
  inserted, one follows every insert, delete and role change of lecture_members. SQLite gets the columns
  but no triggers (it counts with joins; a SQLite trigger naming these tables would break alembic's batch
  table rebuilds), so there they stay NULL.
- indexes (lecture_id, member_role, percent_grade) on lecture_grades and (assignment_id, member_role,
  effective_percent) on assignment_grades, which replaces the plain assignment_id index; (lecture_id, role)
  on lecture_members.
- PostgreSQL: a pg_trgm GIN index on users.name for username_contains, when the extension is installed or
  can be created; otherwise skipped with a log line (username_contains then scans the users).

Revision ID: 0005
Revises: 0010
Create Date: 2026-11-22 21:10:00.000000
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

TRGM_INDEX = "ix_users_name_trgm"

# The override-aware percent of one grade row, as the gradebook computes it (same float operations).
EFFECTIVE_PERCENT = """COALESCE(
    (SELECT COALESCE(COALESCE(o.earned_graded_override, assignment_grades.earned_graded) * 100
                     / NULLIF(COALESCE(o.possible_graded_override, assignment_grades.possible_graded), 0),
                     0.0)
       FROM assignment_grade_overrides o WHERE o.grade_id = assignment_grades.id),
    COALESCE(assignment_grades.earned_graded * 100 / NULLIF(assignment_grades.possible_graded, 0), 0.0))"""

PG_FUNCTIONS = [
    # a new grade row (or one moved to another learner) takes the learner's current role
    """CREATE FUNCTION gradebook_fill_member_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT m.role INTO NEW.member_role FROM lecture_members m
     WHERE m.lecture_id = NEW.lecture_id AND m.user_id = NEW.user_id;
    RETURN NEW;
END $$""",
    # a membership change moves to the learner's grade rows of that lecture
    """CREATE FUNCTION gradebook_follow_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE lecture_grades SET member_role = NULL
         WHERE lecture_id = OLD.lecture_id AND user_id = OLD.user_id AND member_role IS NOT NULL;
        UPDATE assignment_grades SET member_role = NULL
         WHERE lecture_id = OLD.lecture_id AND user_id = OLD.user_id AND member_role IS NOT NULL;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.lecture_id <> NEW.lecture_id OR OLD.user_id <> NEW.user_id THEN
            UPDATE lecture_grades SET member_role = NULL
             WHERE lecture_id = OLD.lecture_id AND user_id = OLD.user_id AND member_role IS NOT NULL;
            UPDATE assignment_grades SET member_role = NULL
             WHERE lecture_id = OLD.lecture_id AND user_id = OLD.user_id AND member_role IS NOT NULL;
        END IF;
    END IF;
    UPDATE lecture_grades SET member_role = NEW.role
     WHERE lecture_id = NEW.lecture_id AND user_id = NEW.user_id AND member_role IS DISTINCT FROM NEW.role;
    UPDATE assignment_grades SET member_role = NEW.role
     WHERE lecture_id = NEW.lecture_id AND user_id = NEW.user_id AND member_role IS DISTINCT FROM NEW.role;
    RETURN NULL;
END $$""",
]
PG_TRIGGERS = [
    "CREATE TRIGGER lecture_grades_member_role BEFORE INSERT OR UPDATE OF lecture_id, user_id "
    "ON lecture_grades FOR EACH ROW EXECUTE FUNCTION gradebook_fill_member_role()",
    "CREATE TRIGGER assignment_grades_member_role BEFORE INSERT OR UPDATE OF lecture_id, user_id "
    "ON assignment_grades FOR EACH ROW EXECUTE FUNCTION gradebook_fill_member_role()",
    "CREATE TRIGGER lecture_members_grades_role AFTER INSERT OR DELETE OR UPDATE OF lecture_id, user_id, "
    "role ON lecture_members FOR EACH ROW EXECUTE FUNCTION gradebook_follow_membership()",
]


def _trigram_index(bind: sa.engine.Connection) -> None:
    """CREATE EXTENSION needs privileges the service's role may lack: try it in a savepoint, skip if
    refused."""
    have = bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    if not have:
        savepoint = bind.begin_nested()
        try:
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            savepoint.commit()
            have = 1
        except sa.exc.DBAPIError as exc:
            savepoint.rollback()
            log.warning(
                "pg_trgm is not available (%s); skipping the trigram index %s, so username_contains "
                "filters scan the users table. A superuser can run CREATE EXTENSION pg_trgm and "
                "re-run this migration to add it.",
                str(exc.orig).strip().splitlines()[0],
                TRGM_INDEX,
            )
    if have:
        op.execute(f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON users USING gin (name gin_trgm_ops)")


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    with op.batch_alter_table("assignment_grades", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_percent", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("member_role", sa.String(length=32), nullable=True))
    with op.batch_alter_table("lecture_grades", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_role", sa.String(length=32), nullable=True))

    op.execute(f"UPDATE assignment_grades SET effective_percent = {EFFECTIVE_PERCENT}")
    if postgres:
        for table in ("lecture_grades", "assignment_grades"):
            op.execute(
                f"UPDATE {table} AS g SET member_role = m.role FROM lecture_members m "
                "WHERE m.lecture_id = g.lecture_id AND m.user_id = g.user_id"
            )

    with op.batch_alter_table("assignment_grades", schema=None) as batch_op:
        batch_op.alter_column("effective_percent", existing_type=sa.Float(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_assignment_grades_assignment_id"))
        batch_op.create_index(
            "ix_assignment_grades_gradebook",
            ["assignment_id", "member_role", "effective_percent"],
            unique=False,
        )
    with op.batch_alter_table("lecture_grades", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lecture_grades_gradebook", ["lecture_id", "member_role", "percent_grade"], unique=False
        )
    with op.batch_alter_table("lecture_members", schema=None) as batch_op:
        batch_op.create_index("ix_lecture_members_lecture_id_role", ["lecture_id", "role"], unique=False)

    if postgres:
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
        _trigram_index(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
        op.execute("DROP TRIGGER IF EXISTS lecture_members_grades_role ON lecture_members")
        op.execute("DROP TRIGGER IF EXISTS assignment_grades_member_role ON assignment_grades")
        op.execute("DROP TRIGGER IF EXISTS lecture_grades_member_role ON lecture_grades")
        op.execute("DROP FUNCTION IF EXISTS gradebook_follow_membership()")
        op.execute("DROP FUNCTION IF EXISTS gradebook_fill_member_role()")
    with op.batch_alter_table("lecture_members", schema=None) as batch_op:
        batch_op.drop_index("ix_lecture_members_lecture_id_role")
    with op.batch_alter_table("lecture_grades", schema=None) as batch_op:
        batch_op.drop_index("ix_lecture_grades_gradebook")
        batch_op.drop_column("member_role")
    with op.batch_alter_table("assignment_grades", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_grades_gradebook")
        batch_op.create_index(
            batch_op.f("ix_assignment_grades_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.drop_column("member_role")
        batch_op.drop_column("effective_percent")

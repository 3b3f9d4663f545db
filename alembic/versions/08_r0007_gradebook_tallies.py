"""Gradebook tallies: how many members and grade rows a lecture has per role, without counting them.

- gradebook_tallies (lecture_id, scope, role, n): scope 0 counts lecture_members, -1 lecture_grades, an
  assignment's id its assignment_grades (by member_role; rows of non-members, member_role NULL, are not
  counted). The current number is the sum of a (lecture, scope, role)'s rows.
- PostgreSQL: statement triggers add one row per lecture, scope and role for every statement that inserts
  or deletes such rows (COPY and cascades included), row triggers a -1 and a +1 for every row whose role,
  lecture or assignment changes. Appending instead of updating one counter row means no writer waits for
  another's commit, and no two writers can deadlock on counters. The gradebook folds a scope's rows into
  one per role when they pile up (grades.tallies). Backfilled here, after the triggers exist, in the same
  transaction (the triggers' DDL locks keep writers out until it commits).
- SQLite gets the table but no triggers (as with migration 0005's member_role): its counts join the tables.
- PostgreSQL: the grade rows' gradebook indexes (migration 0005) INCLUDE user_id, so the ids of the learners
  in a grade range are read from the index alone (the gradebook's hashed walk and driven pages).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 01:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, the scope of a row (SQL), its role column, the columns whose change moves a row)
TALLIED = [
    ("lecture_members", "0", "role", ["lecture_id", "role"]),
    ("lecture_grades", "-1", "member_role", ["lecture_id", "member_role"]),
    (
        "assignment_grades",
        "{row}.assignment_id",
        "member_role",
        ["lecture_id", "assignment_id", "member_role"],
    ),
]
LECTURE_EXISTS = "EXISTS (SELECT 1 FROM lectures l WHERE l.id = {row}.lecture_id)"


def _functions(table: str, scope: str, role: str) -> list[str]:
    # rows inserted or deleted by one statement: one tally row per lecture, scope and role (a lecture being
    # deleted takes its tallies with it: nothing is added for it)
    rows_scope = scope.format(row="r")
    counted = f"""CREATE FUNCTION gradebook_tally_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO gradebook_tallies (lecture_id, scope, role, n)
    SELECT r.lecture_id, {rows_scope}, r.{role}, CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE -count(*) END
      FROM changed_rows r
     WHERE r.{role} IS NOT NULL AND {LECTURE_EXISTS.format(row="r")}
     GROUP BY 1, 2, 3;
    RETURN NULL;
END $$"""
    # one row that changed role, lecture or assignment: -1 where it was, +1 where it is
    moved = f"""CREATE FUNCTION gradebook_tally_{table}_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO gradebook_tallies (lecture_id, scope, role, n)
    SELECT OLD.lecture_id, {scope.format(row="OLD")}, OLD.{role}, -1
     WHERE OLD.{role} IS NOT NULL AND {LECTURE_EXISTS.format(row="OLD")}
    UNION ALL
    SELECT NEW.lecture_id, {scope.format(row="NEW")}, NEW.{role}, 1 WHERE NEW.{role} IS NOT NULL;
    RETURN NULL;
END $$"""
    return [counted, moved]


def _triggers(table: str, moves: list[str]) -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in moves)
    return [
        f"CREATE TRIGGER {table}_tally_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS changed_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION gradebook_tally_{table}()",
        f"CREATE TRIGGER {table}_tally_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS changed_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION gradebook_tally_{table}()",
        f"CREATE TRIGGER {table}_tally_moved AFTER UPDATE OF {', '.join(moves)} ON {table} FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION gradebook_tally_{table}_moved()",
    ]


def _backfill(table: str, scope: str, role: str) -> str:
    rows_scope = scope.format(row=table)
    return (
        f"INSERT INTO gradebook_tallies (lecture_id, scope, role, n) "
        f"SELECT lecture_id, {rows_scope}, {role}, count(*) FROM {table} WHERE {role} IS NOT NULL "
        "GROUP BY 1, 2, 3"
    )


# (index, table, columns) of migration 0005, now with INCLUDE (user_id) on PostgreSQL
GRADEBOOK_INDEXES = [
    ("ix_assignment_grades_gradebook", "assignment_grades", "assignment_id, member_role, effective_percent"),
    ("ix_lecture_grades_gradebook", "lecture_grades", "lecture_id, member_role, percent_grade"),
]


def _gradebook_indexes(include: str) -> None:
    for index, table, columns in GRADEBOOK_INDEXES:
        op.execute(f"DROP INDEX {index}")
        op.execute(f"CREATE INDEX {index} ON {table} ({columns}){include}")


def upgrade() -> None:
    op.create_table(
        "gradebook_tallies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lecture_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lecture_id"],
            ["lectures.id"],
            name=op.f("fk_gradebook_tallies_lecture_id_lectures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gradebook_tallies")),
    )
    with op.batch_alter_table("gradebook_tallies", schema=None) as batch_op:
        batch_op.create_index("ix_gradebook_tallies_lecture_id_scope", ["lecture_id", "scope"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, scope, role, moves in TALLIED:
        for statement in _functions(table, scope, role) + _triggers(table, moves):
            op.execute(statement)
    for table, scope, role, _ in TALLIED:
        op.execute(_backfill(table, scope, role))
    _gradebook_indexes(" INCLUDE (user_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _gradebook_indexes("")
        for table, _, _, _ in TALLIED:
            for trigger in ("insert", "delete", "moved"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_tally_{trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS gradebook_tally_{table}_moved()")
            op.execute(f"DROP FUNCTION IF EXISTS gradebook_tally_{table}()")
    with op.batch_alter_table("gradebook_tallies", schema=None) as batch_op:
        batch_op.drop_index("ix_gradebook_tallies_lecture_id_scope")
    op.drop_table("gradebook_tallies")

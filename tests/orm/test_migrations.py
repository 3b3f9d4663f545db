"""Migrations on SQLite and PostgreSQL: empty → head, step down and up, models == migrations, start checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from grader_service.orm import migrate
from grader_service.orm.base import Base
from grader_service.orm.grades import include_object
from grader_service.orm.session import make_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, make_db_url):
    eng = make_engine(make_db_url(request.param))
    yield eng
    eng.dispose()


def test_upgrade_from_empty_to_head(engine):
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {
        "users",
        "lectures",
        "lecture_members",
        "assignments",
        "submissions",
        "jobs",
        "api_tokens",
    } <= tables


def test_downgrade_one_step_and_up_again_keeps_data(engine):
    migrate.upgrade(engine)
    head = migrate.head_revision()
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO users (name, admin, created_at) VALUES ('keep-me', false, CURRENT_TIMESTAMP)")
        )
    migrate.downgrade(engine, "-1")
    assert migrate.current_revision(engine) != head
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == head
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM users")).scalar() == "keep-me"


def test_models_and_migrations_agree(engine):
    migrate.upgrade(engine)
    with engine.connect() as conn:
        # the same hook as alembic/env.py: indexes the models cannot express (pg_trgm) stay out
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_refuses_to_start_on_an_older_schema_with_the_command_to_run(engine):
    migrate.upgrade(engine, "0001")
    with pytest.raises(migrate.SchemaBehind) as info:
        migrate.ensure_schema(
            engine, auto_upgrade=False, upgrade_command="grader-service db upgrade -f /x.py"
        )
    assert "grader-service db upgrade -f /x.py" in str(info.value)
    assert migrate.current_revision(engine) == "0001"


def test_refuses_a_database_it_did_not_create(engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE foreign_table (id INTEGER PRIMARY KEY)"))
    with pytest.raises(migrate.SchemaBehind, match="no schema revision"):
        migrate.ensure_schema(engine, auto_upgrade=True, upgrade_command="x")


def test_sqlite_auto_upgrade_backs_up_first(tmp_path: Path):
    db = tmp_path / "grader.sqlite"
    eng = create_engine(f"sqlite:///{db}")
    migrate.upgrade(eng, "0001")
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO users (name, admin, created_at) VALUES ('old', 0, CURRENT_TIMESTAMP)"))
    migrate.ensure_schema(eng, auto_upgrade=True, upgrade_command="x")
    assert migrate.current_revision(eng) == migrate.head_revision()
    backups = list(tmp_path.glob("grader.sqlite.*.bak"))
    assert len(backups) == 1
    old = create_engine(f"sqlite:///{backups[0]}")
    assert migrate.current_revision(old) == "0001"
    old.dispose()
    eng.dispose()

"""Schema revisions: find the migrations, upgrade, report the current revision, check it at start."""

from __future__ import annotations

import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from alembic import command
from grader_service.orm.base import utcnow

log = logging.getLogger(__name__)


def migrations_dir() -> Path:
    """The alembic/ folder: beside the package in a checkout, under share/ in an installed wheel."""
    here = Path(__file__).resolve().parent.parent.parent / "alembic"
    if (here / "env.py").exists():
        return here
    installed = Path(sys.prefix) / "share" / "grader-service" / "alembic"
    if (installed / "env.py").exists():
        return installed
    raise RuntimeError(f"cannot find the alembic migrations (looked in {here} and {installed})")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads; merge them: {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def backup_sqlite(engine: Engine) -> Path | None:
    """Copy the SQLite file beside itself before an upgrade; returns the backup's path."""
    path = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    src = Path(path)
    if not src.exists():
        return None
    dest = src.with_name(f"{src.name}.{utcnow().strftime('%Y%m%dT%H%M%SZ')}.bak")
    shutil.copy2(src, dest)
    return dest


@dataclass
class SchemaStatus:
    current: str | None
    head: str
    empty: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_status(engine: Engine) -> SchemaStatus:
    empty = not inspect(engine).get_table_names()
    return SchemaStatus(current=current_revision(engine), head=head_revision(), empty=empty)


class SchemaBehind(RuntimeError):
    """The database is at an older revision than this version of the service needs."""


def ensure_schema(engine: Engine, *, auto_upgrade: bool, upgrade_command: str) -> None:
    """Create a fresh schema, upgrade (after a backup) when allowed, else refuse with the command to run."""
    status = schema_status(engine)
    if status.up_to_date:
        return
    if status.empty:
        log.info("Creating the database schema (revision %s)", status.head)
        upgrade(engine)
        return
    if status.current is None:
        raise SchemaBehind(
            "the database has tables but no schema revision: it was not created by "
            "grader-service; point db_url at an empty database"
        )
    if not auto_upgrade:
        raise SchemaBehind(
            f"the database schema is at revision {status.current} but this version of grader-service needs "
            f"{status.head}. Back up the database, then run:\n    {upgrade_command}"
        )
    backup = backup_sqlite(engine)
    if backup:
        log.info("Backed up the database to %s before upgrading", backup)
    log.info("Upgrading the database schema from %s to %s", status.current, status.head)
    upgrade(engine)

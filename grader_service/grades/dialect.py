"""INSERT ... ON CONFLICT for the two supported backends (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert_insert(session: Session, table: Any) -> Any:
    """An `insert(table)` with `.on_conflict_do_update/_do_nothing` for the session's backend."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"grades need SQLite or PostgreSQL, not {name}")


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"

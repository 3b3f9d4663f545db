"""What differs between the two supported backends: INSERT ... ON CONFLICT (the same syntax, two
constructs), and how a list of ids is sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, bindparam
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


def id_in(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`. PostgreSQL gets one array parameter (`= ANY(...)`), so the statement's text is the
    same for any number of ids and psycopg prepares it once, instead of a new statement with a parameter per
    id (a page of 100 learners: ~1 ms less per query)."""
    condition: ColumnElement[bool]  # `column` is any ORM attribute or column
    if is_postgres(session):
        condition = column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Integer)))
    else:
        condition = column.in_(list(ids))
    return condition

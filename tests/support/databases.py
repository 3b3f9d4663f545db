"""Throw-away PostgreSQL databases on the local server (one per test session or migration test)."""

from __future__ import annotations

import os
import uuid

import psycopg

ADMIN_URL = os.environ.get("GRADER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


class PostgresUnavailable(RuntimeError):
    pass


def _admin_conn() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise PostgresUnavailable(str(exc).strip().splitlines()[0]) from exc


def new_pg_database() -> str:
    name = f"grader_test_{uuid.uuid4().hex[:10]}"
    with _admin_conn() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    try:
        with _admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except PostgresUnavailable:
        pass

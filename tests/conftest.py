"""Shared fixtures. Real parts: SQLite files and the local PostgreSQL server, a real Tornado server on a free
port, real HTTP requests.

Fixtures:
- ``db_url`` (session, parametrised ``sqlite`` / ``postgresql``): a fresh, empty database URL. PostgreSQL
  gets its own throw-away database on 127.0.0.1:5432; when the server cannot be reached the PostgreSQL
  variants SKIP with a loud message (scripts/services.sh starts it first).
- ``service`` (session, per backend): a running grader service (`ServiceProcess`) with ``.url``,
  ``.db`` (the Database), ``.request(method, path, token=..., json=...)``, ``.make_user(name, admin=...)``
  → token, and ``.expired_token(name)``.
- ``lecture_world`` (function): a fresh lecture with an instructor, a tutor, two students, a member of
  another lecture, an admin (all with tokens), a released and an unreleased assignment, and a submission.
- ``make_db_url`` (session): a factory of further fresh database URLs on a backend, for migration tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import PostgresUnavailable, drop_pg_database, new_pg_database
from tests.support.server import ServiceProcess
from tests.support.world import LectureWorld, build_world

BACKENDS = ["sqlite", "postgresql"]


def _fresh_url(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'grader-{uuid.uuid4().hex[:8]}.sqlite'}"
    try:
        return new_pg_database()
    except PostgresUnavailable as exc:
        pytest.skip(f"!!! PostgreSQL is not reachable ({exc}); PostgreSQL variants SKIPPED !!!")


@pytest.fixture(scope="session")
def make_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    created: list[str] = []
    tmp = tmp_path_factory.mktemp("dbs")

    def make(backend: str) -> str:
        url = _fresh_url(backend, tmp)
        created.append(url)
        return url

    yield make
    for url in created:
        if url.startswith("postgresql"):
            drop_pg_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, make_db_url) -> str:  # type: ignore[no-untyped-def]
    return make_db_url(request.param)


@pytest.fixture(scope="session")
def service(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    data_dir = tmp_path_factory.mktemp("data")
    svc = ServiceProcess(db_url=db_url, data_dir=data_dir, admin_users={"config-admin"})
    svc.start()
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture
def lecture_world(service: ServiceProcess) -> LectureWorld:
    return build_world(service)


def pytest_report_header(config: pytest.Config) -> str:
    return f"grader-service tests: PostgreSQL admin URL {os.environ.get('GRADER_TEST_PG_URL', '(default)')}"

"""Fixtures of the grades tests (besides the shared ones in tests/conftest.py).

- ``grades_db`` (module, parametrised ``sqlite`` / ``postgresql``): a migrated `Database` of its own.
- ``inline`` (session, per service): an InlineDispatcher installed on the test service's database with the
  grade task bodies registered, so enqueued recomputes really run; `inline.drain()` waits for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader_service.grades.recompute import register_tasks
from grader_service.orm.migrate import upgrade
from grader_service.orm.session import Database
from grader_service.services.dispatch import InlineDispatcher


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def grades_db(request: pytest.FixtureRequest, make_db_url) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    db = Database(make_db_url(request.param), threads=4)
    upgrade(db.engine)
    yield db
    db.close()


@pytest.fixture(scope="session")
def inline(service) -> Iterator[InlineDispatcher]:  # type: ignore[no-untyped-def]
    existing = service.db.dispatcher
    if isinstance(existing, InlineDispatcher):
        register_tasks(existing, service.db.session_factory)
        yield existing
        return
    if existing is not None:
        pytest.skip(f"the test service already has a {type(existing).__name__}; grade tasks need inline")
    dispatcher = InlineDispatcher(threads=2)
    register_tasks(dispatcher, service.db.session_factory)
    service.db.install_dispatcher(dispatcher)
    yield dispatcher
    dispatcher.drain()

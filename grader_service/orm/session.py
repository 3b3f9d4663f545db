"""Engine and session factory; every database call of a request runs off the IO loop in a thread pool."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
log = logging.getLogger(__name__)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout so threads can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=pool_size, max_overflow=pool_size)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _custom_plans(dbapi_conn: Any, _record: Any) -> None:
            # psycopg prepares a statement after 5 runs, and PostgreSQL may then switch it to a generic plan
            # that ignores the values: for the gradebook's filters (whose selectivity depends on the values)
            # the generic plan of one page walked all 100,000 members (460 ms against 30). Plan each run.
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            cur = dbapi_conn.cursor()
            cur.execute("SET plan_cache_mode = force_custom_plan")
            cur.close()
            dbapi_conn.autocommit = autocommit

    return engine


class Database:
    """Owns the engine, the session factory and the thread pool that database work runs in."""

    def __init__(self, url: str, *, threads: int = 8, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=threads + 2, echo=echo)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.dispatcher: Any = None
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grader-db")

    def install_dispatcher(self, dispatcher: Any) -> None:
        """Work enqueued in a session (services.dispatch.enqueue) goes to `dispatcher` after commit."""
        from grader_service.services.dispatch import install

        if self.dispatcher is not None:
            raise RuntimeError("a dispatcher is already installed")
        self.dispatcher = dispatcher
        install(self.session_factory, dispatcher)

    def session(self) -> Session:
        return self.session_factory()

    async def run(self, session: Session, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(session, *args)` in the thread pool as one unit of work: commit, or roll back on error."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, _unit_of_work, session, fn, args)

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.engine.dispose()


def _unit_of_work(session: Session, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    try:
        result = fn(session, *args)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise

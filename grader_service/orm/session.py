"""Engine and session factory; every database call of a request runs off the IO loop in a thread pool."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from grader_service.orm.after_commit import Dispatcher, install

T = TypeVar("T")
log = logging.getLogger(__name__)
#: Session.info key of the Database a session came from (see `run_aside`)
DATABASE = "grader_service.database"


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout so threads can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
        )

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
        self.threads = threads
        self.echo = echo
        self.engine = make_engine(url, pool_size=threads + 2, echo=echo)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False, info={DATABASE: self})
        self.dispatcher: Dispatcher | None = None
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grader-db")
        self._aside: tuple[Engine, sessionmaker[Session], ThreadPoolExecutor] | None = None
        self._aside_lock = threading.Lock()

    def install_dispatcher(self, dispatcher: Dispatcher) -> None:
        """Work enqueued in a session (services.dispatch.enqueue) goes to `dispatcher` after commit."""
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

    @property
    def runs_aside(self) -> bool:
        """Whether `aside` work gets its own connection (not on SQLite, where an in-memory database exists
        once per connection and a second reader gains nothing)."""
        return self.engine.dialect.name != "sqlite"

    def aside(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run `fn(session, *args)` in a transaction of its own (rolled back at the end unless `fn` commits),
        alongside the caller's, on a connection of a separate pool, in threads of their own: a request thread
        waiting for it holds a connection of the main pool, and aside work never needs one, so neither can
        starve the other."""
        _, factory, executor = self._aside_parts()
        return executor.submit(_apart, factory, fn, args)

    @property
    def aside_engine(self) -> Engine:
        return self._aside_parts()[0]

    def _aside_parts(self) -> tuple[Engine, sessionmaker[Session], ThreadPoolExecutor]:
        with self._aside_lock:
            if self._aside is None:
                engine = make_engine(self.url, pool_size=self.threads, echo=self.echo)
                factory = sessionmaker(engine, expire_on_commit=False, info={DATABASE: self})
                threads = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="grader-db-aside")
                self._aside = (engine, factory, threads)
            return self._aside

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.engine.dispose()
        if self._aside is not None:
            engine, _, executor = self._aside
            executor.shutdown(wait=True)
            engine.dispose()


def _apart(factory: sessionmaker[Session], fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    with factory() as session:
        try:
            return fn(session, *args)
        finally:
            session.rollback()


def run_aside(session: Session, fn: Callable[..., T], *args: Any) -> Future[T]:
    """`fn(session, *args)` on a connection of its own while the caller goes on (`Database.aside`), or at once
    on `session` itself, before returning, when that cannot be (SQLite, or a session that no Database made).
    Only for reads whose result may come from a snapshot a little apart from the caller's."""
    database = session.info.get(DATABASE)
    if database is not None and database.runs_aside:
        return database.aside(fn, *args)
    done: Future[T] = Future()
    done.set_result(fn(session, *args))
    return done


def _unit_of_work(session: Session, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    try:
        result = fn(session, *args)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise

"""A real grader service on a free port, served from a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from grader_service.app import GraderService
from grader_service.auth.tokens import create_token
from grader_service.git.store import RepoStore
from grader_service.orm.models import User
from grader_service.orm.session import Database
from grader_service.services.users import get_or_create_user
from tests.support.document import check_against_document


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """The service's web app on 127.0.0.1:<free port>, configured like `grader-service -f ...` would be."""

    def __init__(
        self, db_url: str, data_dir: Path, admin_users: set[str] | None = None, **traits: Any
    ) -> None:
        self.port = free_port()
        self.app = GraderService(
            db_url=db_url,
            data_dir=str(data_dir),
            port=self.port,
            ip="127.0.0.1",
            admin_users=admin_users or set(),
            **{"check_responses": True, **traits},
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.db: Database

    @property
    def store(self) -> RepoStore:
        return RepoStore(self.app.git_root)

    def start(self, *, worker: str | None = None) -> None:
        """`worker`: None (jobs stay queued), "embedded" (the in-process worker of the embedded default), or
        "broker" (send to app.broker_url; a separate grader-worker process runs them)."""
        self.db = self.app.init_db()
        self.app_celery = None
        if worker is not None:
            self.app_celery = self.app.init_tasks(self.db, embedded_worker=worker == "embedded")
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            web_app = self.app.make_app(self.db)
            server = web_app.listen(self.port, "127.0.0.1")
            self._server = server
            loop.call_soon(ready.set)
            loop.run_forever()
            server.stop()
            loop.run_until_complete(server.close_all_connections())
            loop.close()

        self._thread = threading.Thread(target=run, name="grader-service-test", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the test service did not start")

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self.app.stop_tasks()
        self.http.close()
        self.db.close()

    # -- helpers --
    def make_user(self, name: str, *, admin: bool = False, expires_in: float | None = None) -> str:
        with self.db.session() as session:
            user = get_or_create_user(session, name)
            user.admin = admin or user.admin
            session.flush()
            token = create_token(session, user, expires_in=expires_in, note="test")
            session.commit()
        return token

    def wait_for(self, probe: Any, timeout: float = 60.0, interval: float = 0.1) -> Any:
        """Poll `probe()` until it returns something truthy; fail with its last value after `timeout`."""
        import time

        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")

    def user_id(self, name: str) -> int:
        with self.db.session() as session:
            return int(session.scalars(select(User.id).where(User.name == name)).one())

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"token {token}"
        response = self.http.request(
            method, self.url + path, json=json, data=data, headers=h, timeout=30, **kwargs
        )
        if self.app.check_responses and not kwargs.get("stream"):
            # as a generated client would read it: against the OpenAPI document (tests/support/document.py)
            check_against_document(
                method, path, response.status_code, response.content, response.headers.get("Content-Type", "")
            )
        return response

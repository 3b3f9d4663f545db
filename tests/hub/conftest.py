"""Fixtures of the relay and JupyterHub tests (real processes: grader service, Jupyter servers, a Hub).

- ``relay_service`` (module): a grader service on SQLite with the embedded worker (real grading), and a
  lecture world in it (``relay_service.world``).
- ``jupyter_for`` (function): starts a real ``jupyter server`` with the relay for a world user
  (``jupyter_for("student")``), or with extra env/args; all are stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.jupyter import JupyterServer
from tests.support.server import ServiceProcess
from tests.support.world import build_world


@pytest.fixture(scope="module")
def relay_service(tmp_path_factory, make_db_url) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(db_url=make_db_url("sqlite"), data_dir=tmp_path_factory.mktemp("relay-svc"))
    svc.start(worker="embedded")
    svc.world = build_world(svc)  # type: ignore[attr-defined]
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture
def jupyter_for(tmp_path, relay_service) -> Iterator:
    started: list[JupyterServer] = []

    def start(
        who: str | None = None,
        *,
        env: dict[str, str] | None = None,
        service_url: str | None = None,
        args: tuple[str, ...] = (),
    ) -> JupyterServer:
        full_env = dict(env or {})
        if who is not None:
            full_env["GRADER_API_TOKEN"] = relay_service.world.tokens[who]
        server = JupyterServer(
            tmp_path / f"home-{who or 'x'}-{len(started)}", service_url or relay_service.url, full_env, *args
        )
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()

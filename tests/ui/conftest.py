"""Fixtures of the browser tests: a real service with its embedded worker and the demo assignment, real
JupyterLab servers with the extension and the relay, and Debian's Chromium driven by Playwright.

- ``demo_service`` (module): the grader service on SQLite, the demo lecture seeded, its assignment generated
  from the demo source notebook, released, with a deadline, a late period and three submissions allowed;
  ``demo_service.demo`` holds the ids and the users' tokens.
- ``lab_for`` (function): ``lab_for("student1")`` starts JupyterLab (``jupyter server`` loads it) with the
  relay, that user's grader token and an empty home; stopped after the test.
- ``browser`` (module): Chromium from /usr/bin/chromium (never ``playwright install``).
- ``page`` (function): a fresh page (1280x860) that records every console error and uncaught exception;
  the test fails when there is one.
- ``shot(page, name)``: a screenshot into docs/ui/<name>.png.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from grader_service.demo_notebook import demo_source_notebook
from grader_service.git.names import RepoRef
from grader_service.services.demo import seed_demo
from tests.support.jupyter import JupyterServer
from tests.support.server import ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "ui"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# JupyterLab's news plugin asks whether to fetch jupyter.org's feed (a toast over the screenshots)
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def seed_and_release(svc: ServiceProcess) -> dict[str, Any]:
    """The demo lecture as `grader-service demo` makes it, plus a deadline, a late period and a limit."""
    with svc.db.session() as session:
        demo = seed_demo(session, svc.app.limits)
        session.commit()
    lid, aid = demo["lecture"]["id"], demo["assignment"]["id"]
    teacher = demo["users"]["instructor"]["token"]
    svc.store.commit_tree(
        RepoRef(demo["lecture"]["code"], str(aid), "source"),
        {"assignment1.ipynb": demo_source_notebook()},
        "Demo assignment source",
    )
    base = f"/api/lectures/{lid}/assignments/{aid}"
    job = svc.request("POST", base + "/generate", token=teacher).json()
    done = svc.wait_for(
        lambda: (
            (j := svc.request("GET", f"/api/lectures/{lid}/jobs/{job['id']}", token=teacher).json())["state"]
            in ("succeeded", "failed")
            and j
        )
    )
    assert done["state"] == "succeeded", done
    deadline = (datetime.now(UTC) + timedelta(days=2, hours=5)).isoformat()
    r = svc.request(
        "PATCH",
        base,
        token=teacher,
        json={
            "status": "released",
            "deadline": deadline,
            "late_periods": [{"period": "P1D", "scaling": 0.5}],
            "max_submissions": 3,
        },
    )
    assert r.status_code == 200, r.text
    return {"lecture_id": lid, "assignment_id": aid, "code": demo["lecture"]["code"], "users": demo["users"]}


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory, make_db_url) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(db_url=make_db_url("sqlite"), data_dir=tmp_path_factory.mktemp("ui-svc"))
    svc.start(worker="embedded")
    try:
        svc.demo = seed_and_release(svc)  # type: ignore[attr-defined]
        yield svc
    finally:
        svc.stop()


@pytest.fixture
def lab_for(tmp_path, demo_service) -> Iterator:
    started: list[JupyterServer] = []

    def start(who: str) -> JupyterServer:
        token = demo_service.demo["users"][who]["token"]
        home = tmp_path / f"home-{who}"
        labconfig = home / ".jupyter" / "labconfig"
        labconfig.mkdir(parents=True)
        (labconfig / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
        server = JupyterServer(home, demo_service.url, {"GRADER_API_TOKEN": token})
        started.append(server.start())
        return server.wait()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's chromium: apt-get install chromium (test.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class ConsoleErrors(list):
    def check(self) -> None:
        assert not self, "browser console errors:\n" + "\n".join(self)


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors = ConsoleErrors()

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            errors.append(f"console: {msg.text} at {msg.location.get('url')}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.console_errors = errors
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()
    errors.check()


def shot(page: Any, name: str, **kw: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)  # let transitions settle
    page.screenshot(path=str(SHOTS / f"{name}.png"), **kw)


def poll(fn: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"not reached within {timeout}s: {fn()}")

"""The same extension reached as a newcomer does: JupyterHub (examples/jupyterhub/jupyterhub_config.py)
logs the student in at the grader service's login page, spawns JupyterLab, and the student opens the
assignments from the command palette and fetches the demo assignment. Any browser console error fails it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.jupyter import Hub
from tests.support.server import ServiceProcess, free_port
from tests.ui.conftest import PAGE_CONFIG, seed_and_release, shot

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "jupyterhub" / "jupyterhub_config.py"
SECRET = "ui-hub-oauth-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def hub_stack(tmp_path_factory, make_db_url) -> Iterator[tuple[ServiceProcess, Hub]]:
    hub_port = free_port()
    svc = ServiceProcess(
        db_url=make_db_url("sqlite"),
        data_dir=tmp_path_factory.mktemp("ui-hub-grader"),
        authenticator_class="grader_service.auth.authenticators.DevAuthenticator",
        oauth_clients=[
            {
                "client_id": "jupyterhub",
                "client_secret": SECRET,
                "name": "JupyterHub",
                "redirect_uri": f"http://127.0.0.1:{hub_port}/hub/oauth_callback",
                "skip_consent": True,
            }
        ],
    )
    svc.start(worker="embedded")
    svc.demo = seed_and_release(svc)  # type: ignore[attr-defined]
    hub = Hub(
        CONFIG,
        tmp_path_factory.mktemp("ui-hub"),
        {"GRADER_URL": svc.url, "GRADER_OAUTH_CLIENT_SECRET": SECRET, "HUB_PORT": str(hub_port)},
    )
    hub.port, hub.url = hub_port, f"http://127.0.0.1:{hub_port}"
    labconfig = hub.data_dir / "homes" / "student1" / ".jupyter" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
    try:
        hub.start()
        yield svc, hub
    finally:
        hub.stop()
        svc.stop()


def test_student_logs_in_through_the_hub_and_fetches_from_the_palette(hub_stack, page):
    svc, hub = hub_stack
    page.goto(hub.url)
    page.wait_for_selector("input[name=username]")
    assert page.url.startswith(svc.url + "/login")
    page.fill("input[name=username]", "student1")
    shot(page, "09-hub-login")
    page.locator("form button[type=submit], form input[type=submit]").first.click()

    page.wait_for_selector(".jp-Launcher", timeout=120_000)
    assert page.url.startswith(f"{hub.url}/user/student1/lab"), page.url
    page.wait_for_function("document.body.dataset.graderLabextension === 'activated'")

    page.keyboard.press("Control+Shift+c")
    page.fill(".lm-CommandPalette-input", "Assignments")
    page.locator(".lm-CommandPalette-item", has_text="Assignments").first.click()
    card = page.locator(".jp-GraderAssignment", has_text="Assignment 1: Python basics")
    card.locator("[data-status='not-fetched']").wait_for()
    page.get_by_role("button", name="Fetch Assignment 1: Python basics").click()
    card.locator("[data-status='fetched']").wait_for()
    page.wait_for_selector(".jp-DirListing-item:has-text('assignment1.ipynb')")
    assert (hub.data_dir / "homes" / "student1" / "demo101" / "Assignment_1_Python_basics").is_dir()
    shot(page, "10-hub-lab-fetched")

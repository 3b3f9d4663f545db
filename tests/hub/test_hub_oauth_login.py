"""A real JupyterHub (examples/jupyterhub/jupyterhub_config.py: GenericOAuthenticator, local process spawner,
the Python proxy) logs a student in through the grader service's OAuth2 provider, spawns a real single-user
server with the relay, and through the relay the student lists lectures, fetches, edits, submits and sees the
submission graded. The redirect sequence of the login is checked against docs/oauth-flow.md."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.jupyter import Hub
from tests.support.notebooks import answer_release
from tests.support.oauth_browser import Browser
from tests.support.server import ServiceProcess, free_port
from tests.support.world import build_world
from tests.tasks.test_embedded_pipeline import author_and_release

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "jupyterhub" / "jupyterhub_config.py"
DOC = ROOT / "docs" / "oauth-flow.md"
SECRET = "hub-oauth-secret-0123456789abcdef"
#: query values that are the same in every run (others are shown as <name>)
STABLE = {"response_type", "client_id", "code_challenge_method", "redirect_uri", "scope"}


def normalise(url: str | None, origins: dict[str, str]) -> str:
    """An URL with the run's origins replaced by {hub}/{grader} and volatile query values by <name>."""
    if url is None:
        return "-"
    for origin, name in origins.items():
        url = url.replace(origin, name)
    parts = urlsplit(url)
    shown = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in STABLE:
            for origin, name in origins.items():
                value = value.replace(origin, name)
            shown.append(f"{key}={value}")
        elif key == "next":
            shown.append(f"next={normalise(value, origins).split('?')[0]}")
        else:
            shown.append(f"{key}=<{key}>")
    return parts.path + ("?" + "&".join(shown) if shown else "")


def recorded_sequence() -> list[str]:
    text = DOC.read_text()
    block = re.search(r"```text oauth-sequence\n(.*?)```", text, re.S)
    assert block, "docs/oauth-flow.md has no ```text oauth-sequence block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, make_db_url):
    hub_port = free_port()
    svc = ServiceProcess(
        db_url=make_db_url("sqlite"),
        data_dir=tmp_path_factory.mktemp("hub-grader"),
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
    hub = Hub(
        CONFIG, tmp_path_factory.mktemp("hub"), {"GRADER_URL": svc.url, "GRADER_OAUTH_CLIENT_SECRET": SECRET}
    )
    hub.port, hub.url = hub_port, f"http://127.0.0.1:{hub_port}"
    hub.env["HUB_PORT"] = str(hub_port)
    try:
        hub.start()
        yield svc, hub
    finally:
        hub.stop()
        svc.stop()


def test_student_logs_in_through_the_grader_and_works_through_the_relay(stack, tmp_path):
    svc, hub = stack
    w = build_world(svc)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Squares"}).json()["id"]
    author_and_release(w, tmp_path, aid)
    student = w.names["student"]

    # -- login: hub → grader login page → grader authorize → hub callback (every hop recorded) --
    browser = Browser()
    page = browser.get(hub.url + "/hub/login")
    assert page.url.startswith(svc.url + "/login") and "Sign in to the Grader Service" in page.text
    landed = browser.submit(
        page,
        {"username": student, "password": ""},
        stop=lambda loc: "/spawn" in loc or loc.rstrip("/").endswith("/hub/home"),
    )
    origins = {hub.url: "{hub}", svc.url: "{grader}"}
    seen = [
        f"{s.method} {normalise(s.url, origins)} -> {s.status} {normalise(s.location, origins)}"
        for s in browser.steps
    ]
    assert seen == recorded_sequence(), "\n".join(seen)
    assert "grader-session" in browser.http.cookies
    assert landed.headers["Location"] == "/hub/spawn"

    # -- the Hub spawns the student's server (GET /hub/spawn, as a browser would); reach the relay --
    browser.follow(landed)
    user_url = f"{hub.url}/user/{student}"
    deadline = time.monotonic() + 60
    while True:
        status = browser.get(f"{user_url}/grader/status")
        if status.status_code == 200 and status.url.startswith(user_url):
            break
        assert time.monotonic() < deadline, f"relay not reachable: {status.status_code} {status.url}"
        if status.status_code == 403 and status.url.startswith(user_url):
            # the server runs, but API routes answer 403 instead of redirecting to a login: open a page
            # (as JupyterLab would be) so the server logs the browser in with the Hub (OAuth), then retry
            browser.get(f"{user_url}/files/")
            continue
        assert time.monotonic() < deadline, f"relay not reachable: {status.status_code} {status.url}"
        time.sleep(0.5)
    assert status.json()["authenticated"] is True and status.json()["user"] == student
    assert status.json()["token_source"] == "env"  # GRADER_API_TOKEN from the auth state hook

    # -- through the relay: list lectures, fetch, edit on disk, submit, see the submission graded --
    server_xsrf = browser.http.cookies.get("_xsrf", path=f"/user/{student}/")
    post = {"headers": {"X-XSRFToken": server_xsrf}}
    lectures = browser.get(f"{user_url}/grader/api/lectures").json()
    assert w.lecture_code in [lec["code"] for lec in lectures]
    assignments = browser.get(f"{user_url}/grader/api/lectures/{w.lecture_id}/assignments").json()
    assert "Squares" in [a["name"] for a in assignments]
    act = f"{user_url}/grader/lectures/{w.lecture_id}/assignments/{aid}"
    fetched = browser.request("POST", f"{act}/fetch", **post)
    assert fetched.status_code == 200, fetched.text
    home = hub.data_dir / "homes" / student
    nb = home / fetched.json()["path"] / "squares.ipynb"
    answer_release(nb, nb)
    submitted = browser.request("POST", f"{act}/submit", **post)
    assert submitted.status_code == 201, submitted.text
    sub_id = submitted.json()["id"]
    path = f"{user_url}/grader/api/lectures/{w.lecture_id}/assignments/{aid}/submissions/{sub_id}"
    deadline = time.monotonic() + 90
    while (sub := browser.get(path).json())["auto_status"] in ("pending", "running"):
        assert time.monotonic() < deadline, sub
        time.sleep(0.5)
    assert sub["auto_status"] == "automatically_graded" and sub["auto_score"] == 3.0, sub
    mine = browser.get(f"{user_url}/grader/api/lectures/{w.lecture_id}/assignments/{aid}/submissions").json()
    assert [s["id"] for s in mine] == [sub_id]

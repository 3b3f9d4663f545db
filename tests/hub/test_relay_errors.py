"""The relay's error mapping (the service's errors unchanged; its own as JSON 502/503/504), jupyter-server
authentication on every route, and the grader token absent from logs, files and messages."""

from __future__ import annotations

import socket

import requests

from tests.support.server import free_port


def test_service_answers_and_errors_pass_through_unchanged(relay_service, jupyter_for):
    w = relay_service.world
    server = jupyter_for("student").wait()
    direct = w.req("student", "GET", "/api/lectures")
    relayed = server.request("GET", "grader/api/lectures")
    assert relayed.status_code == 200 and relayed.json() == direct.json()
    for method, path, body in [
        ("GET", f"{w.lecture_path}/assignments/{w.unreleased_id}", None),  # 404 hidden
        ("PATCH", w.released_path, {"points": 1}),  # 403 student
        ("POST", w.lecture_path + "/assignments", {"name": ""}),  # 403 before validation
        ("GET", "/api/nope", None),  # 404 unknown route
        ("POST", f"{w.released_path}/submissions", {"commit": "xyz"}),  # 400 naming the field
    ]:
        d = w.req("student", method, path, json=body)
        r = server.request(method, "grader" + path, json=body)
        assert (r.status_code, r.json()) == (d.status_code, d.json()), (method, path)
        assert r.status_code >= 400 and r.json()["message"]
    # query strings are relayed too
    r = server.request("GET", f"grader{w.lecture_path}/members?role=king")
    assert r.status_code == 403 or r.json().get("field") == "role"


def test_unreachable_slow_and_tokenless_services_get_json_errors(relay_service, jupyter_for):
    closed = f"http://127.0.0.1:{free_port()}"
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(16)  # accepts connections (kernel backlog) and never answers
    slow_url = f"http://127.0.0.1:{hang.getsockname()[1]}"
    try:
        down = jupyter_for("student", service_url=closed)
        slow = jupyter_for("student", service_url=slow_url, args=("--GraderRelay.request_timeout=1",))
        none = jupyter_for(None)
        for s in (down, slow, none):
            s.wait()
        r = down.request("GET", "grader/api/lectures")
        assert r.status_code == 502 and r.json() == {
            "status": 502,
            "message": f"the grader service at {closed} cannot be reached",
        }
        r = slow.request("GET", "grader/api/lectures")
        assert r.status_code == 504 and r.json()["message"] == "the grader service did not answer within 1 s"
        r = none.request("GET", "grader/api/lectures")
        assert r.status_code == 503 and "GRADER_API_TOKEN" in r.json()["message"]
        status = down.request("GET", "grader/status").json()
        assert status["authenticated"] is False and "cannot be reached" in status["service"]
    finally:
        hang.close()


def test_every_relay_route_needs_jupyter_authentication(relay_service, jupyter_for):
    server = jupyter_for("student").wait()
    w = relay_service.world
    for method, path in [
        ("GET", "grader/status"),
        ("GET", "grader/api/lectures"),
        ("POST", f"grader/lectures/{w.lecture_id}/assignments/{w.released_id}/fetch"),
        ("POST", f"grader/lectures/{w.lecture_id}/assignments/{w.released_id}/submit"),
    ]:
        r = requests.request(method, f"{server.url}/{path}", timeout=30)
        assert r.status_code in (401, 403), (path, r.status_code)
        r = requests.request(
            method, f"{server.url}/{path}", headers={"Authorization": "token wrong"}, timeout=30
        )
        assert r.status_code in (401, 403), (path, r.status_code)


def test_token_is_absent_from_logs_files_and_messages(relay_service, jupyter_for):
    w = relay_service.world
    token = w.tokens["student"]
    server = jupyter_for("student").wait()
    assert server.request("GET", "grader/status").json()["authenticated"] is True
    fetched = server.request("POST", f"grader/lectures/{w.lecture_id}/assignments/{w.released_id}/fetch")
    assert fetched.status_code == 200, fetched.text
    folder = server.root / fetched.json()["path"]
    (folder / "answer.py").write_text("print(42)\n")
    submitted = server.request("POST", f"grader/lectures/{w.lecture_id}/assignments/{w.released_id}/submit")
    assert submitted.status_code == 201, submitted.text
    # failures whose messages come from git and from the service
    missing = server.request(
        "POST", f"grader/lectures/{w.lecture_id}/assignments/{w.released_id}/source/pull"
    )
    assert missing.status_code == 404 and "git clone failed" in missing.json()["message"]
    assert token not in missing.text
    hidden = server.request("POST", f"grader/lectures/{w.lecture_id}/assignments/{w.unreleased_id}/fetch")
    assert hidden.status_code == 404 and token not in hidden.text
    server.stop()
    log = server.log.read_bytes()
    assert b"grader relay: POST /api/lectures" in log  # the relay logs what it does...
    assert token.encode() not in log  # ...never with the token
    for path in server.root.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"token written to {path}"
    config = (folder / ".git" / "config").read_text()
    assert "url = " + relay_service.url in config and "@" not in config.split("url = ")[1].splitlines()[0]

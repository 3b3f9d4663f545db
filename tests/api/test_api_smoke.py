"""Basic reads over HTTP against the running service, on SQLite and PostgreSQL."""

from __future__ import annotations


def test_health_and_version(service):
    r = service.request("GET", "/api/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}
    assert service.request("GET", "/api/version").json()["version"]


def test_whoami_lists_my_lectures_and_roles(lecture_world):
    r = lecture_world.req("tutor", "GET", "/api/user")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == lecture_world.names["tutor"]
    assert body["admin"] is False
    assert [(lec["id"], lec["role"]) for lec in body["lectures"]] == [(lecture_world.lecture_id, "tutor")]

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


def test_token_checks_do_not_write_on_every_request(lecture_world):
    from sqlalchemy import select

    from grader_service.auth.tokens import hash_token
    from grader_service.orm.models import ApiToken

    w = lecture_world

    def last_used():
        with w.service.db.session() as s:
            return s.scalar(
                select(ApiToken.last_used).where(ApiToken.hashed == hash_token(w.tokens["tutor"]))
            )

    assert last_used() is None
    w.req("tutor", "GET", "/api/user")
    first = last_used()
    assert first is not None
    for _ in range(5):
        w.req("tutor", "GET", "/api/user")
    assert last_used() == first


def test_authorization_schemes(lecture_world):
    import base64

    w = lecture_world
    token = w.tokens["student"]
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    for header in (f"token {token}", f"Bearer {token}", f"Basic {basic}"):
        r = w.service.request("GET", "/api/user", headers={"Authorization": header})
        assert r.status_code == 200 and r.json()["name"] == w.names["student"]
    r = w.service.request("GET", "/api/user", headers={"Authorization": "token wrong"})
    assert r.status_code == 401 and "invalid" in r.json()["message"]
    r = w.service.request("GET", "/api/user", headers={"Authorization": "Basic !!!"})
    assert r.status_code == 401

"""Per-student deadline extensions over HTTP: the cut-off and late scaling use the student's own deadline,
changing it rescales only that student's submissions, and bad input writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.grading import give_score


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def _late_assignment(w) -> None:  # type: ignore[no-untyped-def]
    """The deadline passed 2 hours ago; hand-ins up to 1 hour late count half, later ones are refused."""
    r = w.req(
        "instructor",
        "PATCH",
        w.released_path,
        json={"deadline": _iso(-timedelta(hours=2)), "late_periods": [{"period": "PT1H", "scaling": 0.5}]},
    )
    assert r.status_code == 200, r.text


def test_extension_moves_the_cut_off_and_the_scaling_of_that_student_only(lecture_world):
    w = lecture_world
    subs = w.released_path + "/submissions"
    ext = w.released_path + "/extensions"
    early = w.req("student2", "POST", subs, json={}).json()  # on time (no deadline yet)
    _late_assignment(w)
    assert w.req("student2", "POST", subs, json={}).status_code == 409  # past every late period
    r = w.req("instructor", "PUT", f"{ext}/{w.names['student2']}", json={"deadline": _iso(timedelta(days=1))})
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["username"] == w.names["student2"] and view["granted_by"] == w.names["instructor"]
    assert view["effective_deadline"] == view["deadline"]
    on_time = w.req("student2", "POST", subs, json={})
    assert on_time.status_code == 201 and on_time.json()["late_scaling"] == 1.0
    # the other student keeps the assignment's deadline
    assert w.req("student", "POST", subs, json={}).status_code == 409
    # the extension moves to 30 minutes ago: student2's later hand-in is now within the late period
    give_score(w, on_time.json()["id"], 8)
    give_score(w, w.submission_id, 6)
    other_before = w.req("tutor", "GET", f"{subs}/{w.submission_id}").json()
    assert other_before["late_scaling"] == 0.0  # `student` has no extension: too late
    r = w.req(
        "instructor", "PUT", f"{ext}/{w.names['student2']}", json={"deadline": _iso(-timedelta(minutes=30))}
    )
    assert r.status_code == 200, r.text
    moved = w.req("tutor", "GET", f"{subs}/{on_time.json()['id']}").json()
    assert moved["late_scaling"] == 0.5 and moved["final_score"] == 4
    # the first hand-in (before any deadline) is judged by the same own deadline
    assert w.req("tutor", "GET", f"{subs}/{early['id']}").json()["late_scaling"] == 0.5
    assert w.req("tutor", "GET", f"{subs}/{w.submission_id}").json() == other_before  # untouched
    # withdrawn: the hand-in is judged by the assignment's deadline again (later than every period: 0)
    assert w.req("instructor", "DELETE", f"{ext}/{w.names['student2']}").status_code == 204
    back = w.req("tutor", "GET", f"{subs}/{on_time.json()['id']}").json()
    assert back["late_scaling"] == 0.0 and back["final_score"] == 0 and back["score"] == 8
    assert w.req("tutor", "GET", ext).json() == []
    assert w.req("instructor", "DELETE", f"{ext}/{w.names['student2']}").status_code == 404


def test_an_assignment_deadline_change_keeps_each_students_extension(lecture_world):
    w = lecture_world
    subs = w.released_path + "/submissions"
    ext = w.released_path + "/extensions"
    w.req("instructor", "PATCH", w.released_path, json={"deadline": _iso(timedelta(days=1))})
    w.req("instructor", "PUT", f"{ext}/{w.names['student2']}", json={"deadline": _iso(timedelta(days=3))})
    sub = w.req("student2", "POST", subs, json={}).json()
    give_score(w, sub["id"], 10)
    # the assignment's deadline moves into the past: student2 still has their own, later one
    w.req("instructor", "PATCH", w.released_path, json={"deadline": _iso(-timedelta(days=1))})
    assert w.req("tutor", "GET", f"{subs}/{sub['id']}").json()["late_scaling"] == 1.0
    assert w.req("tutor", "GET", f"{subs}/{w.submission_id}").json()["late_scaling"] == 0.0
    # an assignment deadline past the extension wins (an extension never shortens)
    w.req("instructor", "PATCH", w.released_path, json={"deadline": _iso(timedelta(days=5))})
    listed = w.req("tutor", "GET", ext).json()
    assert [e["username"] for e in listed] == [w.names["student2"]]
    assert listed[0]["effective_deadline"] == listed[0]["assignment_deadline"]


def test_who_reads_and_writes_extensions(lecture_world):
    w = lecture_world
    ext = w.released_path + "/extensions"
    w.req("instructor", "PATCH", w.released_path, json={"deadline": _iso(timedelta(days=1))})
    body = {"deadline": _iso(timedelta(days=2))}
    assert w.req("tutor", "PUT", f"{ext}/{w.names['student']}", json=body).status_code == 403
    assert w.req("instructor", "PUT", f"{ext}/{w.names['student']}", json=body).status_code == 201
    assert w.req("student", "GET", f"{ext}/{w.names['student']}").status_code == 200
    assert w.req("student2", "GET", f"{ext}/{w.names['student']}").status_code == 404  # not theirs
    assert w.req("student2", "GET", f"{ext}/{w.names['student2']}").status_code == 404  # none granted
    assert w.req("student", "GET", ext).status_code == 403
    assert w.req("tutor", "GET", f"{ext}/{w.names['student']}").status_code == 200
    # the student sees their own deadline on the assignment; nobody else does
    mine = w.req("student", "GET", w.released_path).json()
    assert (
        mine["extended_deadline"] == w.req("student", "GET", f"{ext}/{w.names['student']}").json()["deadline"]
    )
    listed = w.req("student", "GET", w.lecture_path + "/assignments").json()
    assert [a.get("extended_deadline") for a in listed] == [mine["extended_deadline"]]
    assert "extended_deadline" not in w.req("student2", "GET", w.released_path).json()


def test_bad_input_names_the_field_and_writes_nothing(lecture_world):
    w = lecture_world
    ext = w.released_path + "/extensions"
    user = f"{ext}/{w.names['student']}"
    r = w.req("instructor", "PUT", user, json={"deadline": _iso(timedelta(days=2))})
    assert r.status_code == 409 and "no deadline" in r.json()["message"]  # nothing to extend yet
    w.req("instructor", "PATCH", w.released_path, json={"deadline": _iso(timedelta(days=1))})
    cases = [
        ({}, "deadline"),
        ({"deadline": None}, "deadline"),
        ({"deadline": 12}, "deadline"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"deadline": "2999-01-01T00:00:00"}, "deadline"),  # no UTC offset: ambiguous
        ({"deadline": _iso(-timedelta(days=1))}, "deadline"),  # before the assignment's deadline
        ({"deadline": _iso(timedelta(days=2)), "reason": "ill"}, "reason"),
    ]
    for body, field in cases:
        r = w.req("instructor", "PUT", user, json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["field"] == field and field in r.json()["message"], r.json()
    assert w.req("instructor", "PUT", user, data="[").status_code == 400
    assert (
        w.req(
            "instructor", "PUT", f"{ext}/nobody-here", json={"deadline": _iso(timedelta(days=2))}
        ).status_code
        == 404
    )
    outsider = f"{ext}/{w.names['outsider']}"  # a member of another lecture only
    assert w.req("instructor", "PUT", outsider, json={"deadline": _iso(timedelta(days=2))}).status_code == 404
    assert w.req("instructor", "DELETE", user, json={"x": 1}).status_code == 400
    assert w.req("tutor", "GET", ext).json() == []


def test_the_openapi_document_describes_the_answers():
    """The extension and bulk routes document their answers with their models, not an empty schema."""
    import json

    from grader_service.api.health import OPENAPI_PATH

    doc = json.loads(OPENAPI_PATH.read_text())
    a = "/api/lectures/{lecture_id}/assignments/{assignment_id}"
    for path, method, code in [
        (a + "/extensions", "get", "200"),
        (a + "/extensions/{username}", "get", "200"),
        (a + "/extensions/{username}", "put", "201"),
        (a + "/autograde", "post", "202"),
    ]:
        schema = doc["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]
        assert schema, (path, method)
    bulk = doc["components"]["schemas"]["BulkAutogradeJob"]
    assert {"id", "state", "result"} <= set(bulk["required"])
    assert "effective_deadline" in doc["components"]["schemas"]["ExtensionView"]["properties"]

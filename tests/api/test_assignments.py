"""Assignments over HTTP: visibility, settings, clamping, status transitions, soft delete."""

from __future__ import annotations


def test_students_never_see_unreleased_assignments(lecture_world):
    w = lecture_world
    path = w.lecture_path + "/assignments"
    assert sorted(a["id"] for a in w.req("tutor", "GET", path).json()) == sorted(
        [w.released_id, w.unreleased_id]
    )
    assert [a["id"] for a in w.req("student", "GET", path).json()] == [w.released_id]


def test_create_with_every_setting(lecture_world):
    w = lecture_world
    body = {
        "name": "Project",
        "assignment_type": "Exam",
        "points": 42.5,
        "deadline": "2031-03-01T12:00:00+01:00",
        "late_periods": [{"period": "P1D", "scaling": 0.8}, {"period": "P1W", "scaling": 0.5}],
        "max_submissions": 3,
        "cell_timeout": 45,
        "allowed_files": ["*.ipynb", "data/*.csv"],
    }
    r = w.req("instructor", "POST", w.lecture_path + "/assignments", json=body)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["status"] == "created"
    assert a["deadline"] == "2031-03-01T11:00:00+00:00"
    for key in (
        "assignment_type",
        "points",
        "late_periods",
        "max_submissions",
        "cell_timeout",
        "allowed_files",
    ):
        assert a[key] == body[key]
    assert w.req("student", "GET", w.lecture_path + f"/assignments/{a['id']}").status_code == 404
    r = w.req("instructor", "PATCH", w.lecture_path + f"/assignments/{a['id']}", json={"status": "released"})
    assert r.status_code == 409 and "generate" in r.json()["message"]
    # what a successful generate job leaves behind (the real job is tested in tests/tasks)
    from grader_service.orm.models import Assignment

    with w.service.db.session() as s:
        s.get(Assignment, a["id"]).release_commit = "f" * 40
        s.commit()
    r = w.req("instructor", "PATCH", w.lecture_path + f"/assignments/{a['id']}", json={"status": "released"})
    assert r.json()["status"] == "released"
    assert w.req("student", "GET", w.lecture_path + f"/assignments/{a['id']}").json()["name"] == "Project"


def test_cell_timeout_is_clamped_to_configured_bounds(lecture_world):
    w = lecture_world
    r = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "T", "cell_timeout": 5000})
    assert r.json()["cell_timeout"] == 600
    assert (
        w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "D"}).json()[
            "cell_timeout"
        ]
        == 30
    )


def test_patch_clears_deadline_with_null_and_keeps_unsent_fields(lecture_world):
    w = lecture_world
    path = w.released_path
    w.req("instructor", "PATCH", path, json={"deadline": "2031-01-01T00:00:00Z", "max_submissions": 2})
    r = w.req("instructor", "PATCH", path, json={"deadline": None})
    assert r.json()["deadline"] is None and r.json()["max_submissions"] == 2


def test_status_transitions(lecture_world):
    w = lecture_world
    path = w.released_path
    r = w.req("instructor", "PATCH", path, json={"status": "created"})
    assert r.status_code == 409 and "submissions" in r.json()["message"]
    assert w.req("instructor", "PATCH", path, json={"status": "closed"}).json()["status"] == "closed"
    assert w.req("instructor", "PATCH", path, json={"status": "released"}).json()["status"] == "released"
    unreleased = w.lecture_path + f"/assignments/{w.unreleased_id}"
    r = w.req("instructor", "PATCH", unreleased, json={"status": "closed"})
    assert r.status_code == 409 and r.json()["field"] == "status"


def test_delete_refused_with_submissions(lecture_world):
    w = lecture_world
    assert w.req("instructor", "DELETE", w.released_path).status_code == 409
    assert (
        w.req("instructor", "DELETE", w.lecture_path + f"/assignments/{w.unreleased_id}").status_code == 204
    )
    assert w.req("instructor", "GET", w.lecture_path + f"/assignments/{w.unreleased_id}").status_code == 404
    assert w.req("admin", "DELETE", w.released_path + "?force=true").status_code == 204

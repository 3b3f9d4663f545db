"""Lectures and members over HTTP: listing, creation, archive, soft delete with its 409 rule, bulk members."""

from __future__ import annotations

import uuid


def test_admin_creates_lecture_and_instructor_manages_it(service, lecture_world):
    w = lecture_world
    code = f"ml-{uuid.uuid4().hex[:6]}"
    r = w.req("admin", "POST", "/api/lectures", json={"code": code, "name": "Machine Learning"})
    assert r.status_code == 201
    lec = r.json()
    assert lec["code"] == code and lec["status"] == "active"
    assert w.req("admin", "POST", "/api/lectures", json={"code": code, "name": "again"}).status_code == 409

    path = f"/api/lectures/{lec['id']}"
    r = w.req(
        "admin",
        "POST",
        path + "/members",
        json=[
            {"username": w.names["instructor"], "role": "instructor"},
            {"username": f"fresh-{code}", "role": "student", "display_name": "Fresh Student"},
        ],
    )
    assert r.status_code == 200
    assert {m["username"]: m["role"] for m in r.json()} == {
        w.names["instructor"]: "instructor",
        f"fresh-{code}": "student",
    }
    # the instructor now sees it among their lectures, with their role
    mine = {x["id"]: x["role"] for x in w.req("instructor", "GET", "/api/lectures").json()}
    assert mine[lec["id"]] == "instructor"
    r = w.req("instructor", "PATCH", path, json={"name": "ML 2", "status": "archived"})
    assert r.status_code == 200 and r.json()["name"] == "ML 2" and r.json()["status"] == "archived"
    listed = {x["id"] for x in w.req("instructor", "GET", "/api/lectures?include_archived=false").json()}
    assert lec["id"] not in listed


def test_members_bulk_update_role_filter_and_removal(lecture_world):
    w = lecture_world
    path = w.lecture_path + "/members"
    r = w.req("instructor", "POST", path, json=[{"username": w.names["student2"], "role": "tutor"}])
    assert r.status_code == 200
    tutors = w.req("tutor", "GET", path + "?role=tutor").json()
    assert sorted(m["username"] for m in tutors) == sorted([w.names["tutor"], w.names["student2"]])
    students = w.req("tutor", "GET", path + "?role=student").json()
    assert [m["username"] for m in students] == [w.names["student"]]
    r = w.req("instructor", "DELETE", path, json=[{"username": w.names["student2"]}])
    assert r.status_code == 200
    assert w.names["student2"] not in [m["username"] for m in r.json()]
    # the removed member can no longer see the lecture at all
    assert w.req("student2", "GET", w.lecture_path).status_code == 404


def test_bulk_member_change_is_all_or_nothing(lecture_world):
    w = lecture_world
    path = w.lecture_path + "/members"
    before = w.req("instructor", "GET", path).json()
    r = w.req("instructor", "DELETE", path, json=[{"username": w.names["student2"]}, {"username": "ghost-x"}])
    assert r.status_code == 400 and r.json()["field"] == "[1].username"
    assert w.req("instructor", "GET", path).json() == before


def test_lecture_delete_refused_with_submissions_unless_admin_forces(lecture_world):
    w = lecture_world
    r = w.req("instructor", "DELETE", w.lecture_path)
    assert r.status_code == 409 and "submissions" in r.json()["message"]
    assert w.req("instructor", "DELETE", w.lecture_path + "?force=true").status_code == 403
    assert w.req("instructor", "GET", w.lecture_path).status_code == 200
    assert w.req("admin", "DELETE", w.lecture_path + "?force=true").status_code == 204
    assert w.req("instructor", "GET", w.lecture_path).status_code == 404
    assert w.req("admin", "GET", w.lecture_path).status_code == 404
    ids = [x["id"] for x in w.req("admin", "GET", "/api/lectures").json()]
    assert w.lecture_id not in ids
    # the submission rows are kept (nothing a student submitted is lost)
    from sqlalchemy import select

    from grader_service.orm.models import Submission

    with w.service.db.session() as s:
        assert s.scalar(select(Submission.id).where(Submission.id == w.submission_id)) == w.submission_id


def test_deleted_lecture_frees_its_code(lecture_world):
    w = lecture_world
    code = w.req("admin", "GET", w.other_lecture_id and f"/api/lectures/{w.other_lecture_id}").json()["code"]
    assert w.req("admin", "DELETE", f"/api/lectures/{w.other_lecture_id}").status_code == 204
    r = w.req("admin", "POST", "/api/lectures", json={"code": code, "name": "Reused"})
    assert r.status_code == 201


def test_get_lecture_shows_member_counts_to_staff_only(lecture_world):
    w = lecture_world
    staff = w.req("tutor", "GET", w.lecture_path).json()
    assert staff["member_counts"] == {"student": 2, "tutor": 1, "instructor": 1}
    assert "member_counts" not in w.req("student", "GET", w.lecture_path).json()

"""Submissions over HTTP: hand-in rules (release, deadline, late periods, max), listing filters, grading."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from grader_service.git.names import RepoRef
from tests.support.grading import give_score, seed_record


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def test_student_hands_in_and_sees_only_their_own(lecture_world):
    w = lecture_world
    r = w.req("student2", "POST", w.released_path + "/submissions", json={"commit": "c" * 40})
    assert r.status_code == 400 and r.json()["field"] == "commit"
    r = w.req("student2", "POST", w.released_path + "/submissions", json={})
    assert r.status_code == 201
    sub = r.json()
    user_repo = RepoRef(w.lecture_code, str(w.released_id), "user", w.names["student2"])
    assert sub["username"] == w.names["student2"] and sub["commit"] == w.service.store.head(user_repo)
    r = w.req("student2", "POST", w.released_path + "/submissions", json={"commit": sub["commit"]})
    assert r.status_code == 201 and r.json()["commit"] == sub["commit"]
    sub = r.json()
    assert sub["auto_status"] == "pending" and sub["late_scaling"] == 1.0
    mine = w.req("student2", "GET", w.released_path + "/submissions").json()
    assert len(mine) == 2 and mine[0]["id"] == sub["id"]
    everyone = w.req("tutor", "GET", w.released_path + "/submissions").json()
    assert {s["username"] for s in everyone} == {w.names["student"], w.names["student2"]}
    only = w.req("tutor", "GET", w.released_path + f"/submissions?user={w.names['student2']}").json()
    assert len(only) == 2 and only[0]["id"] == sub["id"]


def test_refused_when_not_released_or_closed(lecture_world):
    w = lecture_world
    unreleased = w.lecture_path + f"/assignments/{w.unreleased_id}/submissions"
    r = w.req("tutor", "POST", unreleased, json={})
    assert r.status_code == 409 and "not released" in r.json()["message"]
    w.req("instructor", "PATCH", w.released_path, json={"status": "closed"})
    r = w.req("student", "POST", w.released_path + "/submissions", json={})
    assert r.status_code == 409 and "closed" in r.json()["message"]


def test_deadline_and_late_periods_scale_or_refuse(lecture_world):
    w = lecture_world
    w.req(
        "instructor",
        "PATCH",
        w.released_path,
        json={
            "deadline": _iso(-timedelta(hours=2)),
            "late_periods": [{"period": "PT1H", "scaling": 0.9}, {"period": "PT12H", "scaling": 0.5}],
        },
    )
    r = w.req("student2", "POST", w.released_path + "/submissions", json={})
    assert r.status_code == 201 and r.json()["late_scaling"] == 0.5
    w.req("instructor", "PATCH", w.released_path, json={"deadline": _iso(-timedelta(days=1))})
    r = w.req("student2", "POST", w.released_path + "/submissions", json={})
    assert r.status_code == 409 and "late period" in r.json()["message"]
    w.req(
        "instructor",
        "PATCH",
        w.released_path,
        json={"late_periods": [], "deadline": _iso(-timedelta(seconds=1))},
    )
    r = w.req("student2", "POST", w.released_path + "/submissions", json={})
    assert r.status_code == 409 and "deadline" in r.json()["message"]
    w.req("instructor", "PATCH", w.released_path, json={"deadline": _iso(timedelta(days=1))})
    assert w.req("student2", "POST", w.released_path + "/submissions", json={}).status_code == 201


def test_max_submissions_holds_under_concurrency(lecture_world):
    w = lecture_world
    w.req("instructor", "PATCH", w.released_path, json={"max_submissions": 3})
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: w.req("student2", "POST", w.released_path + "/submissions", json={}).status_code,
                range(8),
            )
        )
    assert sorted(statuses) == [201] * 3 + [409] * 5
    r = w.req("student2", "POST", w.released_path + "/submissions", json={})
    assert "maximum number of submissions (3)" in r.json()["message"]
    assert len(w.req("student2", "GET", w.released_path + "/submissions").json()) == 3


def test_manual_score_filters_latest_and_best(lecture_world):
    w = lecture_world
    path = w.released_path + "/submissions"
    first = w.req("student2", "POST", path, json={}).json()
    second = w.req("student2", "POST", path, json={}).json()
    assert give_score(w, first["id"], 9).status_code == 200
    graded = w.req("tutor", "GET", f"{path}/{first['id']}").json()
    assert (
        graded["manual_status"] == "manually_graded" and graded["score"] == 9 and graded["final_score"] == 9
    )
    # neither a whole-submission score nor the feedback status can be typed in any more
    r = w.req("tutor", "PATCH", f"{path}/{second['id']}", json={"manual_score": 4})
    assert r.status_code == 400 and r.json()["field"] == "manual_score"
    r = w.req("tutor", "PATCH", f"{path}/{second['id']}", json={"feedback_status": "released"})
    assert r.status_code == 400 and r.json()["field"] == "feedback_status"
    give_score(w, second["id"], 4)
    latest = w.req("tutor", "GET", path + f"?filter=latest&user={w.names['student2']}").json()
    assert [s["id"] for s in latest] == [second["id"]]
    best = w.req("tutor", "GET", path + f"?filter=best&user={w.names['student2']}").json()
    assert [s["id"] for s in best] == [first["id"]]
    per_user = w.req("tutor", "GET", path + "?filter=latest").json()
    assert sorted(s["username"] for s in per_user) == sorted([w.names["student"], w.names["student2"]])
    assert w.req("student2", "GET", f"{path}/{second['id']}").json()["feedback_status"] == "not_generated"


def test_work_list_filters_needs_manual_and_auto_status(lecture_world):
    w = lecture_world
    path = w.released_path + "/submissions"
    waiting, marked, failed = (w.req("student2", "POST", path, json={}).json()["id"] for _ in range(3))
    seed_record(w.service, waiting)  # its manual answer 'explain' waits for a tutor
    seed_record(w.service, marked)
    r = w.req("tutor", "PATCH", f"{path}/{marked}/grading", json={"cells": {"explain": {"manual_score": 1}}})
    assert r.status_code == 200, r.text
    assert w.req("tutor", "DELETE", f"{path}/{failed}/autograde").status_code == 200

    def ids(query: str, role: str = "tutor") -> list[int]:
        listed = w.req(role, "GET", f"{path}?user={w.names['student2']}&{query}").json()
        return sorted(s["id"] for s in listed)

    assert ids("needs_manual=true") == [waiting]
    assert ids("needs_manual=false") == sorted([marked, failed])
    assert ids("auto_status=grading_failed") == [failed]
    assert ids("auto_status=automatically_graded") == sorted([waiting, marked])
    assert ids("auto_status=automatically_graded&needs_manual=false") == [marked]
    assert ids("auto_status=pending") == []
    # a student's filtered list is still only their own
    assert w.req("student", "GET", f"{path}?needs_manual=true").json() == []
    assert ids("needs_manual=true", role="student2") == [waiting]


def test_logs_for_staff(lecture_world):
    w = lecture_world
    r = w.req("tutor", "GET", w.released_path + f"/submissions/{w.submission_id}/logs")
    assert r.status_code == 200
    assert r.json() == {
        "submission_id": w.submission_id,
        "log": "graded",
        "job": {"id": w.job_id, "state": "succeeded", "error": None},
    }
    sub = w.req("student", "GET", w.released_path + f"/submissions/{w.submission_id}").json()
    assert sub["autograde"]["state"] == "succeeded" and "log" not in sub["autograde"]
    staff = w.req("tutor", "GET", w.released_path + f"/submissions/{w.submission_id}").json()
    assert staff["autograde"]["log"] == "graded"


def test_new_submission_queues_an_autograde_job_and_tutors_can_rerun_and_cancel(lecture_world):
    w = lecture_world
    sub = w.req("student2", "POST", w.released_path + "/submissions", json={}).json()
    path = w.released_path + f"/submissions/{sub['id']}"
    state = w.req("student2", "GET", path).json()["autograde"]
    assert state["state"] == "queued" and state["attempts"] == 0
    r = w.req("tutor", "POST", path + "/autograde")
    assert r.status_code == 409 and "already queued" in r.json()["message"]
    r = w.req("tutor", "DELETE", path + "/autograde")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert w.req("tutor", "GET", path).json()["auto_status"] == "grading_failed"
    assert w.req("tutor", "DELETE", path + "/autograde").status_code == 409
    r = w.req("tutor", "POST", path + "/autograde")
    assert r.status_code == 202 and r.json()["state"] == "queued"
    job = w.req("tutor", "GET", w.lecture_path + f"/jobs/{r.json()['id']}").json()
    assert job["submission_id"] == sub["id"] and job["kind"] == "autograde"
    assert w.req("tutor", "GET", w.lecture_path + "/jobs/999999999").status_code == 404


def test_no_state_change_on_get(lecture_world):
    w = lecture_world
    before = w.req("tutor", "GET", w.released_path + "/submissions").json()
    for _ in range(3):
        w.req("student", "GET", w.released_path + f"/submissions/{w.submission_id}")
    assert w.req("tutor", "GET", w.released_path + "/submissions").json() == before


def test_deadline_change_rescales_existing_submissions(lecture_world):
    w = lecture_world
    path = w.released_path + "/submissions"
    sub = w.req("student2", "POST", path, json={}).json()
    give_score(w, sub["id"], 8)
    # the deadline moves to before the hand-in: the late table now applies to it
    w.req(
        "instructor",
        "PATCH",
        w.released_path,
        json={"deadline": _iso(-timedelta(minutes=30)), "late_periods": [{"period": "PT1H", "scaling": 0.5}]},
    )
    got = w.req("tutor", "GET", f"{path}/{sub['id']}").json()
    assert got["late_scaling"] == 0.5 and got["score"] == 8 and got["final_score"] == 4
    # later than every period: it stays, and counts 0
    w.req(
        "instructor",
        "PATCH",
        w.released_path,
        json={"late_periods": [], "deadline": _iso(-timedelta(hours=2))},
    )
    got = w.req("tutor", "GET", f"{path}/{sub['id']}").json()
    assert got["late_scaling"] == 0.0 and got["final_score"] == 0
    # and back: nothing was lost
    w.req("instructor", "PATCH", w.released_path, json={"deadline": None})
    got = w.req("tutor", "GET", f"{path}/{sub['id']}").json()
    assert got["late_scaling"] == 1.0 and got["final_score"] == 8

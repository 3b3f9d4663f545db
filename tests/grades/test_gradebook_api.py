"""The gradebook REST API end to end on SQLite and PostgreSQL: reads, filters, cursors, bulk overrides with
history, grading policy with its batch recompute, lecture grades, staleness, regrade and the CSV report."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from grader_service.orm.grades import LectureGrade
from grader_service.orm.models import Job, JobState, Lecture, Submission
from grader_service.services.users import get_or_create_user
from tests.support.grading import give_score
from tests.support.world import LectureWorld, build_world

POLICY = {
    "GRADER": [{"type": "Homework", "min_count": 2, "drop_count": 0, "weight": 1.0, "short_label": "HW"}],
    "GRADE_CUTOFFS": {"A": 0.8, "B": 0.35},
}


def grade(world: LectureWorld, who: str, score: float, inline: Any) -> None:
    r = give_score(world, world.submission_id, score)
    assert r.status_code == 200, r.text
    inline.drain()


def submit_scored(world: LectureWorld, who: str, score: float, inline: Any) -> None:
    r = world.req(who, "POST", world.released_path + "/submissions", json={})
    assert r.status_code == 201, r.text
    r = give_score(world, r.json()["id"], score)
    assert r.status_code == 200, r.text
    inline.drain()


def gradebook(world: LectureWorld, query: str = "", who: str = "tutor") -> dict[str, Any]:
    r = world.req(who, "GET", f"{world.lecture_path}/gradebook{query}")
    assert r.status_code == 200, r.text
    return r.json()


def enable_writable(world: LectureWorld) -> None:
    r = world.req("instructor", "PUT", world.lecture_path + "/gradebook/settings", json={"writable": True})
    assert r.status_code == 200 and r.json() == {"writable": True}


def test_manual_grade_flows_into_the_gradebook(service, inline):
    world = build_world(service)
    grade(world, "student", 8, inline)
    one = gradebook(world, f"?username={world.names['student']}")
    assert (one["percent"], one["letter"], one["passed"]) == (0.8, "Pass", True)
    assert one["passed_timestamp"] is not None
    [hw] = one["section_breakdown"]  # the unreleased assignment is not counted
    assert hw == {
        "assignment_id": world.released_id,
        "name": "HW 1",
        "category": "Homework",
        "label": "HW",
        "attempted": True,
        "percent": 0.8,
        "score_earned": 8.0,
        "score_possible": 10.0,
        "overridden": False,
    }
    other = gradebook(world, f"?username={world.names['student2']}")
    assert other["percent"] == 0.0 and other["letter"] == "" and other["passed"] is False
    assert other["section_breakdown"][0]["attempted"] is False
    assert (
        other["section_breakdown"][0]["score_earned"],
        other["section_breakdown"][0]["score_possible"],
    ) == (0, 0)
    assert (
        world.req(
            "tutor", "GET", f"{world.lecture_path}/gradebook?username={world.names['outsider']}"
        ).status_code
        == 404
    )
    assert (
        world.req("tutor", "GET", f"{world.lecture_path}/gradebook?username=nobody-at-all").status_code == 404
    )


def test_cursor_pages_counts_and_filters(service, inline):
    world = build_world(service)
    grade(world, "student", 9, inline)
    first = gradebook(world, "?page_size=1")
    assert set(first) == {"next", "previous", "results", "total_users_count", "filtered_users_count"}
    assert (first["total_users_count"], first["filtered_users_count"]) == (4, 2)
    assert first["previous"] is None and first["next"]
    assert [e["username"] for e in first["results"]] == [world.names["student"]]
    second = world.req("tutor", "GET", first["next"]).json()
    assert [e["username"] for e in second["results"]] == [world.names["student2"]]
    assert second["next"] is None and second["previous"]
    back = world.req("tutor", "GET", second["previous"]).json()
    assert [e["username"] for e in back["results"]] == [world.names["student"]] and back["previous"] is None

    everyone = gradebook(world, "?excluded_roles=")
    assert everyone["filtered_users_count"] == 4 and len(everyone["results"]) == 4
    no_students = gradebook(world, "?excluded_roles=student")
    assert {e["username"] for e in no_students["results"]} == {
        world.names["tutor"],
        world.names["instructor"],
    }
    tag = world.names["student2"].split("-")[1]
    found = gradebook(world, f"?username_contains=STUDENT2-{tag.upper()}")
    assert [e["username"] for e in found["results"]] == [world.names["student2"]]
    assert found["filtered_users_count"] == 1 and found["total_users_count"] == 4
    assert [e["username"] for e in gradebook(world, "?course_grade_min=50")["results"]] == [
        world.names["student"]
    ]
    assert [e["username"] for e in gradebook(world, "?course_grade_max=50")["results"]] == [
        world.names["student2"]
    ]
    high = gradebook(world, f"?assignment={world.released_id}&assignment_grade_min=85")
    assert [e["username"] for e in high["results"]] == [world.names["student"]]
    assert gradebook(world, f"?assignment={world.released_id}&assignment_grade_min=95")["results"] == []
    assert gradebook(world, "?username_contains=%25")["results"] == []  # LIKE wildcards are literal


def test_bulk_update_feature_gate_partial_failure_and_history(service, inline):
    world = build_world(service)
    grade(world, "student", 6, inline)
    item = {
        "username": world.names["student"],
        "assignment_id": world.released_id,
        "grade": {"earned_graded_override": 9.5, "comment": "regraded by hand"},
    }
    url = world.lecture_path + "/gradebook/bulk-update"
    r = world.req("instructor", "POST", url, json=[item])
    assert (
        r.status_code == 403 and r.json()["message"] == "the writable gradebook is disabled for this lecture"
    )
    enable_writable(world)
    student2 = service.user_id(world.names["student2"])
    r = world.req(
        "instructor",
        "POST",
        url,
        json=[
            item,
            {"user_id": student2, "assignment_id": world.released_id, "grade": {"earned_graded_override": 4}},
            {
                "username": world.names["outsider"],
                "assignment_id": world.released_id,
                "grade": {"comment": "x"},
            },
            {
                "user_id": student2,
                "assignment_id": world.released_id,
                "grade": {"possible_graded_override": -1},
            },
            {"user_id": student2, "assignment_id": 999_999_999, "grade": {"comment": "x"}},
            {
                "user_id": student2,
                "username": world.names["student2"],
                "assignment_id": world.released_id,
                "grade": {"comment": "both"},
            },
            {"user_id": student2, "assignment_id": world.released_id, "grade": {}},
            "not an object",
        ],
    )
    assert r.status_code == 422, r.text
    results = r.json()
    assert [x["success"] for x in results] == [True, True, False, False, False, False, False, False]
    assert results[0]["user_id"] == service.user_id(world.names["student"])
    assert "not a member" in results[2]["reason"]
    assert results[3]["reason"].startswith("grade.possible_graded_override")
    assert "not in this lecture" in results[4]["reason"]
    assert "either user_id or username" in results[5]["reason"]
    assert "at least one" in results[6]["reason"]
    # applied and recomputed before the answer: student 9.5/10, student2 (no grade before) 4/10
    one = gradebook(world, f"?username={world.names['student']}")
    assert one["percent"] == 0.95 and one["section_breakdown"][0]["overridden"] is True
    two = gradebook(world, f"?username={world.names['student2']}")
    assert two["percent"] == 0.4 and two["section_breakdown"][0]["attempted"] is True

    # more changes: field by field, a null clears a field, every change audited
    for change in (
        {"possible_graded_override": 12, "comment": "out of 12"},
        {"earned_graded_override": None},
        {"comment": "final"},
    ):
        r = world.req("instructor", "POST", url, json=[{**item, "grade": change}])
        assert r.status_code == 202 and r.json()[0]["success"], r.text
    history = world.req(
        "tutor", "GET", f"{world.released_path}/grades/{world.names['student']}/overrides"
    ).json()
    assert history["override"]["earned_graded_override"] is None
    assert history["override"]["possible_graded_override"] == 12
    assert history["override"]["comment"] == "final"
    steps = history["history"]
    assert [h["action"] for h in steps] == ["create", "update", "update", "update"]
    assert {h["changed_by"] for h in steps} == {world.names["instructor"]}
    assert {h["system"] for h in steps} == {"gradebook"}
    assert (
        steps[0]["old"]["earned_graded_override"] is None and steps[0]["new"]["earned_graded_override"] == 9.5
    )
    assert steps[1]["new"]["possible_graded_override"] == 12 and steps[1]["reason"] == "out of 12"
    assert (
        steps[2]["old"]["earned_graded_override"] == 9.5 and steps[2]["new"]["earned_graded_override"] is None
    )
    assert [h["new"]["comment"] for h in steps] == ["regraded by hand", "out of 12", "out of 12", "final"]
    # the grade row itself never changed: earned 6 of 12 now (the override of earned is cleared)
    assert (
        gradebook(world, f"?username={world.names['student']}")["section_breakdown"][0]["score_earned"] == 6
    )
    empty = world.req(
        "tutor", "GET", f"{world.released_path}/grades/{world.names['student2']}/overrides"
    ).json()
    assert len(empty["history"]) == 1
    assert world.req("tutor", "GET", f"{world.released_path}/grades/nobody-here/overrides").status_code == 404


def test_policy_change_recomputes_the_lecture_as_a_job(service, inline):
    world = build_world(service)
    grade(world, "student", 5, inline)
    assert gradebook(world, f"?username={world.names['student']}")["letter"] == "Pass"
    assert world.req("student", "GET", world.lecture_path + "/grading-policy").json()["is_default"] is True
    r = world.req("instructor", "PUT", world.lecture_path + "/grading-policy", json=POLICY)
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert job["kind"] == "recompute" and job["state"] == "queued"
    inline.drain()
    with service.db.session() as s:
        done = s.get(Job, job["id"])
        assert done.state == JobState.succeeded
        assert done.result["progress"] == {"done": 4, "total": 4}
        hashes = set(
            s.scalars(
                select(LectureGrade.grading_policy_hash).where(LectureGrade.lecture_id == world.lecture_id)
            )
        )
    policy = world.req("tutor", "GET", world.lecture_path + "/grading-policy").json()
    assert policy["recompute_job"]["state"] == "succeeded" and hashes == {policy["policy_hash"]}
    assert "recompute_job" not in world.req("student", "GET", world.lecture_path + "/grading-policy").json()
    # min_count 2 pads HW with a zero: 0.5 / 2 = 0.25 → below B
    one = gradebook(world, f"?username={world.names['student']}")
    assert (one["percent"], one["letter"], one["passed"]) == (0.25, "", False)
    assert one["passed_timestamp"] is not None  # passed once under the old policy: kept
    info = world.req("tutor", "GET", world.lecture_path + "/gradebook/grading-info").json()
    assert info["policy_hash"] == policy["policy_hash"]
    assert info["categories"] == [
        {
            "type": "Homework",
            "category": "Homework",
            "short_label": "HW",
            "weight": 1.0,
            "min_count": 2,
            "drop_count": 0,
        }
    ]
    assert [(a["id"], a["label"]) for a in info["assignments"]] == [(world.released_id, "HW 01")]


def test_stale_grades_are_recomputed_on_progress_reads_not_on_the_dashboard(service, inline):
    world = build_world(service)
    grade(world, "student", 7, inline)
    with service.db.session() as s:  # a policy change whose batch job has not run yet
        s.get(Lecture, world.lecture_id).grading_policy = POLICY
        s.commit()
    dashboard = world.req("instructor", "GET", world.lecture_path + "/grades").json()["results"]
    mine = next(e for e in dashboard if e["username"] == world.names["student"])
    assert mine["stale"] is True and mine["percent"] == 0.7
    own = world.req("student", "GET", world.lecture_path + "/grades").json()["results"]
    assert [(e["username"], e["percent"], e["letter"]) for e in own] == [(world.names["student"], 0.35, "B")]
    dashboard = world.req("instructor", "GET", world.lecture_path + "/grades").json()["results"]
    mine = next(e for e in dashboard if e["username"] == world.names["student"])
    assert mine["stale"] is False and mine["percent"] == 0.35 and mine["passed"] is True
    assert {e["username"] for e in dashboard} == {world.names["student"], world.names["student2"]}
    page = world.req("instructor", "GET", world.lecture_path + "/grades?page_size=1").json()
    assert len(page["results"]) == 1 and page["next"]
    assert len(world.req("instructor", "GET", page["next"]).json()["results"]) == 1


def test_csv_report_is_streamed_with_one_row_per_student(service, inline):
    world = build_world(service)
    grade(world, "student", 8.5, inline)
    r = world.req("tutor", "GET", world.lecture_path + "/gradebook.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["user_id", "username", "HW 1", "percent", "letter"]
    body = {row[1]: row for row in rows[1:]}
    assert set(body) == {world.names["student"], world.names["student2"]}
    assert body[world.names["student"]][2:] == ["0.8500", "0.85", "Pass"]
    assert body[world.names["student2"]][2:] == ["", "0.00", ""]


def test_grading_basis_best_or_latest_and_explicit_regrade(service, inline):
    world = build_world(service)
    grade(world, "student", 9, inline)  # the world's submission: 9
    submit_scored(world, "student", 4, inline)  # a later, worse one
    assert gradebook(world, f"?username={world.names['student']}")["percent"] == 0.9  # best counts by default
    r = world.req("instructor", "PATCH", world.released_path, json={"grading_basis": "latest"})
    assert r.status_code == 200 and r.json()["grading_basis"] == "latest"
    inline.drain()
    assert gradebook(world, f"?username={world.names['student']}")["percent"] == 0.4
    # more points: existing grades keep the version they were computed against until a regrade
    world.req("instructor", "PATCH", world.released_path, json={"points": 20})
    inline.drain()
    hw = gradebook(world, f"?username={world.names['student']}")["section_breakdown"][0]
    assert hw["score_possible"] == 10
    r = world.req(
        "instructor",
        "POST",
        world.lecture_path + "/gradebook/regrade",
        json={"assignment_ids": [world.released_id]},
    )
    assert r.status_code == 202 and r.json()["job"]["payload"]["regrade"] is True
    inline.drain()
    hw = gradebook(world, f"?username={world.names['student']}")["section_breakdown"][0]
    assert (hw["score_earned"], hw["score_possible"], hw["percent"]) == (4, 20, 0.2)


def test_removed_member_and_late_penalty(service, inline):
    world = build_world(service)
    with service.db.session() as s:
        s.get(Submission, world.submission_id).late_scaling = 0.5
        s.commit()
    grade(world, "student", 10, inline)  # 10 × 0.5 late penalty
    assert (
        gradebook(world, f"?username={world.names['student']}")["section_breakdown"][0]["score_earned"] == 5
    )
    with service.db.session() as s:
        get_or_create_user(s, "someone-else")
        s.commit()
    assert (
        world.req("tutor", "GET", f"{world.lecture_path}/gradebook?username=someone-else").status_code == 404
    )

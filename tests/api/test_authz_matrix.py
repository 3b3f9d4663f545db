"""Authorization matrix: every registered route × method × caller against the status it must get.

The expectations below are written by hand (not derived from the permission table), and a test fails when a
registered route has no row here, so a new route cannot ship without its authorization being tested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete

from grader_service.git.names import RepoRef
from grader_service.orm.grading import SubmissionGrading
from grader_service.orm.models import FeedbackStatus, Job, JobState, Lecture, Submission
from tests.api.routes import registered_routes
from tests.support.grading import seed_record
from tests.support.workers import make_worker_token
from tests.support.world import LectureWorld, build_world

CALLERS = ["student", "tutor", "instructor", "admin", "outsider", None, "expired", "worker"]
MEMBERS = {"student", "tutor", "instructor"}
STAFF = {"tutor", "instructor"}
INSTRUCTOR = {"instructor"}

L = "/api/lectures/{lecture_id}"
A = L + "/assignments/{assignment_id}"
S = A + "/submissions/{submission_id}"


def _drop_submissions(world: LectureWorld) -> None:
    with world.service.db.session() as s:
        s.execute(delete(Submission).where(Submission.id == world.submission_id))
        s.commit()


def _queue_job(world: LectureWorld) -> None:
    with world.service.db.session() as s:
        s.get(Job, world.job_id).state = JobState.queued
        s.commit()


# (template, method) → (who may: "public" | "authenticated" | "admin" | set of lecture roles,
#                       success status, body factory, setup)
Body = Callable[[LectureWorld], Any] | None
EXPECTED: dict[tuple[str, str], tuple[Any, int, Body, Callable[[LectureWorld], None] | None]] = {
    ("/api/health", "GET"): ("public", 200, None, None),
    ("/api/version", "GET"): ("public", 200, None, None),
    ("/api/openapi.json", "GET"): ("public", 200, None, None),
    ("/api/user", "GET"): ("authenticated", 200, None, None),
    ("/api/lectures", "GET"): ("authenticated", 200, None, None),
    ("/api/lectures", "POST"): ("admin", 201, lambda w: {"code": f"new-{w.lecture_id}", "name": "New"}, None),
    (L, "GET"): (MEMBERS, 200, None, None),
    (L, "PATCH"): (INSTRUCTOR, 200, lambda w: {"name": "Renamed"}, None),
    (L, "DELETE"): (INSTRUCTOR, 204, None, _drop_submissions),
    (L + "/members", "GET"): (STAFF, 200, None, None),
    (L + "/members", "POST"): (
        INSTRUCTOR,
        200,
        lambda w: [{"username": f"new-{w.lecture_id}", "role": "student"}],
        None,
    ),
    (L + "/members", "DELETE"): (INSTRUCTOR, 200, lambda w: [{"username": w.names["student2"]}], None),
    (L + "/assignments", "GET"): (MEMBERS, 200, None, None),
    (L + "/assignments", "POST"): (INSTRUCTOR, 201, lambda w: {"name": "HW new"}, None),
    (A, "GET"): (MEMBERS, 200, None, None),
    (A, "PATCH"): (INSTRUCTOR, 200, lambda w: {"points": 12}, None),
    (A, "DELETE"): (INSTRUCTOR, 204, None, _drop_submissions),
    (A + "/submissions", "GET"): (MEMBERS, 200, None, None),
    (A + "/submissions", "POST"): (MEMBERS, 201, lambda w: {}, None),
    (S, "GET"): ({"student", "tutor", "instructor"}, 200, None, None),  # the submission is `student`'s
    (S, "PATCH"): (STAFF, 200, lambda w: {"manual_status": "being_edited"}, None),
    (S + "/logs", "GET"): (STAFF, 200, None, None),
    (A + "/generate", "POST"): (INSTRUCTOR, 202, None, None),  # released: with ?force=true (QUERY)
    (S + "/autograde", "POST"): (STAFF, 202, None, None),
    (S + "/autograde", "DELETE"): (STAFF, 200, None, _queue_job),
    (L + "/jobs/{job_id}", "GET"): (STAFF, 200, None, None),
    ("/api/jobs/{job_id}/input", "GET"): ("job", 401, None, None),
    ("/api/jobs/{job_id}/result", "POST"): ("job", 401, lambda w: {"ok": False, "error": "x"}, None),
    # remote workers (the world's job is finished: the claim answers `claimed: false`, reports are ignored)
    ("/api/worker", "GET"): ("worker", 200, None, None),
    ("/api/worker/jobs/{job_id}/claim", "POST"): ("worker", 200, lambda w: {"worker": "host:1"}, None),
    ("/api/worker/jobs/{job_id}/fail", "POST"): ("worker", 200, lambda w: {"attempt": 1, "error": "x"}, None),
    ("/api/worker/jobs/{job_id}/requeue", "POST"): (
        "worker",
        200,
        lambda w: {"attempt": 1, "error": "x"},
        None,
    ),
    ("/api/worker/jobs/{job_id}/give-up", "POST"): (
        "worker",
        200,
        lambda w: {"attempt": 1, "error": "x"},
        None,
    ),
}


def _writable_gradebook(world: LectureWorld) -> None:
    with world.service.db.session() as s:
        s.get(Lecture, world.lecture_id).gradebook_writable = True
        s.commit()


G = L + "/gradebook"
EXPECTED.update(
    {
        (G, "GET"): (STAFF, 200, None, None),
        (G + "/bulk-update", "POST"): (
            INSTRUCTOR,
            202,
            lambda w: [
                {
                    "username": w.names["student"],
                    "assignment_id": w.released_id,
                    "grade": {"earned_graded_override": 5},
                }
            ],
            _writable_gradebook,
        ),
        (G + "/grading-info", "GET"): (STAFF, 200, None, None),
        (G + "/settings", "GET"): (STAFF, 200, None, None),
        (G + "/settings", "PUT"): (INSTRUCTOR, 200, lambda w: {"writable": True}, None),
        (G + "/regrade", "POST"): (INSTRUCTOR, 202, lambda w: {"assignment_ids": [w.released_id]}, None),
        (G + ".csv", "GET"): (STAFF, 200, None, None),
        (L + "/grading-policy", "GET"): (MEMBERS, 200, None, None),
        (L + "/grading-policy", "PUT"): (
            INSTRUCTOR,
            202,
            lambda w: {
                "GRADER": [{"type": "Homework", "min_count": 1, "drop_count": 0, "weight": 1}],
                "GRADE_CUTOFFS": {"P": 0.4},
            },
            None,
        ),
        (L + "/grades", "GET"): (MEMBERS, 200, None, None),
        (A + "/grades/{username}/overrides", "GET"): (STAFF, 200, None, None),
    }
)


def _give_student_a_password(world: LectureWorld) -> None:
    from grader_service.services.passwords import set_password

    with world.service.db.session() as s:
        set_password(s, world.names["student"], "student-password-1")
        s.commit()


EXPECTED.update(
    {
        ("/api/users/{username}/password", "PUT"): (
            "admin",
            200,
            lambda w: {"password": "a-long-password"},
            None,
        ),
        ("/api/users/{username}/password", "DELETE"): ("admin", 204, None, _give_student_a_password),
    }
)


def _seed_grading(world: LectureWorld) -> None:
    seed_record(world.service, world.submission_id)


def _released_feedback(world: LectureWorld) -> None:
    """Pages generated and released, as the feedback job leaves them."""
    seed_record(world.service, world.submission_id)
    store, sid = world.service.store, world.submission_id
    page = {"hw.html": b"<!DOCTYPE html><p>feedback</p>"}
    aid = str(world.released_id)
    made = store.commit_tree(
        RepoRef(world.lecture_code, aid, "autograde", world.names["student"]),
        page,
        "fb",
        branch=f"feedback-{sid}",
    )
    published = store.commit_tree(
        RepoRef(world.lecture_code, aid, "feedback", world.names["student"]),
        {f"{sid}/hw.html": page["hw.html"]},
        "fb",
    )
    with world.service.db.session() as s:
        record = s.get(SubmissionGrading, sid)
        record.feedback_commit, record.feedback_pages, record.feedback_revision = made, ["hw.html"], 1
        record.feedback_released_commit = published
        s.get(Submission, sid).feedback_status = FeedbackStatus.released
        s.commit()


EXPECTED.update(
    {
        (S + "/grading", "GET"): (MEMBERS, 200, None, _seed_grading),  # students: their own results
        (S + "/grading", "PATCH"): (
            STAFF,
            200,
            lambda w: {"cells": {"explain": {"manual_score": 1, "comment": "ok"}}},
            _seed_grading,
        ),
        (S + "/feedback", "GET"): (MEMBERS, 200, None, None),
        (S + "/feedback", "POST"): (STAFF, 202, None, _seed_grading),
        (S + "/feedback/release", "POST"): (STAFF, 202, None, _seed_grading),
        (S + "/feedback/{path}", "GET"): (MEMBERS, 200, None, _released_feedback),
        (A + "/feedback", "POST"): (STAFF, 202, lambda w: {"action": "generate", "submissions": "all"}, None),
    }
)


def _extension(world: LectureWorld) -> None:
    """The released assignment gets a deadline tomorrow and `student` an extension to the day after."""
    from datetime import UTC, datetime, timedelta

    from grader_service.orm.models import Assignment, AssignmentExtension, User

    with world.service.db.session() as s:
        now = datetime.now(UTC)
        s.get(Assignment, world.released_id).deadline = now + timedelta(days=1)
        uid = s.query(User.id).filter(User.name == world.names["student"]).scalar()
        s.add(
            AssignmentExtension(
                assignment_id=world.released_id, user_id=uid, deadline=now + timedelta(days=2)
            )
        )
        s.commit()


E = A + "/extensions"
EXPECTED.update(
    {
        (E, "GET"): (STAFF, 200, None, _extension),
        (E + "/{username}", "GET"): (MEMBERS, 200, None, _extension),  # `student` reads their own
        (E + "/{username}", "PUT"): (
            INSTRUCTOR,
            200,
            lambda w: {"deadline": "2999-01-01T00:00:00+00:00"},
            _extension,
        ),
        (E + "/{username}", "DELETE"): (INSTRUCTOR, 204, None, _extension),
        (A + "/autograde", "POST"): (STAFF, 202, lambda w: {"submissions": "all"}, None),
    }
)


#: query strings some calls need to succeed (a released assignment is regenerated with force only)
QUERY = {(A + "/generate", "POST"): "?force=true"}


def expected_status(rule: Any, success: int, caller: str | None) -> int:
    if (
        rule == "job"
    ):  # only the job's own token opens these (tested in tests/executors); user tokens never do
        return 401
    if rule == "public":
        return success
    if caller in (None, "expired"):
        return 401
    if rule == "worker" or caller == "worker":  # worker routes take worker tokens only, and nothing else does
        return success if rule == "worker" and caller == "worker" else 403
    if rule == "authenticated" or caller == "admin":
        return success
    if rule == "admin":
        return 403
    if caller == "outsider":
        return 404
    return success if caller in rule else 403


def test_every_registered_route_is_in_the_matrix():
    registered = set(registered_routes())
    assert registered - set(EXPECTED) == set(), "routes without an authorization expectation"
    assert set(EXPECTED) - registered == set(), "expectations for routes that do not exist"


CASES = [(route, method, caller) for (route, method) in EXPECTED for caller in CALLERS]


@pytest.mark.parametrize(("route", "method", "caller"), CASES, ids=[f"{m} {r} as {c}" for r, m, c in CASES])
def test_authorization(service, route, method, caller):
    rule, success, body, setup = EXPECTED[(route, method)]
    world = build_world(service)
    if caller == "worker":
        world.tokens["worker"] = make_worker_token(service)
    if setup:
        setup(world)
    path = route.format(
        lecture_id=world.lecture_id,
        assignment_id=world.released_id,
        submission_id=world.submission_id,
        job_id=world.job_id,
        username=world.names["student"],
        path="hw.html",
    ) + QUERY.get((route, method), "")
    r = world.req(caller, method, path, json=body(world) if body else None)
    want = expected_status(rule, success, caller)
    assert r.status_code == want, f"{method} {path} as {caller}: {r.status_code} {r.text[:200]}"
    if want >= 400:
        assert r.json()["status"] == want and r.json()["message"]
    if want == 401:
        assert "WWW-Authenticate" in r.headers


def test_student_cannot_see_another_students_submission(service):
    world = build_world(service)
    path = f"{world.released_path}/submissions/{world.submission_id}"
    assert world.req("student2", "GET", path).status_code == 404


def test_unreleased_assignment_is_hidden_from_students_even_on_writes(service):
    world = build_world(service)
    path = f"{world.lecture_path}/assignments/{world.unreleased_id}"
    assert world.req("student", "GET", path).status_code == 404
    assert world.req("student", "PATCH", path, json={"points": 1}).status_code == 404
    assert world.req("student", "POST", path + "/submissions", json={}).status_code == 404
    assert world.req("tutor", "PATCH", path, json={"points": 1}).status_code == 403

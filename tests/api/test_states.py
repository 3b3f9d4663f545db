"""The state machine (services/guards.py, docs/states.md) as a table: every lecture state × assignment
state × role × action, each one real API or git HTTP call against a fresh lecture.

The expectations are written out below from the rules in the docs, not derived from the guard table."""

from __future__ import annotations

import pytest
import requests

from grader_service.orm.models import Assignment, AssignmentStatus, Lecture, LectureStatus
from grader_service.orm.models import LectureStatus as LS
from grader_service.services.guards import ALLOWED, refusal
from tests.support.grading import give_score
from tests.support.world import LectureWorld, build_world

LECTURE_STATES = ["active", "archived"]
ASSIGNMENT_STATES = ["created", "released", "closed"]
ROLES = ["student", "tutor", "instructor"]
ACTIONS = ["fetch", "submit", "grade", "regenerate", "regenerate_force", "edit"]

#: what each role may do at all (the permission table)
ROLE_MAY = {
    "student": {"fetch", "submit"},
    "tutor": {"fetch", "submit", "grade"},
    "instructor": set(ACTIONS),
}
#: assignment states (of an active lecture) in which the action goes through
STATE_ALLOWS = {
    "fetch": {"created", "released", "closed"},
    "submit": {"released"},
    "grade": {"released", "closed"},
    "regenerate": {"created"},
    "regenerate_force": {"created", "released", "closed"},
    "edit": {"created", "released", "closed"},
}
SUCCESS = {"fetch": 200, "submit": 201, "grade": 202, "regenerate": 202, "regenerate_force": 202, "edit": 200}


def expected(lecture: str, assignment: str, role: str, action: str) -> int:
    if role == "student" and assignment == "created":
        return 404  # students never see an unreleased assignment
    if action not in ROLE_MAY[role]:
        return 403
    if lecture == "archived" and action != "fetch":
        return 409  # read-only
    return SUCCESS[action] if assignment in STATE_ALLOWS[action] else 409


def _put_in_state(w: LectureWorld, lecture: str, assignment: str) -> None:
    with w.service.db.session() as s:
        s.get(Assignment, w.released_id).status = AssignmentStatus(assignment)
        s.get(Lecture, w.lecture_id).status = LectureStatus(lecture)
        s.commit()


def _act(w: LectureWorld, role: str, action: str) -> requests.Response:
    path = w.released_path
    if action == "fetch":  # what `git clone` of the release asks first
        url = f"{w.service.url}/git/{w.lecture_code}/{w.released_id}/release/info/refs"
        return requests.get(
            url, params={"service": "git-upload-pack"}, auth=(w.names[role], w.tokens[role]), timeout=30
        )
    if action == "submit":
        return w.req(role, "POST", path + "/submissions", json={})
    if action == "grade":
        return w.req(role, "POST", f"{path}/submissions/{w.submission_id}/autograde")
    if action == "regenerate":
        return w.req(role, "POST", path + "/generate")
    if action == "regenerate_force":
        return w.req(role, "POST", path + "/generate?force=true")
    return w.req(role, "PATCH", path, json={"points": 7})


CASES = [
    (lec, asg, role, action)
    for lec in LECTURE_STATES
    for asg in ASSIGNMENT_STATES
    for role in ROLES
    for action in ACTIONS
]


@pytest.mark.parametrize(("lecture", "assignment", "role", "action"), CASES, ids=["-".join(c) for c in CASES])
def test_state_role_action(service, lecture, assignment, role, action):
    w = build_world(service)
    _put_in_state(w, lecture, assignment)
    r = _act(w, role, action)
    want = expected(lecture, assignment, role, action)
    assert r.status_code == want, (
        f"{action} as {role} ({lecture}/{assignment}): {r.status_code} {r.text[:300]}"
    )
    if want == 409:
        message = r.json()["message"]
        assert "archived" in message if lecture == "archived" else assignment in message or "force" in message
        if action == "regenerate" and assignment != "created" and lecture == "active":
            assert r.json()["field"] == "force" and "force=true" in message


def test_the_guard_table_matches_the_documented_rules():
    """The pure table in services/guards.py agrees with the hand-written rules above, action by action."""
    for action in ("fetch", "submit", "grade", "regenerate", "edit"):
        for asg in ASSIGNMENT_STATES:
            for lec in LECTURE_STATES:
                ok = refusal(LS(lec), AssignmentStatus(asg), action) is None
                assert ok == (expected(lec, asg, "instructor", action) == SUCCESS[action]), (action, asg, lec)
    assert set(ALLOWED) == {"fetch", "submit", "grade", "feedback", "regenerate", "edit"}
    # feedback follows grading: it keeps working on closed assignments
    for asg in ASSIGNMENT_STATES:
        assert (refusal(LS.active, AssignmentStatus(asg), "feedback") is None) == (asg != "created")
        assert refusal(LS.archived, AssignmentStatus(asg), "feedback") is not None
    with pytest.raises(ValueError):
        refusal(LS.active, AssignmentStatus.released, "teleport")


def test_archived_lecture_is_read_only_until_reactivated(lecture_world):
    w = lecture_world
    assert w.req("instructor", "PATCH", w.lecture_path, json={"status": "archived"}).status_code == 200
    r = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "late idea"})
    assert r.status_code == 409 and "archived" in r.json()["message"]
    assert w.req("student", "GET", w.released_path).status_code == 200
    assert w.req("instructor", "PATCH", w.lecture_path, json={"status": "active"}).status_code == 200
    assert (
        w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "now"}).status_code == 201
    )
    assert w.req("student", "POST", w.released_path + "/submissions", json={}).status_code == 201


def test_no_push_into_an_archived_lecture_but_clones_work(lecture_world, tmp_path):
    from tests.support.gitcli import authed, git

    w = lecture_world
    url = authed(
        f"{w.service.url}/git/{w.lecture_code}/{w.released_id}/user/{w.names['student']}", w.tokens["student"]
    )
    w.req("student", "POST", w.released_path + "/submissions", json={})  # seeds the student's repo
    git("clone", url, str(tmp_path / "work"), cwd=tmp_path)
    (tmp_path / "work" / "notes.txt").write_text("late work\n")
    git("add", "-A", cwd=tmp_path / "work")
    git("commit", "-qm", "late", cwd=tmp_path / "work")
    assert w.req("instructor", "PATCH", w.lecture_path, json={"status": "archived"}).status_code == 200
    pushed = git("push", cwd=tmp_path / "work", check=False)
    assert pushed.returncode != 0 and "archived" in pushed.stderr, pushed.stderr
    assert git("clone", url, str(tmp_path / "again"), cwd=tmp_path).returncode == 0
    w.req("instructor", "PATCH", w.lecture_path, json={"status": "active"})
    assert git("push", cwd=tmp_path / "work", check=False).returncode == 0


def test_grading_keeps_working_on_a_closed_assignment(lecture_world):
    w = lecture_world
    sub = w.req("student2", "POST", w.released_path + "/submissions", json={}).json()
    assert w.req("instructor", "PATCH", w.released_path, json={"status": "closed"}).status_code == 200
    r = give_score(w, sub["id"], 7)
    assert r.status_code == 200 and r.json()["totals"]["score"] == 7
    r = w.req("tutor", "POST", w.released_path + "/autograde", json={"submissions": "latest"})
    assert r.status_code == 202 and r.json()["result"]["progress"]["total"] == 1  # one skipped: still queued
    assert w.req("student2", "POST", w.released_path + "/submissions", json={}).status_code == 409

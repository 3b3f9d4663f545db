"""NUL and other control characters in every text field of every route: a 400 naming the field, no write."""

from __future__ import annotations

from typing import Any

import pytest

from grader_service.schemas.text import printable
from tests.api.test_bad_input import _snapshot
from tests.support.workers import make_worker_token
from tests.support.world import build_world

L = "/api/lectures/{lecture_id}"
A = L + "/assignments/{assignment_id}"
G = L + "/gradebook"
W = "/api/worker/jobs/{job_id}"
J = "/api/jobs/{job_id}/result"
LATE = [{"period": "P1D", "scaling": 0.5}]
POLICY_RULE = {"type": "HW", "min_count": 0, "drop_count": 0, "weight": 1}

# (route, method, caller, body builder taking the bad text, field the 400 must name)
TEXT_FIELDS: list[tuple[str, str, str, Any, str]] = [
    ("/api/lectures", "POST", "admin", lambda t: {"code": "c" + t, "name": "n"}, "code"),
    ("/api/lectures", "POST", "admin", lambda t: {"code": "c1", "name": "n" + t}, "name"),
    (L, "PATCH", "instructor", lambda t: {"name": "n" + t}, "name"),
    (
        L + "/members",
        "POST",
        "instructor",
        lambda t: [{"username": "u" + t, "role": "student"}],
        "[0].username",
    ),
    (
        L + "/members",
        "POST",
        "instructor",
        lambda t: [{"username": "u1", "role": "student", "display_name": "D" + t}],
        "[0].display_name",
    ),
    (L + "/members", "DELETE", "instructor", lambda t: [{"username": "u" + t}], "[0].username"),
    (L + "/assignments", "POST", "instructor", lambda t: {"name": "a" + t}, "name"),
    (
        L + "/assignments",
        "POST",
        "instructor",
        lambda t: {"name": "a", "assignment_type": "H" + t},
        "assignment_type",
    ),
    (
        L + "/assignments",
        "POST",
        "instructor",
        lambda t: {"name": "a", "allowed_files": ["*" + t]},
        "allowed_files[0]",
    ),
    (
        L + "/assignments",
        "POST",
        "instructor",
        lambda t: {
            "name": "a",
            "deadline": "2030-01-01T00:00:00Z",
            "late_periods": [{"period": "P1D" + t, "scaling": 1}],
        },
        "late_periods[0].period",
    ),
    (A, "PATCH", "instructor", lambda t: {"name": "a" + t}, "name"),
    (A, "PATCH", "instructor", lambda t: {"assignment_type": "x" + t}, "assignment_type"),
    (A + "/submissions", "POST", "student", lambda t: {"commit": "a" * 39 + t}, "commit"),
    (G + "/regrade", "POST", "instructor", lambda t: {"assignment_ids": [1], "x" + t: 1}, None),
    (
        L + "/grading-policy",
        "PUT",
        "instructor",
        lambda t: {"GRADER": [{**POLICY_RULE, "type": "H" + t}], "GRADE_CUTOFFS": {}},
        "GRADER[0].type",
    ),
    (
        L + "/grading-policy",
        "PUT",
        "instructor",
        lambda t: {"GRADER": [{**POLICY_RULE, "short_label": "H" + t}], "GRADE_CUTOFFS": {}},
        "GRADER[0].short_label",
    ),
    (
        L + "/grading-policy",
        "PUT",
        "instructor",
        lambda t: {"GRADER": [], "GRADE_CUTOFFS": {"A" + t: 0.9}},
        "GRADE_CUTOFFS",
    ),
    ("/api/users/{username}/password", "PUT", "admin", lambda t: {"password": "long-enough" + t}, "password"),
    (W + "/claim", "POST", "worker", lambda t: {"worker": "w" + t}, "worker"),
    (W + "/fail", "POST", "worker", lambda t: {"attempt": 1, "error": "e" + t}, "error"),
    (W + "/fail", "POST", "worker", lambda t: {"attempt": 1, "error": "e", "log": "l" + t}, "log"),
    (W + "/requeue", "POST", "worker", lambda t: {"attempt": 1, "error": "e" + t}, "error"),
    (W + "/give-up", "POST", "worker", lambda t: {"attempt": 1, "error": "e" + t}, "error"),
    ("/api/jobs/{job_id}/result", "POST", "student", lambda t: {"ok": False, "error": "e" + t}, "error"),
    ("/api/jobs/{job_id}/result", "POST", "student", lambda t: {"ok": True, "log": "l" + t}, "log"),
    (
        "/api/jobs/{job_id}/result",
        "POST",
        "student",
        lambda t: {"ok": True, "files": {"a": "QQ==" + t}},
        "files.a",
    ),
]
# NUL (the PostgreSQL 500), ESC (terminal injection in logs), DEL and a C1 control
BAD = ["\x00", "\x1b[2J", "\x7f", "\x85"]


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize(
    ("route", "method", "caller", "body", "field"),
    TEXT_FIELDS,
    ids=[f"{m} {r} {f}" for r, m, c, b, f in TEXT_FIELDS],
)
def test_control_character_is_refused_naming_the_field(service, route, method, caller, body, field, bad):
    world = build_world(service)
    if caller == "worker":
        world.tokens["worker"] = make_worker_token(service)
    path = route.format(
        lecture_id=world.lecture_id,
        assignment_id=world.released_id,
        job_id=world.job_id,
        username=world.names["student"],
    )
    before = _snapshot(world)
    r = world.req(caller, method, path, json=body(bad + "z"))  # mid-string: stripping must not hide it
    assert r.status_code == 400, r.text
    err = r.json()
    if field is not None:
        assert err.get("field", "").startswith(field), err
    echoed = err["message"] + err.get("field", "")
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in echoed), "the error echoes the bad text"
    # names, usernames and commits refuse them through their pattern, the rest say why
    assert field is None or any(w in err["message"] for w in ("control character", "match pattern")), err
    assert _snapshot(world) == before, "a refused request changed state"


@pytest.mark.parametrize("text", ["first line\nsecond\tcolumn", "windows\r\nline"])
def test_comments_and_logs_keep_line_breaks(service, text):
    world = build_world(service)
    world.tokens["worker"] = make_worker_token(service)
    path = W.format(job_id=world.job_id) + "/requeue"
    r = world.req("worker", "POST", path, json={"attempt": 1, "error": text})
    # the job is not claimed in this world: anything but a 400 about the text shows the text was accepted
    assert r.status_code != 400 or "control character" not in r.text, r.text


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"username": "s\x00z", "assignment_id": 1, "grade": {"comment": "c"}}, "username"),
        ({"user_id": 1, "assignment_id": 1, "grade": {"comment": "c\x00z"}}, "grade.comment"),
    ],
)
def test_bulk_update_item_with_control_character_fails_that_item(service, item, field):
    world = build_world(service)
    settings = world.req(
        "instructor", "PUT", world.lecture_path + "/gradebook/settings", json={"writable": True}
    )
    assert settings.status_code == 200, settings.text
    before = _snapshot(world)
    r = world.req("instructor", "POST", world.lecture_path + "/gradebook/bulk-update", json=[item])
    assert r.status_code == 422, r.text
    (result,) = r.json()["results"] if isinstance(r.json(), dict) else r.json()
    assert result["success"] is False and result["reason"].startswith(field + ": "), result
    assert any(w in result["reason"] for w in ("control character", "match pattern")), result
    assert _snapshot(world) == before


def test_lone_surrogate_is_refused(service):
    world = build_world(service)
    r = world.req("instructor", "PATCH", world.lecture_path, json={"name": "a\ud800b"})
    assert r.status_code == 400 and "JSON" in r.json()["message"], r.text


def test_one_line_fields_refuse_tab_and_newline(service):
    world = build_world(service)
    for text in ("a\tb", "a\nb"):
        r = world.req("instructor", "PATCH", world.lecture_path, json={"name": text})
        assert r.status_code == 400 and r.json()["field"] == "name", r.text


def test_printable_escapes_what_the_api_refuses():
    assert printable("ok\n\tline\r\n") == "ok\n\tline\r\n"
    assert printable("a\x00b\x1bc") == "a\\x00b\\x1bc"
    assert printable("s\ud800") == "s\ufffd"


def test_job_log_quoting_student_output_is_stored_escaped(service):
    """A grading log may quote student output (an exception name, a thread name): stored on PostgreSQL too."""
    from grader_service.orm.models import Job, JobState
    from grader_service.services.jobs import finish

    world = build_world(service)
    with service.db.session() as s:
        job = s.get(Job, world.job_id)
        finish(job, JobState.failed, log="cell 3: raised \x00Evil\x1b[2J\nnext line", error="bad\x00")
        s.commit()
    with service.db.session() as s:
        job = s.get(Job, world.job_id)
        assert job.log == "cell 3: raised \\x00Evil\\x1b[2J\nnext line" and job.error == "bad\\x00"

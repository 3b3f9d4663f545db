"""Bad input on every write route: 400 naming the field, and nothing half-written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.routes import registered_routes
from tests.support.workers import make_worker_token
from tests.support.world import build_world

L = "/api/lectures/{lecture_id}"
A = L + "/assignments/{assignment_id}"
S = A + "/submissions/{submission_id}"

MALFORMED = [b"{", b"not json", b"\xff\xfe", b"[1, 2"]

# (template, method, caller) → list of (body, expected field or None for body-level errors)
CASES: dict[tuple[str, str, str], list[tuple[Any, str | None]]] = {
    ("/api/lectures", "POST", "admin"): [
        ({}, "code"),
        ({"code": "x"}, "name"),
        ({"code": "../etc", "name": "n"}, "code"),
        ({"code": "a b", "name": "n"}, "code"),
        ({"code": "ok", "name": ""}, "name"),
        ({"code": 5, "name": "n"}, "code"),
        ({"code": "ok", "name": "n", "extra": 1}, "extra"),
        ([], None),
    ],
    (L, "PATCH", "instructor"): [
        ({"status": "gone"}, "status"),
        ({"name": 3}, "name"),
        ({"code": "new"}, "code"),
        ({"name": "x" * 300}, "name"),
    ],
    (L + "/members", "POST", "instructor"): [
        ({"username": "a", "role": "student"}, None),
        ([{"username": "a"}], "[0].role"),
        ([{"username": "a", "role": "king"}], "[0].role"),
        ([{"username": "../x", "role": "student"}], "[0].username"),
        ([{"username": "a", "role": "student", "x": 1}], "[0].x"),
        ([{"username": "dup", "role": "student"}, {"username": "dup", "role": "tutor"}], "[1].username"),
    ],
    (L + "/members", "DELETE", "instructor"): [
        ([{"username": "nobody-here"}], "[0].username"),
        ([{"name": "x"}], "[0].username"),
        ("student", None),
    ],
    (L + "/assignments", "POST", "instructor"): [
        ({}, "name"),
        ({"name": "x", "points": -1}, "points"),
        ({"name": "x", "points": "10"}, "points"),
        ({"name": "x", "deadline": "2030-01-01T00:00:00"}, "deadline"),
        ({"name": "x", "deadline": "tomorrow"}, "deadline"),
        (
            {
                "name": "x",
                "deadline": "2030-01-01T00:00:00Z",
                "late_periods": [{"period": "P2D", "scaling": 0.5}, {"period": "P1D", "scaling": 0.2}],
            },
            "late_periods[1].period",
        ),
        (
            {
                "name": "x",
                "deadline": "2030-01-01T00:00:00Z",
                "late_periods": [{"period": "P1D", "scaling": 0.5}, {"period": "P2D", "scaling": 0.7}],
            },
            "late_periods[1].scaling",
        ),
        (
            {
                "name": "x",
                "deadline": "2030-01-01T00:00:00Z",
                "late_periods": [{"period": "P1M", "scaling": 0.5}],
            },
            "late_periods[0].period",
        ),
        (
            {
                "name": "x",
                "deadline": "2030-01-01T00:00:00Z",
                "late_periods": [{"period": "P1D", "scaling": 1.5}],
            },
            "late_periods[0].scaling",
        ),
        ({"name": "x", "late_periods": [{"period": "P1D", "scaling": 0.5}]}, "late_periods"),
        ({"name": "x", "max_submissions": 0}, "max_submissions"),
        ({"name": "x", "max_submissions": 1.5}, "max_submissions"),
        ({"name": "x", "cell_timeout": "30"}, "cell_timeout"),
        ({"name": "x", "allowed_files": ["../*.py"]}, "allowed_files"),
        ({"name": "x", "allowed_files": "*.py"}, "allowed_files"),
        ({"name": "x", "status": "released"}, "status"),
    ],
    (A, "PATCH", "instructor"): [
        ({"status": "archived"}, "status"),
        ({"points": None}, "points"),
        ({"deadline": 5}, "deadline"),
        ({"assignment_type": ""}, "assignment_type"),
        ({"bogus": True}, "bogus"),
    ],
    (A + "/submissions", "POST", "student"): [
        ({"commit": "xyz"}, "commit"),
        ({"commit": "A" * 40}, "commit"),
        ({"commit": 12}, "commit"),
        ({"sha": "a" * 40}, "sha"),
    ],
    (S, "PATCH", "tutor"): [
        ({"manual_score": 5}, "manual_score"),  # scores are set cell by cell now (.../grading)
        ({"feedback_status": "released"}, "feedback_status"),  # set by the system only
        ({"auto_status": "done"}, "auto_status"),
        ({"score": 3}, "score"),
    ],
}
CASES[(A + "/generate", "POST", "instructor")] = [({"force": True}, None)]
CASES[(S + "/autograde", "POST", "tutor")] = [
    ({"now": 1}, "now"),
    ({"version": "mine"}, "version"),
    ({"version": "edit", "commit": "xyz"}, "commit"),
    ({"version": "original", "commit": "a" * 40}, "commit"),
]
CASES[(S + "/grading", "PATCH", "tutor")] = [
    ({}, "cells"),
    ({"cells": {}}, "cells"),
    ({"cells": []}, "cells"),
    ({"cells": {"explain": {"manual_score": "5"}}}, "cells.explain.manual_score"),
    ({"cells": {"explain": {"manual_score": -1}}}, "cells.explain.manual_score"),
    ({"cells": {"explain": {"extra_credit": True}}}, "cells.explain.extra_credit"),
    ({"cells": {"explain": {"comment": 5}}}, "cells.explain.comment"),
    ({"cells": {"explain": {"comment": "x" * 10_001}}}, "cells.explain.comment"),
    ({"cells": {"explain": {"comment": "bell \x07"}}}, "cells.explain.comment"),
    ({"cells": {"explain": {"score": 1}}}, "cells.explain.score"),
]
CASES[(S + "/feedback", "POST", "tutor")] = [({"release": True}, None)]
CASES[(S + "/feedback/release", "POST", "tutor")] = [([1], None)]
CASES[(A + "/feedback", "POST", "tutor")] = [
    ({}, "action"),
    ({"action": "email", "submissions": "all"}, "action"),
    ({"action": "generate"}, "submissions"),
    ({"action": "generate", "submissions": "some"}, "submissions"),
    ({"action": "generate", "submissions": []}, "submissions"),
    ({"action": "generate", "submissions": [0]}, "submissions"),
    ({"action": "generate", "submissions": [True]}, "submissions"),
    ({"action": "release", "submissions": [999_999_999]}, "submissions[0]"),
    ({"action": "release", "submissions": "all", "force": True}, "force"),
]
CASES[(S + "/autograde", "DELETE", "tutor")] = [([1], None)]

G = L + "/gradebook"
CASES[(G + "/bulk-update", "POST", "instructor")] = [({"user_id": 1}, None), ([], None), ("items", None)]
CASES[(G + "/settings", "PUT", "instructor")] = [
    ({}, "writable"),
    ({"writable": "yes"}, "writable"),
    ({"writable": True, "x": 1}, "x"),
]
CASES[(G + "/regrade", "POST", "instructor")] = [
    ({}, "assignment_ids"),
    ({"assignment_ids": []}, "assignment_ids"),
    ({"assignment_ids": [0]}, "assignment_ids[0]"),
    ({"assignment_ids": [999_999_999]}, "assignment_ids[0]"),
    ({"assignment_ids": "1"}, "assignment_ids"),
]
CASES[(L + "/grading-policy", "PUT", "instructor")] = [
    ([], None),
    ({"GRADER": []}, "GRADE_CUTOFFS"),
    ({"GRADER": [{"type": "HW"}], "GRADE_CUTOFFS": {}}, "GRADER[0].min_count"),
    (
        {"GRADER": [{"type": "HW", "min_count": -1, "drop_count": 0, "weight": 1}], "GRADE_CUTOFFS": {}},
        "GRADER[0].min_count",
    ),
    (
        {"GRADER": [{"type": "HW", "min_count": 1, "drop_count": 0, "weight": "x"}], "GRADE_CUTOFFS": {}},
        "GRADER[0].weight",
    ),
    ({"GRADER": [], "GRADE_CUTOFFS": {"A": 1.5}}, "GRADE_CUTOFFS.A"),
    ({"GRADER": [], "GRADE_CUTOFFS": {}, "bogus": 1}, "bogus"),
]

CASES[("/api/jobs/{job_id}/result", "POST", "student")] = [
    ({}, "ok"),
    ({"ok": "yes"}, "ok"),
    ({"ok": True, "files": []}, "files"),
    ({"ok": True, "extra": 1}, "extra"),
]

W = "/api/worker/jobs/{job_id}"
CASES[(W + "/claim", "POST", "worker")] = [
    ({}, "worker"),
    ({"worker": ""}, "worker"),
    ({"worker": 5}, "worker"),
    ({"worker": "x" * 256}, "worker"),
    ({"worker": "w", "attempt": 1}, "attempt"),
    ([], None),
]
CASES[(W + "/fail", "POST", "worker")] = [
    ({"error": "e"}, "attempt"),
    ({"attempt": 0, "error": "e"}, "attempt"),
    ({"attempt": "1", "error": "e"}, "attempt"),
    ({"attempt": 1}, "error"),
    ({"attempt": 1, "error": ""}, "error"),
    ({"attempt": 1, "error": "e", "ok": True}, "ok"),
]
CASES[(W + "/requeue", "POST", "worker")] = [
    ({"error": "e"}, "attempt"),
    ({"attempt": 1}, "error"),
    ({"attempt": 1, "error": "e", "log": ""}, "log"),
]
CASES[(W + "/give-up", "POST", "worker")] = [
    ({"error": "e"}, "attempt"),
    ({"attempt": None}, "error"),
    ({"attempt": -1, "error": "e"}, "attempt"),
    ({"attempt": 1.5, "error": "e"}, "attempt"),
]

PW = "/api/users/{username}/password"
CASES[(PW, "PUT", "admin")] = [
    ({}, "password"),
    ({"password": "short"}, "password"),
    ({"password": 12345678}, "password"),
    ({"password": "long-enough-1", "x": 1}, "x"),
    ({"password": "x" * 1025}, "password"),
]
CASES[(PW, "DELETE", "admin")] = [([1], None), ({"password": "long-enough-1"}, None)]

EXT = A + "/extensions/{username}"
CASES[(EXT, "PUT", "instructor")] = [
    ({}, "deadline"),
    ({"deadline": None}, "deadline"),
    ({"deadline": 1}, "deadline"),
    ({"deadline": "next week"}, "deadline"),
    ({"deadline": "2999-01-01T00:00:00"}, "deadline"),
    ({"deadline": "2999-01-01T00:00:00+00:00", "why": "ill"}, "why"),
    ([], None),
]
CASES[(EXT, "DELETE", "instructor")] = [([1], None), ({"deadline": "2999-01-01T00:00:00+00:00"}, None)]

CASES[(A + "/autograde", "POST", "tutor")] = [
    ({}, "submissions"),
    ({"submissions": "newest"}, "submissions"),
    ({"submissions": []}, "submissions"),
    ({"submissions": [-1]}, "submissions"),
    ({"submissions": [1.5]}, "submissions"),
    ({"submissions": [999_999_999]}, "submissions[0]"),
    ({"submissions": "all", "x": 1}, "x"),
    ([], None),
]

QUERY_CASES = [
    (L, "DELETE", "instructor", "?force=maybe", "force"),
    (A, "DELETE", "instructor", "?force=perhaps", "force"),
    (A + "/generate", "POST", "instructor", "?force=perhaps", "force"),
    (L + "/members", "GET", "tutor", "?role=king", "role"),
    (A + "/submissions", "GET", "tutor", "?filter=worst", "filter"),
    (A + "/submissions", "GET", "tutor", "?auto_status=done", "auto_status"),
    (A + "/submissions", "GET", "tutor", "?needs_manual=maybe", "needs_manual"),
    (L + "/gradebook", "GET", "tutor", "?page_size=0", "page_size"),
    (L + "/gradebook", "GET", "tutor", "?page_size=many", "page_size"),
    (L + "/gradebook", "GET", "tutor", "?page_size=100000", "page_size"),
    (L + "/gradebook", "GET", "tutor", "?course_grade_min=101", "course_grade_min"),
    (L + "/gradebook", "GET", "tutor", "?course_grade_min=50&course_grade_max=10", "course_grade_max"),
    (L + "/gradebook", "GET", "tutor", "?assignment_grade_min=5", "assignment"),
    (L + "/gradebook", "GET", "tutor", "?assignment=abc", "assignment"),
    (L + "/gradebook", "GET", "tutor", "?assignment=999999999&assignment_grade_min=1", "assignment"),
    (L + "/gradebook", "GET", "tutor", "?excluded_roles=king", "excluded_roles"),
    (L + "/gradebook", "GET", "tutor", "?cursor=not-a-cursor", "cursor"),
    (L + "/grades", "GET", "instructor", "?page_size=-3", "page_size"),
]


def test_every_write_route_has_bad_input_cases():
    writes = {(route, method) for (route, method) in registered_routes() if method != "GET"}
    covered = {(route, method) for route, method, _ in CASES} | {(r, m) for r, m, *_ in QUERY_CASES}
    assert writes - covered == set()


def _snapshot(world) -> Any:
    lec = world.req("admin", "GET", world.lecture_path).json()
    return (
        lec,
        world.req("admin", "GET", world.lecture_path + "/members").json(),
        world.req("admin", "GET", world.lecture_path + "/assignments").json(),
        world.req("admin", "GET", world.released_path + "/submissions").json(),
        world.req("admin", "GET", "/api/lectures").json(),
    )


FLAT = [
    (route, method, caller, body, field)
    for (route, method, caller), items in CASES.items()
    for body, field in items
]


@pytest.mark.parametrize(
    ("route", "method", "caller", "body", "field"), FLAT, ids=[f"{m} {r} {b!r:.60}" for r, m, c, b, f in FLAT]
)
def test_bad_json_field(service, route, method, caller, body, field):
    world = build_world(service)
    if caller == "worker":
        world.tokens["worker"] = make_worker_token(service)
    path = route.format(
        lecture_id=world.lecture_id,
        assignment_id=world.released_id,
        submission_id=world.submission_id,
        job_id=world.job_id,
        username=world.names["student"],
    )
    before = _snapshot(world)
    r = world.req(caller, method, path, json=body)
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["status"] == 400 and err["message"]
    if field is not None:
        assert err.get("field") == field, err
        assert field.split(".")[0].split("[")[0] in err["message"]
    assert _snapshot(world) == before, "a rejected request changed state"


@pytest.mark.parametrize("raw", MALFORMED, ids=repr)
@pytest.mark.parametrize(("route", "method", "caller"), sorted(CASES), ids=lambda v: str(v))
def test_malformed_and_empty_bodies(service, route, method, caller, raw):
    world = build_world(service)
    if caller == "worker":
        world.tokens["worker"] = make_worker_token(service)
    path = route.format(
        lecture_id=world.lecture_id,
        assignment_id=world.released_id,
        submission_id=world.submission_id,
        job_id=world.job_id,
        username=world.names["student"],
    )
    r = world.req(caller, method, path, data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert "JSON" in r.json()["message"] or "takes no request body" in r.json()["message"]


@pytest.mark.parametrize(("route", "method", "caller", "query", "field"), QUERY_CASES)
def test_bad_query_values(service, route, method, caller, query, field):
    world = build_world(service)
    path = route.format(
        lecture_id=world.lecture_id, assignment_id=world.released_id, submission_id=world.submission_id
    )
    r = world.req(caller, method, path + query)
    assert r.status_code == 400 and r.json()["field"] == field, r.text


def test_empty_body_is_rejected_where_one_is_required(service):
    world = build_world(service)
    r = world.req("admin", "POST", "/api/lectures", data=b"")
    assert r.status_code == 400 and "empty" in r.json()["message"]


def test_unknown_api_path_is_json_404(service):
    r = service.request("GET", "/api/nope")
    assert r.status_code == 404 and r.json()["status"] == 404

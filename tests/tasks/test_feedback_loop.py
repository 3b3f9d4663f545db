"""The grading loop end to end on the embedded default (real git, the embedded worker, real kernels):
autograde → per-cell record → a tutor's scores and comments → feedback generated and released → the student
reads it through the API and by cloning the `feedback` repo; score visibility; a tutor's edit version."""

from __future__ import annotations

import time

import pytest

from tests.support.gitcli import authed, git
from tests.support.server import ServiceProcess
from tests.support.world import build_world
from tests.tasks.test_embedded_pipeline import author_and_release, student_submits, wait_graded

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, make_db_url):
    svc = ServiceProcess(db_url=make_db_url("sqlite"), data_dir=tmp_path_factory.mktemp("loop"))
    svc.start(worker="embedded")
    yield svc
    svc.stop()


def wait_job(w, job_id: int) -> dict:
    return w.service.wait_for(
        lambda: (
            (j := w.req("tutor", "GET", f"{w.lecture_path}/jobs/{job_id}").json())["state"]
            in ("succeeded", "failed")
            and j
        ),
        timeout=120,
    )


def test_grading_and_feedback_loop(embedded, tmp_path):
    w = build_world(embedded)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Loop"}).json()["id"]
    author_and_release(w, tmp_path, aid)
    r = w.req(
        "instructor",
        "PATCH",
        f"{w.lecture_path}/assignments/{aid}",
        json={"score_visibility": "after_feedback"},
    )
    assert r.status_code == 200 and r.json()["score_visibility"] == "after_feedback"
    sub = student_submits(w, tmp_path, aid, "student", markdown="Squares grow quadratically.")
    assert wait_graded(w, aid, sub["id"])["auto_status"] == "automatically_graded"
    base = f"{w.lecture_path}/assignments/{aid}/submissions/{sub['id']}"

    record = w.req("tutor", "GET", base + "/grading").json()
    cells = {c["grade_id"]: c for nb in record["notebooks"] for c in nb["cells"]}
    assert cells["test_square"]["auto_score"] == 2 and cells["test_hidden"]["hidden_tests"] is True
    assert cells["explain"]["kind"] == "manual_answer" and cells["explain"]["needs_manual"] is True
    assert record["version"] == "original" and record["graded_commit"] == sub["commit"]
    listed = w.req("tutor", "GET", f"{w.lecture_path}/assignments/{aid}/submissions?needs_manual=true").json()
    assert [s["id"] for s in listed] == [sub["id"]]

    # before feedback is released the student sees no score anywhere
    mine = w.req("student", "GET", base).json()
    assert mine["score"] is None and mine["scores_visible"] is False
    withheld = w.req("student", "GET", base + "/grading").json()
    assert "score" not in withheld["notebooks"][0]["cells"][0]
    # nor in a sum: a notebook's score (and its count of cells left to grade) is withheld too
    assert withheld["totals"]["score"] is None
    assert [(nb["score"], nb["needs_manual"]) for nb in withheld["notebooks"]] == [(None, None)]
    grade = w.req("student", "GET", f"{w.lecture_path}/grades").json()["results"][0]
    assert grade["percent"] is None and grade["letter"] is None and grade["scores_visible"] is False

    # bad input: nothing half written
    bad = {"cells": {"explain": {"manual_score": 1}, "test_square": {"comment": "nice"}}}
    r = w.req("tutor", "PATCH", base + "/grading", json=bad)
    assert r.status_code == 400 and r.json()["field"] == "cells.test_square.comment"
    r = w.req("tutor", "PATCH", base + "/grading", json={"cells": {"explain": {"manual_score": 3}}})
    assert r.status_code == 400 and "above" in r.json()["message"]
    r = w.req("tutor", "PATCH", base + "/grading", json={"cells": {"nope": {"manual_score": 1}}})
    assert r.status_code == 400 and r.json()["field"] == "cells.nope"
    assert w.req("tutor", "GET", base + "/grading").json()["revision"] == record["revision"]

    update = {
        "cells": {
            "explain": {"manual_score": 1.5, "comment": "Say why: x*x grows faster."},
            "answer": {"comment": "Clean code"},
        }
    }
    r = w.req("tutor", "PATCH", base + "/grading", json=update)
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["score"] == 4.5 and r.json()["totals"]["needs_manual"] == 0
    assert w.req("tutor", "GET", base).json()["score"] == 4.5

    started = time.monotonic()
    job = w.req("tutor", "POST", base + "/feedback").json()
    done = wait_job(w, job["id"])
    assert done["state"] == "succeeded", done
    print(
        f"feedback generation: {done['result']['seconds']} s in the job, "
        f"{time.monotonic() - started:.2f} s end to end"
    )
    assert w.req("student", "GET", base + "/feedback/squares.html").status_code == 404  # not released
    staff_page = w.req("tutor", "GET", base + "/feedback/squares.html")
    assert staff_page.status_code == 200 and "sandbox" in staff_page.headers["Content-Security-Policy"]

    job = w.req("tutor", "POST", base + "/feedback/release").json()
    assert wait_job(w, job["id"])["state"] == "succeeded"
    listing = w.req("student", "GET", base + "/feedback").json()
    assert listing["status"] == "released" and [p["path"] for p in listing["pages"]] == ["squares.html"]
    page = w.req("student", "GET", base + "/feedback/squares.html")
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.text
    assert "Say why: x*x grows faster." in text and "Clean code" in text
    assert "square(-1)" not in text and "HIDDEN" not in text and "<script" not in text.lower()
    assert w.req("student", "GET", base + "/feedback/..%2F..%2Fsource.html").status_code == 404
    assert w.req("student", "GET", base).json()["score"] == 4.5  # released: scores visible
    grade = w.req("student", "GET", f"{w.lecture_path}/grades").json()["results"][0]
    assert grade["scores_visible"] is True and grade["percent"] is not None
    assert w.req("student2", "GET", base + "/feedback/squares.html").status_code == 404

    clone = tmp_path / "fb"
    url = f"{embedded.url}/git/{w.lecture_code}/{aid}/feedback/{w.names['student']}"
    git("clone", authed(url, w.tokens["student"]), str(clone), cwd=tmp_path)
    cloned = (clone / str(sub["id"]) / "squares.html").read_text()
    assert "Say why" in cloned and "square(-1)" not in cloned

    # a later change makes the feedback outdated
    w.req("tutor", "PATCH", base + "/grading", json={"cells": {"explain": {"manual_score": 2}}})
    assert w.req("tutor", "GET", base + "/feedback").json()["outdated"] is True

    # bulk release: one job with progress; it regenerates the outdated pages
    bulk = w.req(
        "tutor",
        "POST",
        f"{w.lecture_path}/assignments/{aid}/feedback",
        json={"action": "release", "submissions": "latest"},
    )
    assert bulk.status_code == 202 and bulk.json()["result"]["progress"]["total"] == 1
    finished = wait_job(w, bulk.json()["id"])
    assert finished["result"]["progress"] == {"done": 1, "total": 1}, finished
    assert w.req("tutor", "GET", base + "/feedback").json()["outdated"] is False

    # a tutor's corrected version: graded from the edit repo, the student's commit untouched
    work = tmp_path / "edit"
    git(
        "clone",
        authed(f"{embedded.url}/git/{w.lecture_code}/{aid}/user/{w.names['student']}", w.tokens["tutor"]),
        str(work),
        cwd=tmp_path,
    )
    git(
        "remote",
        "add",
        "edit",
        authed(f"{embedded.url}/git/{w.lecture_code}/{aid}/edit/{sub['id']}", w.tokens["tutor"]),
        cwd=work,
    )
    (work / "NOTE.txt").write_text("tutor fix\n")
    git("add", "-A", cwd=work)
    git("commit", "-m", "tutor fix", cwd=work)
    git("push", "edit", "HEAD:main", cwd=work)
    edit_head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    r = w.req("tutor", "POST", base + "/autograde", json={"version": "edit"})
    assert r.status_code == 202 and r.json()["payload"] == {"version": "edit", "commit": edit_head}
    assert wait_job(w, r.json()["id"])["state"] == "succeeded"
    again = w.req("tutor", "GET", base + "/grading").json()
    assert again["version"] == "edit" and again["graded_commit"] == edit_head
    assert again["original_commit"] == sub["commit"]
    cells = {c["grade_id"]: c for nb in again["notebooks"] for c in nb["cells"]}
    assert cells["explain"]["manual_score"] == 2  # the tutor's grading survives a re-run


def _released(w, base: str) -> bool:
    return w.req("student", "GET", base + "/feedback").json()["status"] == "released"


@pytest.mark.parametrize("mode", ["on_grading", "after_deadline"])
def test_release_modes(embedded, tmp_path, mode):
    from datetime import UTC, datetime, timedelta

    from grader_service.services.feedback_state import due_after_deadline

    w = build_world(embedded)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": mode}).json()["id"]
    author_and_release(w, tmp_path, aid)
    apath = f"{w.lecture_path}/assignments/{aid}"
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = w.req("instructor", "PATCH", apath, json={"feedback_release": mode, "deadline": soon})
    assert r.status_code == 200 and r.json()["feedback_release"] == mode
    sub = student_submits(w, tmp_path, aid, "student", markdown="Because x*x.")
    wait_graded(w, aid, sub["id"])
    base = f"{apath}/submissions/{sub['id']}"
    time.sleep(1)
    assert not _released(w, base)  # the manual answer still waits for a tutor
    w.req("tutor", "PATCH", base + "/grading", json={"cells": {"explain": {"manual_score": 2}}})
    if mode == "on_grading":
        embedded.wait_for(lambda: _released(w, base), timeout=60)
        return
    time.sleep(1.5)
    assert not _released(w, base)  # fully graded, but the deadline has not passed
    with embedded.db.session() as s:
        assert due_after_deadline(s) == []
        s.commit()
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    w.req("instructor", "PATCH", apath, json={"deadline": past, "late_periods": []})
    embedded.wait_for(lambda: _released(w, base), timeout=60)

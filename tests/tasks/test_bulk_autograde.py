"""Bulk re-autograde of 30 submissions as one job with progress, on the embedded default: real git, the
embedded Celery worker, the sandboxed ProcessExecutor and real kernels. Prints the throughput."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.support.server import ServiceProcess
from tests.support.world import build_world
from tests.tasks.test_embedded_pipeline import author_and_release, student_submits

pytestmark = pytest.mark.slow

PER_USER = 10
USERS = ("student", "student2", "tutor")  # staff may hand in too


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def embedded(request, tmp_path_factory, make_db_url):
    # both: parts finishing at once count themselves into the bulk job under each database's locking
    svc = ServiceProcess(db_url=make_db_url(request.param), data_dir=tmp_path_factory.mktemp("bulk"))
    svc.start(worker="embedded")
    yield svc
    svc.stop()


def _all_graded(w, subs_path: str, count: int) -> list[dict] | None:  # type: ignore[no-untyped-def]
    subs = w.req("tutor", "GET", subs_path).json()
    done = [s for s in subs if s["auto_status"] in ("automatically_graded", "grading_failed")]
    return subs if len(subs) == count and len(done) == count else None


def test_bulk_reautograde_of_30_submissions_reports_progress(embedded, tmp_path):
    w = build_world(embedded)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Bulk"}).json()["id"]
    author_and_release(w, tmp_path, aid)
    path = f"{w.lecture_path}/assignments/{aid}"
    student_submits(w, tmp_path, aid, "student")  # a right answer (3 auto points)
    student_submits(w, tmp_path, aid, "student2", answer="def square(x):\n    return x + x\n")
    for who in USERS:
        have = 0 if who == "tutor" else 1
        for _ in range(PER_USER - have):
            assert w.req(who, "POST", path + "/submissions", json={}).status_code == 201
    total = PER_USER * len(USERS)
    before = embedded.wait_for(lambda: _all_graded(w, path + "/submissions", total), timeout=600, interval=1)
    assert all(s["auto_status"] == "automatically_graded" for s in before), before
    scores_before = {s["id"]: s["auto_score"] for s in before}
    assert set(scores_before.values()) == {3.0, 0.0}  # right, wrong and unanswered notebooks

    r = w.req("tutor", "POST", path + "/autograde", json={"submissions": "all"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "bulk_autograde" and job["result"]["progress"] == {"done": 0, "total": total}
    # the same request while it runs: 409 with that job; a different one is its own job
    again = w.req("instructor", "POST", path + "/autograde", json={"submissions": "all"})
    assert again.status_code == 409 and again.json()["job"]["id"] == job["id"], again.text
    latest = w.req("tutor", "POST", path + "/autograde", json={"submissions": "latest"})
    assert latest.status_code == 202 and latest.json()["id"] != job["id"]
    # every newest submission is already part of the first job: skipped, nothing to do
    assert latest.json()["state"] == "succeeded" and len(latest.json()["result"]["skipped"]) == len(USERS)

    seen: list[int] = []

    def finished() -> dict | None:
        j = w.req("tutor", "GET", f"{w.lecture_path}/jobs/{job['id']}").json()
        seen.append(j["result"]["progress"]["done"])
        return j if j["state"] in ("succeeded", "failed") else None

    done = embedded.wait_for(finished, timeout=900, interval=0.2)
    assert done["state"] == "succeeded", done
    result = done["result"]
    assert result["progress"] == {"done": total, "total": total}
    assert result["succeeded"] == total and result["failed"] == 0
    assert seen == sorted(seen) and any(0 < n < total for n in seen), seen  # progress moved step by step
    after = {s["id"]: s["auto_score"] for s in w.req("tutor", "GET", path + "/submissions").json()}
    assert after == scores_before  # the same notebooks score the same
    seconds = (
        datetime.fromisoformat(done["finished_at"]) - datetime.fromisoformat(done["started_at"])
    ).total_seconds()
    print(
        f"\nbulk re-autograde: {total} submissions in {seconds:.1f} s = {total / seconds:.2f} submissions/s "
        f"(embedded worker, {embedded.app.embedded_worker_threads} threads)"
    )
    # once it has finished, the same request is a new job
    assert w.req("tutor", "POST", path + "/autograde", json={"submissions": "failed"}).json()["state"] == (
        "succeeded"
    )
    one = w.req("tutor", "POST", path + "/autograde", json={"submissions": [min(after)]})
    assert one.status_code == 202 and one.json()["result"]["progress"]["total"] == 1
    start = time.monotonic()
    embedded.wait_for(
        lambda: (
            w.req("tutor", "GET", f"{w.lecture_path}/jobs/{one.json()['id']}").json()["state"] == "succeeded"
        ),
        timeout=120,
    )
    print(f"one submission through the bulk route: {time.monotonic() - start:.1f} s")


def test_bulk_autograde_bad_input_and_roles(lecture_world):
    w = lecture_world
    path = w.released_path + "/autograde"
    for body, field in [
        ({}, "submissions"),
        ({"submissions": "some"}, "submissions"),
        ({"submissions": []}, "submissions"),
        ({"submissions": [0]}, "submissions"),
        ({"submissions": ["1"]}, "submissions"),
        ({"submissions": "all", "force": True}, "force"),
        ({"submissions": [w.submission_id, 999_999_999]}, "submissions[1]"),
    ]:
        r = w.req("tutor", "POST", path, json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.text)
    jobs = w.req("tutor", "GET", f"{w.released_path}/submissions/{w.submission_id}").json()["autograde"]
    assert jobs["id"] == w.job_id  # nothing was queued by the refused requests
    assert w.req("student", "POST", path, json={"submissions": "all"}).status_code == 403
    other = f"/api/lectures/{w.other_lecture_id}/assignments/{w.released_id}/autograde"
    assert w.req("outsider", "POST", other, json={"submissions": "all"}).status_code == 404
    r = w.req("tutor", "POST", path, json={"submissions": [w.submission_id]})
    assert r.status_code == 202 and r.json()["result"]["progress"] == {"done": 0, "total": 1}


def test_identical_requests_at_the_same_time_make_one_job(lecture_world):
    """Eight identical bulk requests at once: one job, and every other answer is 409 with that job."""
    from concurrent.futures import ThreadPoolExecutor

    w = lecture_world
    path = w.released_path + "/autograde"
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: w.req("tutor", "POST", path, json={"submissions": "all"}), range(8))
        )
    created = [r.json() for r in answers if r.status_code == 202]
    refused = [r.json() for r in answers if r.status_code == 409]
    assert len(created) == 1 and len(refused) == 7, [r.status_code for r in answers]
    assert {r["job"]["id"] for r in refused} == {created[0]["id"]}


def test_cancelling_its_parts_finishes_the_bulk_job(lecture_world):
    """With no worker the parts stay queued; cancelling each one (the single-submission route) counts it,
    and the bulk job finishes when the last part has, with the counts saying how they ended."""
    w = lecture_world
    second = w.req("student2", "POST", w.released_path + "/submissions", json={}).json()["id"]
    w.req("tutor", "DELETE", f"{w.released_path}/submissions/{second}/autograde")  # its hand-in job
    bulk = w.req("tutor", "POST", w.released_path + "/autograde", json={"submissions": "all"}).json()
    assert bulk["result"]["progress"] == {"done": 0, "total": 2}
    job_path = f"{w.lecture_path}/jobs/{bulk['id']}"
    assert w.req("tutor", "DELETE", f"{w.released_path}/submissions/{second}/autograde").status_code == 200
    half = w.req("tutor", "GET", job_path).json()
    assert half["state"] == "running" and half["result"]["progress"] == {"done": 1, "total": 2}
    sub = f"{w.released_path}/submissions/{w.submission_id}/autograde"
    assert w.req("instructor", "DELETE", sub).status_code == 200
    done = w.req("tutor", "GET", job_path).json()
    assert done["state"] == "succeeded" and done["finished_at"] is not None
    assert done["result"]["progress"] == {"done": 2, "total": 2} and done["result"]["cancelled"] == 2

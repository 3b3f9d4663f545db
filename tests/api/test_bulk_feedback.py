"""Bulk feedback requests over HTTP (no worker runs, so the jobs stay queued): one job with progress,
409 with the running job for an identical request, also when identical requests arrive at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support.grading import seed_record


def test_bulk_feedback_is_one_job_and_identical_requests_are_409(lecture_world):
    w = lecture_world
    path = w.released_path + "/feedback"
    other = w.req("student2", "POST", w.released_path + "/submissions", json={}).json()["id"]
    for sid in (w.submission_id, other):
        seed_record(w.service, sid)

    r = w.req("tutor", "POST", path, json={"action": "generate", "submissions": "all"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "feedback_bulk" and job["result"]["progress"] == {"done": 0, "total": 2}
    again = w.req("instructor", "POST", path, json={"submissions": "all", "action": "generate"})
    assert again.status_code == 409 and again.json()["job"]["id"] == job["id"], again.text
    assert again.json()["job"]["result"]["progress"] == {"done": 0, "total": 2}
    # another action or selection is a request of its own
    release = w.req("tutor", "POST", path, json={"action": "release", "submissions": "all"})
    assert release.status_code == 202 and release.json()["id"] != job["id"]
    one = w.req("tutor", "POST", path, json={"action": "generate", "submissions": [other]})
    assert one.status_code == 202 and one.json()["result"]["progress"] == {"done": 0, "total": 1}
    # a student can neither start one nor learn that one runs
    r = w.req("student", "POST", path, json={"action": "generate", "submissions": "all"})
    assert r.status_code == 403 and "job" not in r.json()


def test_identical_bulk_feedback_requests_at_once_make_one_job(lecture_world):
    w = lecture_world
    seed_record(w.service, w.submission_id)
    path = w.released_path + "/feedback"
    body = {"action": "release", "submissions": "latest"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: w.req("tutor", "POST", path, json=body), range(8)))
    created = [r.json() for r in answers if r.status_code == 202]
    refused = [r.json() for r in answers if r.status_code == 409]
    assert len(created) == 1 and len(refused) == 7, [r.status_code for r in answers]
    assert {r["job"]["id"] for r in refused} == {created[0]["id"]}

"""The relay's git actions, end to end with real processes: an instructor authors, generates and releases
through the relay; a student fetches, edits, submits (graded by the embedded worker), resets."""

from __future__ import annotations

import time

import nbformat
import pytest

from tests.support.notebooks import answer_release, write_source

pytestmark = pytest.mark.slow


def _poll(fn, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not reached within {timeout}s: {fn()}")


def test_author_release_fetch_submit_grade_reset_through_the_relay(relay_service, jupyter_for):
    w = relay_service.world
    teacher, student = jupyter_for("instructor"), jupyter_for("student")
    teacher.wait(), student.wait()
    lid = w.lecture_id
    r = teacher.request("POST", f"grader/api/lectures/{lid}/assignments", json={"name": "Squares: relay"})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    act = f"grader/lectures/{lid}/assignments/{aid}"

    # instructor: pull the (empty) source repo, author, push, generate, release
    pulled = teacher.request("POST", f"{act}/source/pull")
    assert pulled.status_code == 200, pulled.text
    assert pulled.json()["path"] == f"{w.lecture_code}/source/Squares_relay"
    write_source(teacher.root / pulled.json()["path"])
    pushed = teacher.request("POST", f"{act}/source/push")
    assert pushed.status_code == 200 and pushed.json()["committed"] is True, pushed.text
    job = teacher.request("POST", f"{act}/generate")
    assert job.status_code == 202, job.text
    done = _poll(
        lambda: (
            (j := teacher.request("GET", f"grader/api/lectures/{lid}/jobs/{job.json()['id']}").json())[
                "state"
            ]
            in ("succeeded", "failed")
            and j
        )
    )
    assert done["state"] == "succeeded", done
    assert student.request("POST", f"{act}/fetch").status_code == 404  # not released yet: hidden
    released = teacher.request("POST", f"{act}/release")
    assert released.status_code == 200 and released.json()["status"] == "released"

    # student: list, fetch, edit the notebook on disk, submit
    listed = student.request("GET", f"grader/api/lectures/{lid}/assignments").json()
    assert "Squares: relay" in [a["name"] for a in listed]
    fetched = student.request("POST", f"{act}/fetch")
    assert fetched.status_code == 200, fetched.text
    body = fetched.json()
    assert body["action"] == "cloned" and body["files"] == ["squares.ipynb"]
    nb_path = student.root / body["path"] / "squares.ipynb"
    assert "return x * x" not in nb_path.read_text()  # the release has no solution
    answer_release(nb_path, nb_path)
    (student.root / body["path"] / ".ipynb_checkpoints").mkdir()
    (student.root / body["path"] / ".ipynb_checkpoints" / "squares-checkpoint.ipynb").write_text("{}")
    sub = student.request("POST", f"{act}/submit")
    assert sub.status_code == 201, sub.text
    sub_id = sub.json()["id"]
    graded = _poll(
        lambda: (
            (
                s := student.request(
                    "GET", f"grader/api/lectures/{lid}/assignments/{aid}/submissions/{sub_id}"
                ).json()
            )["auto_status"]
            in ("automatically_graded", "grading_failed")
            and s
        )
    )
    assert graded["auto_status"] == "automatically_graded" and graded["auto_score"] == 3.0, graded
    # fetching again pulls (nothing new); the checkpoint folder was never committed
    again = student.request("POST", f"{act}/fetch").json()
    assert again["action"] == "pulled" and again["files"] == ["squares.ipynb"]

    # reset to the released version, keeping a backup of the student's work
    reset = student.request("POST", f"{act}/reset")
    assert reset.status_code == 200, reset.text
    backup = student.root / reset.json()["backup"]
    assert "return x * x" in (backup / "squares.ipynb").read_text()
    restored = nbformat.read(nb_path, as_version=4)
    assert "return x * x" not in nbformat.writes(restored)
    # submitting after the reset hands in the released version again (the reset is a new commit)
    sub2 = student.request("POST", f"{act}/submit")
    assert sub2.status_code == 201 and sub2.json()["commit"] != sub.json()["commit"]

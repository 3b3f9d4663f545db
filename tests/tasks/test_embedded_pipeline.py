"""Push → generate → release → submit → score, end to end on the embedded default (no broker, no other
process): real git clients, the embedded Celery worker, the sandboxed ProcessExecutor, real kernels."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from tests.support.gitcli import authed, git
from tests.support.notebooks import answer_release, write_source
from tests.support.server import ServiceProcess
from tests.support.world import LectureWorld, build_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, make_db_url):
    svc = ServiceProcess(db_url=make_db_url("sqlite"), data_dir=tmp_path_factory.mktemp("embedded"))
    svc.start(worker="embedded")
    yield svc
    svc.stop()


def author_and_release(w: LectureWorld, tmp: Path, assignment_id: int) -> None:
    """The instructor pushes a source notebook, generates the release and releases the assignment."""
    base = f"{w.service.url}/git/{w.lecture_code}/{assignment_id}"
    src = tmp / f"source-{assignment_id}"
    git("clone", authed(f"{base}/source", w.tokens["instructor"]), str(src), cwd=tmp)
    write_source(src)
    git("add", "-A", cwd=src)
    git("commit", "-m", "Squares assignment", cwd=src)
    git("push", "origin", "main", cwd=src)
    path = f"{w.lecture_path}/assignments/{assignment_id}"
    job = w.req("instructor", "POST", path + "/generate").json()
    done = w.service.wait_for(
        lambda: (
            (j := w.req("instructor", "GET", f"{w.lecture_path}/jobs/{job['id']}").json())["state"]
            in ("succeeded", "failed")
            and j
        )
    )
    assert done["state"] == "succeeded", done
    assert done["result"]["max_score"] == 5
    r = w.req("instructor", "PATCH", path, json={"status": "released"})
    assert r.status_code == 200, r.text


def student_submits(w: LectureWorld, tmp: Path, assignment_id: int, who: str, **answer) -> dict:
    url = w.req(who, "GET", f"{w.lecture_path}/assignments/{assignment_id}").json()["repos"]["user"]
    work = tmp / f"work-{who}-{assignment_id}"
    git("clone", authed(url, w.tokens[who]), str(work), cwd=tmp)
    released = nbformat.read(work / "squares.ipynb", as_version=4)
    text = json.dumps(released)
    assert "square(-1)" not in text, "hidden tests leaked into the release"
    assert "return x * x" not in text, "the solution leaked into the release"
    answer_release(work / "squares.ipynb", work / "squares.ipynb", **answer)
    git("commit", "-am", "my work", cwd=work)
    git("push", cwd=work)
    sha = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    r = w.req(who, "POST", f"{w.lecture_path}/assignments/{assignment_id}/submissions", json={"commit": sha})
    assert r.status_code == 201, r.text
    return r.json()


def wait_graded(w: LectureWorld, assignment_id: int, sub_id: int, who: str = "tutor") -> dict:
    path = f"{w.lecture_path}/assignments/{assignment_id}/submissions/{sub_id}"
    return w.service.wait_for(
        lambda: (
            (s := w.req(who, "GET", path).json())["auto_status"] in ("automatically_graded", "grading_failed")
            and s
        ),
        timeout=90,
    )


def test_push_submit_score_on_the_embedded_default(embedded, tmp_path):
    w = build_world(embedded)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Squares"}).json()["id"]
    author_and_release(w, tmp_path, aid)
    sub = student_submits(w, tmp_path, aid, "student")
    graded = wait_graded(w, aid, sub["id"])
    assert graded["auto_status"] == "automatically_graded", graded
    assert graded["auto_score"] == 3.0 and graded["score"] == 3.0  # 2 + 1 auto points; the manual 2 wait
    assert graded["autograde"]["state"] == "succeeded" and graded["autograde"]["attempts"] == 1
    job = w.req("tutor", "GET", f"{w.lecture_path}/jobs/{graded['autograde']['id']}").json()
    cells = job["result"]["notebooks"]["squares.ipynb"]["cells"]
    assert cells["test_square"]["score"] == 2 and cells["test_hidden"]["score"] == 1
    assert cells["explain"]["score"] == 0 and job["result"]["needs_manual"] is False  # unchanged: no response
    # the graded notebook is in the autograde repo, readable by the tutor
    grades_repo = tmp_path / "autograde"
    url = f"{embedded.url}/git/{w.lecture_code}/{aid}/autograde/{w.names['student']}"
    git(
        "clone",
        "-b",
        f"submission-{sub['id']}",
        authed(url, w.tokens["tutor"]),
        str(grades_repo),
        cwd=tmp_path,
    )
    graded_nb = nbformat.read(grades_repo / "squares.ipynb", as_version=4)
    assert any("square(-1)" in "".join(c.source) for c in graded_nb.cells), (
        "hidden tests were not re-inserted"
    )


def test_wrong_answer_and_failing_notebook_statuses(embedded, tmp_path):
    w = build_world(embedded)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Squares 2"}).json()[
        "id"
    ]
    author_and_release(w, tmp_path, aid)
    wrong = student_submits(
        w, tmp_path, aid, "student", answer="def square(x):\n    return x + x\n", markdown="They grow."
    )
    graded = wait_graded(w, aid, wrong["id"], who="student")
    assert graded["auto_status"] == "automatically_graded"
    # x + x: square(3) == 9 fails; square(2) == 4 passes but the hidden square(-1) == 1 fails
    assert graded["auto_score"] == 0.0
    assert "log" not in graded["autograde"]  # students never see the log (it may show hidden tests)
    job = w.req("tutor", "GET", f"{w.lecture_path}/jobs/{graded['autograde']['id']}").json()
    assert job["result"]["needs_manual"] is True
    cells = job["result"]["notebooks"]["squares.ipynb"]["cells"]
    assert cells["explain"]["score"] is None and cells["test_hidden"]["status"] == "failed"


def test_autograde_result_flows_into_the_gradebook(embedded, tmp_path):
    """The stream queue: an autograde result recomputes the learner's assignment and lecture grade."""
    w = build_world(embedded)
    aid = w.req(
        "instructor",
        "POST",
        w.lecture_path + "/assignments",
        json={"name": "Graded", "assignment_type": "Homework"},
    ).json()["id"]
    author_and_release(w, tmp_path, aid)
    sub = student_submits(w, tmp_path, aid, "student")
    assert wait_graded(w, aid, sub["id"])["auto_score"] == 3.0

    def entry():
        r = w.req("instructor", "GET", w.lecture_path + f"/gradebook?username={w.names['student']}")
        breakdown = {b["assignment_id"]: b for b in r.json()["section_breakdown"]}
        return breakdown.get(aid, {}).get("score_earned") == 3.0 and breakdown[aid]

    got = embedded.wait_for(entry, timeout=30)
    assert got["score_possible"] == 5.0 and got["attempted"] is True

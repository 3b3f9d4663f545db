"""The relay's validate and local-state routes with real processes: a student's server runs the fetched
notebook in a real kernel and reports unanswered cells and failing visible tests, without handing in."""

from __future__ import annotations

import pytest

from tests.support.notebooks import answer_release
from tests.tasks.test_embedded_pipeline import author_and_release

pytestmark = pytest.mark.slow


def test_validate_reports_unanswered_and_failing_tests_and_hands_nothing_in(
    relay_service, jupyter_for, tmp_path
):
    w = relay_service.world
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Squares: validate"})
    aid = aid.json()["id"]
    author_and_release(w, tmp_path, aid)
    student = jupyter_for("student2").wait()
    act = f"grader/lectures/{w.lecture_id}/assignments/{aid}"

    before = student.request("GET", f"{act}/local")
    assert before.status_code == 200, before.text
    assert before.json()["fetched"] is False and before.json()["files"] == []
    early = student.request("POST", f"{act}/validate")
    assert early.status_code == 409 and "fetch the assignment first" in early.json()["message"]

    fetched = student.request("POST", f"{act}/fetch").json()
    state = student.request("GET", f"{act}/local").json()
    assert state == {
        "fetched": True,
        "path": fetched["path"],
        "files": ["squares.ipynb"],
        "notebooks": ["squares.ipynb"],
        "changed": False,
    }

    # the release as it is: the code answer and the written answer are unanswered; the tests fail
    report = student.request("POST", f"{act}/validate")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["passed"] is False and body["notebooks"] == ["squares.ipynb"]
    kinds = {(p["kind"], p["grade_id"]) for p in body["problems"]}
    assert ("unanswered", "answer") in kinds and ("unanswered", "explain") in kinds
    assert ("failed_test", "test_square") in kinds
    failing = next(p for p in body["problems"] if p["grade_id"] == "test_square")
    assert failing["message"].startswith("NotImplementedError")
    assert "square(-1)" not in report.text  # hidden tests are not in the student's copy

    # a wrong answer: the visible test fails with its assertion, the answer counts as answered
    nb = student.root / fetched["path"] / "squares.ipynb"
    answer_release(nb, nb, answer="def square(x):\n    return x + x\n", markdown="They grow fast.")
    body = student.request("POST", f"{act}/validate").json()
    assert [(p["kind"], p["grade_id"]) for p in body["problems"]] == [("failed_test", "test_square")]
    assert body["problems"][0]["message"].startswith("AssertionError")
    assert student.request("GET", f"{act}/local").json()["changed"] is True

    # the right answer passes; nothing was handed in by any of this
    answer_release(nb, nb, markdown="They grow fast.")
    body = student.request("POST", f"{act}/validate").json()
    assert body == {**body, "passed": True, "problems": []}
    mine = w.req("student2", "GET", f"{w.lecture_path}/assignments/{aid}/submissions").json()
    assert mine == []

    # what a submission would hand in follows the assignment's allowed_files
    (nb.parent / "scratch.txt").write_text("notes")
    assert student.request("GET", f"{act}/local").json()["files"] == ["scratch.txt", "squares.ipynb"]
    r = w.req(
        "instructor", "PATCH", f"{w.lecture_path}/assignments/{aid}", json={"allowed_files": ["*.ipynb"]}
    )
    assert r.status_code == 200, r.text
    assert student.request("GET", f"{act}/local").json()["files"] == ["squares.ipynb"]

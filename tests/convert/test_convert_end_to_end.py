"""Source → release → submission variants → scores → feedback, with real kernels."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from grader_service.convert import generate_feedback
from grader_service.convert.notebook_io import change_cell_type, read_notebook

from .conftest import answer_square, cell_by_id, code, scores, submit


def test_release_is_the_student_version(released):
    nb = released.release_nb()
    assert "raise NotImplementedError()" in cell_by_id(nb, "square").source
    assert "x * x" not in (released.release / released.name).read_text()
    assert cell_by_id(nb, "explain").source.endswith("YOUR ANSWER HERE")
    assert all(not c.get("outputs") for c in nb.cells)


def test_unchanged_release_scores_zero_with_no_response(released, tmp_path):
    result, _ = submit(released, tmp_path)
    assert scores(result) == {"test_square": 0.0, "explain": 0.0, "partial": 0.0}
    assert result["needs_manual"] is False and result["max_score"] == 6.0
    assert result["notebooks"][released.name]["comments"] == {
        "square": "No response.",
        "explain": "No response.",
    }


def test_correct_answer_scores_full_tests_and_needs_manual(released, tmp_path):
    def edit(nb):
        answer_square(nb)
        cell_by_id(nb, "explain").source = "Because minus times minus is plus."

    result, _ = submit(released, tmp_path, edit)
    assert scores(result) == {"test_square": 2.0, "explain": None, "partial": 3.0}
    assert result["score"] == 5.0 and result["needs_manual"] is True


def test_partial_credit_and_hidden_test_failure(released, tmp_path):
    # Right for 0 and 2 only; visible test passes, hidden test square(-3) fails; partial gives 2 of 3.
    result, graded = submit(
        released, tmp_path, lambda nb: answer_square(nb, "    return 2 * x if x != 2 else 4")
    )
    assert scores(result)["test_square"] == 0.0
    assert result["notebooks"][released.name]["cells"]["partial"] == {
        "score": 2.0,
        "max_score": 3.0,
        "status": "partial",
        "role": "tests",
    }
    assert "square(-3)" in (graded / released.name).read_text()  # the graded copy ran the hidden test


@pytest.mark.parametrize(
    "variant",
    [
        "edited test",
        "edited read-only",
        "deleted test",
        "test type changed",
        "duplicated grade_id",
        "cheat showtraceback",
    ],
)
def test_tamper_cases_cannot_raise_the_score(released, tmp_path, variant):
    def edit(nb):
        answer_square(nb, "    return x + 100")  # wrong for every input: every test must score 0
        test = cell_by_id(nb, "test_square")
        if variant == "edited test":
            test.source = "pass"
        elif variant == "edited read-only":
            cell_by_id(nb, "intro").source = "square = lambda x: x * x"
            change_cell_type(cell_by_id(nb, "intro"), "code", nb)
        elif variant == "deleted test":
            nb.cells.remove(test)
        elif variant == "test type changed":
            change_cell_type(test, "markdown", nb)
        elif variant == "duplicated grade_id":
            copy = code("pass", {"nbgrader": dict(test.metadata.nbgrader)})
            nb.cells.insert(0, copy)
        elif variant == "cheat showtraceback":
            cell_by_id(nb, "square").source += (
                "\nfrom IPython.core.interactiveshell import InteractiveShell\n"
                "InteractiveShell.showtraceback = lambda *a, **k: None"
            )

    result, _ = submit(released, tmp_path, edit)
    assert scores(result)["test_square"] == 0.0
    assert result["score"] == 0.0
    if variant != "cheat showtraceback":
        assert result["notebooks"][released.name]["tampering"]


def test_old_notebook_without_ids_with_type_change(released_old, tmp_path):
    def edit(nb):
        answer_square(nb)
        change_cell_type(cell_by_id(nb, "square"), "markdown", nb)
        change_cell_type(cell_by_id(nb, "partial"), "raw", nb)

    result, graded = submit(released_old, tmp_path, edit, tag="old")
    assert scores(result, released_old.name) == {"test_square": 2.0, "explain": 0.0, "partial": 3.0}
    out = read_notebook(graded / released_old.name)
    assert out.nbformat_minor == 1 and all("id" not in c for c in out.cells)
    nbformat.validate(out)


def test_missing_notebook_scores_zero(released, tmp_path):
    (tmp_path / "empty").mkdir()
    from grader_service.convert import autograde

    result = autograde(tmp_path / "empty", tmp_path / "graded", released.gradebook)
    nb = result["notebooks"][released.name]
    assert nb["status"] == "missing" and nb["score"] == 0.0 and result["score"] == 0.0
    assert any("missing from the submission" in line for line in result["log"])


def test_timeout_and_huge_output(released, tmp_path):
    def edit(nb):
        slow = "import time\nprint('x' * 5_000_000)\ndef square(x):\n    time.sleep(30)\n    return x * x"
        cell_by_id(nb, "square").source = slow

    result, graded = submit(released, tmp_path, edit, cell_timeout=1)
    cells = result["notebooks"][released.name]["cells"]
    assert cells["test_square"]["status"] == "timeout" and cells["partial"]["status"] == "timeout"
    assert result["score"] == 0.0
    assert (graded / released.name).stat().st_size < 400_000


def test_feedback_page(released, tmp_path):
    def edit(nb):
        answer_square(nb, "    return x * x if x >= 0 else -1")  # fails only the hidden test
        cell_by_id(nb, "explain").source = "<script>alert('x')</script>\n\nbecause **signs** $x^2$"

    result, graded = submit(released, tmp_path, edit)
    pages = generate_feedback(graded, tmp_path / "feedback", released.gradebook)
    page = Path(pages[released.name]).read_text(encoding="utf-8")
    assert "square(-3)" not in page and "HIDDEN" not in page
    assert "<script" not in page.lower()  # neither the student's nor a page script (math is MathML)
    assert "<strong>signs</strong>" in page and "<msup><mi>x</mi><mn>2</mn></msup>" in page  # MathML
    assert re.search(r"Score: 3 / 6", page)
    assert "<link" not in page and 'src="http' not in page and len(page) < 600_000
    assert result["notebooks"][released.name]["cells"]["test_square"]["status"] == "failed"


def test_feedback_page_and_test_errors_hide_what_later_cells_print_of_hidden_tests(released, tmp_path):
    """A cell the student adds after the tests can read the hidden test's source back from the kernel
    (IPython's `In`, `linecache`) and print or raise it: no page or error text a student reads shows it."""
    from grader_service.convert.test_errors import visible_test_errors

    needle = "'square(-' + '3)'"  # the hidden line, never spelled out in the student's own source
    spy = (
        "import linecache\n"
        f"seen = [c for c in In if {needle} in c] + "
        f"[x for v in linecache.cache.values() for x in v[2] if {needle} in x]\n"
        "print(seen)\n"
        "seen\n"
    )

    def edit(nb):
        answer_square(nb, "    return x * x if x >= 0 else -1")
        nb.cells.append(code(spy))
        nb.cells.append(code("raise AssertionError(repr(seen))"))

    result, graded = submit(released, tmp_path, edit)
    printed = (graded / released.name).read_text(encoding="utf-8")
    assert "square(-3)" in printed  # the kernel did hand the hidden source to the student's cell
    pages = generate_feedback(graded, tmp_path / "feedback", released.gradebook)
    page = Path(pages[released.name]).read_text(encoding="utf-8")
    assert "square(-3)" not in page and "…" in page

    # the same spy raising from inside a visible test cell: its error text loses the hidden line too
    nb = nbformat.reads(printed, as_version=4)
    visible = next(
        c
        for c in released.gradebook["notebooks"][released.name]["cells"]
        if c["role"] == "tests" and not c.get("hidden_tests")
    )
    cell = cell_by_id(nb, visible["grade_id"])
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue=str(nb.cells[-2].outputs))]
    cell.outputs[0].traceback = ["AssertionError: " + str(nb.cells[-2].outputs)]
    errors = visible_test_errors({released.name: nbformat.writes(nb).encode()}, released.gradebook)
    text = errors[released.name][visible["grade_id"]]
    assert "AssertionError" in text and "square(-3)" not in text

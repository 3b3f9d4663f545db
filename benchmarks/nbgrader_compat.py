"""Runs nbgrader's own test notebooks through `grader-convert` and compares with nbgrader's scores.

Usage: python benchmarks/nbgrader_compat.py [NBGRADER_NOTEBOOKS_DIR] [--json]

The folder (default /work/shared/nbgrader-notebooks) is the one described by its README.md; it is read,
never copied. The expected figures below are transcribed from that README (sections A-G): nbgrader
0.9.6's scores, and for the cases where nbgrader crashes or leaks hidden tests, the better behaviour the
README asks for. Exit status 0 when every case matches, 1 otherwise, 2 when the folder is absent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path("/work/shared/nbgrader-notebooks")
APPS = "nbgrader/tests/apps/files"
PRE = "nbgrader/tests/preprocessors/files"
DOCS = "nbgrader/docs/source/user_guide"
HIDDEN_STUB = "--ClearSolutions.code_stub={'python': '# YOUR CODE HERE'}"


@dataclass
class Outcome:
    """What one case produced: a short text and whether it is what we expect."""

    ours: str
    ok: bool


@dataclass
class Case:
    name: str
    expected: str  # what nbgrader does (README), and what we aim for where it differs
    verdict: str  # "match" when we must equal nbgrader, "better" where nbgrader crashes or leaks
    run: Callable[[Path, Path], Outcome] = field(repr=False)


def convert(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `grader-convert` (this interpreter's copy) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "grader_service.convert.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def release(
    work: Path, files: dict[str, Path], *extra: str
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """Put `files` (target name → file) in a source folder and generate the assignment."""
    source = work / "source"
    source.mkdir(parents=True, exist_ok=True)
    for target, path in files.items():
        shutil.copy(path, source / target)
    out, book = work / "release", work / "gradebook.json"
    return (
        out,
        book,
        convert("generate_assignment", "-i", str(source), "-o", str(out), "--gradebook", str(book), *extra),
    )


def grade(work: Path, book: Path, files: dict[str, Path], tag: str, *extra: str) -> dict[str, Any]:
    """Autograde one submission made of `files`; returns the --json result."""
    sub = work / f"sub-{tag}"
    sub.mkdir(parents=True, exist_ok=True)
    for target, path in files.items():
        shutil.copy(path, sub / target)
    proc = convert(
        "autograde",
        "-i",
        str(sub),
        "-o",
        str(work / f"graded-{tag}"),
        "--gradebook",
        str(book),
        "--json",
        *extra,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"autograde failed ({proc.returncode}): {proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def cell_scores(result: dict[str, Any], notebook: str) -> dict[str, float | None]:
    return {k: v["score"] for k, v in result["notebooks"][notebook]["cells"].items()}


def fmt(x: float | None) -> str:
    return "None" if x is None else f"{x:g}"


def scored(
    result: dict[str, Any],
    want_total: float,
    want_max: float,
    want_manual: bool,
    want_cells: dict[str, float | None],
    notebook: str = "p1.ipynb",
) -> Outcome:
    cells = cell_scores(result, notebook)
    shown = " ".join(f"{k}={fmt(cells.get(k))}" for k in want_cells)
    text = f"{fmt(result['score'])}/{fmt(result['max_score'])} {shown} manual={result['needs_manual']}"
    ok = (
        result["score"] == want_total
        and result["max_score"] == want_max
        and result["needs_manual"] == want_manual
        and all(cells.get(k) == v for k, v in want_cells.items())
    )
    return Outcome(text, ok)


# -- section A: one source, many submissions ---------------------------------------------------------
def a_case(
    submission: str, total: float, manual: bool, cells: dict[str, float | None]
) -> Callable[[Path, Path], Outcome]:
    def run(root: Path, work: Path) -> Outcome:
        _, book, proc = release(work, {"p1.ipynb": root / APPS / "submitted-unchanged.ipynb"})
        if proc.returncode:
            return Outcome(f"generate_assignment failed: {proc.stderr.strip()}", False)
        result = grade(work, book, {"p1.ipynb": root / submission}, "a")
        return scored(result, total, 7.0, manual, cells)

    return run


A_UNCHANGED = {"foo": 1.0, "bar": 0.0, "baz": 0.0, "quux": 0.0}


# -- section B: solution markers ------------------------------------------------------------------------
def b_release_unchanged(root: Path, work: Path) -> Outcome:
    files = {"p1.ipynb": root / APPS / "test.ipynb", "jupyter.png": root / APPS / "jupyter.png"}
    rel, book, proc = release(work, files)
    if proc.returncode:
        return Outcome(f"generate_assignment failed: {proc.stderr.strip()}", False)
    text = (rel / "p1.ipynb").read_text()
    if "BEGIN SOLUTION" in text:
        return Outcome("solution markers left in the release", False)
    result = grade(work, book, {"p1.ipynb": rel / "p1.ipynb"}, "b")
    return scored(
        result, 0.0, 6.0, False, {"sum_of_squares_equation": 0.0, "sum_of_squares_application": 0.0}
    )


def b_source_submitted(root: Path, work: Path) -> Outcome:
    files = {"p1.ipynb": root / APPS / "test.ipynb", "jupyter.png": root / APPS / "jupyter.png"}
    _, book, _ = release(work, files)
    result = grade(work, book, {"p1.ipynb": root / APPS / "test.ipynb"}, "b")
    return scored(
        result,
        3.0,
        6.0,
        True,
        {
            "correct_squares": 1.0,
            "squares_invalid_input": 1.0,
            "correct_sum_of_squares": 0.5,
            "sum_of_squares_uses_squares": 0.5,
            "sum_of_squares_equation": None,
            "sum_of_squares_application": None,
        },
    )


# -- section C: hidden tests ---------------------------------------------------------------------------------
def c_hidden(root: Path, work: Path) -> Outcome:
    rel, book, proc = release(work, {"p1.ipynb": root / APPS / "test-hidden-tests.ipynb"}, HIDDEN_STUB)
    if proc.returncode:
        return Outcome(f"generate_assignment failed: {proc.stderr.strip()}", False)
    if "HIDDEN TESTS" in (rel / "p1.ipynb").read_text() or "squares(11)" in (rel / "p1.ipynb").read_text():
        return Outcome("hidden tests leaked into the release", False)
    result = grade(work, book, {"p1.ipynb": rel / "p1.ipynb"}, "c")
    return scored(
        result,
        1.5,
        3.0,
        False,
        {
            "correct_squares": 0.0,
            "squares_invalid_input": 1.0,
            "correct_sum_of_squares": 0.0,
            "sum_of_squares_uses_squares": 0.5,
        },
    )


def c_feedback(root: Path, work: Path) -> Outcome:
    rel, book, _ = release(work, {"p1.ipynb": root / APPS / "test-hidden-tests.ipynb"}, HIDDEN_STUB)
    grade(work, book, {"p1.ipynb": rel / "p1.ipynb"}, "c")
    graded_text = (work / "graded-c" / "p1.ipynb").read_text()
    proc = convert(
        "generate_feedback",
        "-i",
        str(work / "graded-c"),
        "-o",
        str(work / "feedback"),
        "--gradebook",
        str(book),
    )
    if proc.returncode:
        return Outcome(f"generate_feedback failed: {proc.stderr.strip()}", False)
    page = (work / "feedback" / "p1.html").read_text()
    secrets = ["squares(10) == [1, 4, 9", "squares(11)", "sum_of_squares(11)", "HIDDEN TESTS"]
    leaked = [s for s in secrets if s in page]
    put_back = "squares(11)" in graded_text
    text = (
        f"hidden tests run: {put_back}; leaked in feedback: {leaked or 'none'}; page {len(page) // 1024} KiB"
    )
    return Outcome(text, put_back and not leaked)


# -- section D: execution ----------------------------------------------------------------------------------
def d_case(
    notebook: str, extra: tuple[str, ...], total: float, max_score: float, extra_files: tuple[str, ...] = ()
) -> Callable[[Path, Path], Outcome]:
    def run(root: Path, work: Path) -> Outcome:
        files = {"p1.ipynb": root / APPS / notebook} | {f: root / APPS / f for f in extra_files}
        _, book, proc = release(work, files)
        if proc.returncode:
            return Outcome(f"generate_assignment failed: {proc.stderr.strip()}", False)
        result = grade(work, book, files, "d", *extra)
        timed = [c["status"] for c in result["notebooks"]["p1.ipynb"]["cells"].values()]
        return Outcome(
            f"{fmt(result['score'])}/{fmt(result['max_score'])} {timed}",
            result["score"] == total and result["max_score"] == max_score,
        )

    return run


def d_side_effects(root: Path, work: Path) -> Outcome:
    files = {"p1.ipynb": root / APPS / "side-effects.ipynb"}
    _, book, _ = release(work, files)
    grade(work, book, files, "d")
    graded, submitted = (
        (work / "graded-d" / "side-effect.txt").exists(),
        (work / "sub-d" / "side-effect.txt").exists(),
    )
    return Outcome(f"in graded: {graded}, in submission: {submitted}", graded and not submitted)


def d_infinite_loop(root: Path, work: Path) -> Outcome:
    files = {"p1.ipynb": root / APPS / "infinite-loop.ipynb"}
    _, book, _ = release(work, files)
    result = grade(work, book, files, "d", "--cell-timeout", "1")
    written = (work / "graded-d" / "p1.ipynb").exists()
    return Outcome(
        f"{fmt(result['score'])}/{fmt(result['max_score'])}, graded notebook written: {written}",
        written and result["max_score"] == 0,
    )


# -- section E: metadata -----------------------------------------------------------------------------------
def e_case(path: str, should_fail: bool, needle: str = "") -> Callable[[Path, Path], Outcome]:
    def run(root: Path, work: Path) -> Outcome:
        _, _, proc = release(work, {"p1.ipynb": root / path})
        message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "ok"
        failed = proc.returncode != 0
        ok = failed == should_fail and (not needle or needle.lower() in proc.stderr.lower())
        return Outcome(f"exit {proc.returncode}: {message[:110]}", ok)

    return run


def e_task_mark_scheme(root: Path, work: Path) -> Outcome:
    rel, book, proc = release(work, {"p1.ipynb": root / PRE / "test_taskcell.ipynb"})
    if proc.returncode:
        return Outcome(f"generate_assignment failed: {proc.stderr.strip()}", False)
    leaked = "MARK SCHEME" in (rel / "p1.ipynb").read_text()
    kept = "MARK SCHEME" in book.read_text()
    return Outcome(f"mark scheme in release: {leaked}, kept in gradebook: {kept}", not leaked and kept)


# -- section F: output limits (the LimitOutput step, in-process) -------------------------------------------
def f_long_output(root: Path, work: Path) -> Outcome:
    from grader_service.convert.notebook_io import read_notebook
    from grader_service.convert.preprocessors import LimitOutput

    nb = read_notebook(root / PRE / "long-output.ipynb")
    LimitOutput(max_lines=1000)(nb, {})
    lines = next(
        o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream"
    ).text.splitlines()
    return Outcome(f"{len(lines)} lines, last {lines[-1]!r}", len(lines) == 1000 and "truncated" in lines[-1])


def f_recursion(root: Path, work: Path) -> Outcome:
    from grader_service.convert.notebook_io import read_notebook
    from grader_service.convert.preprocessors import LimitOutput

    nb = read_notebook(root / PRE / "infinite-recursion.ipynb")
    LimitOutput(max_traceback=100)(nb, {})
    trace = next(o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error").traceback
    return Outcome(
        f"{len(trace)} traceback entries, entry 51 {trace[50]!r}",
        len(trace) == 100 and "truncated" in trace[50],
    )


# -- section G: the documentation's course -----------------------------------------------------------------
def g_student(
    student: str, total: float, manual: bool, p1: dict[str, float | None]
) -> Callable[[Path, Path], Outcome]:
    def run(root: Path, work: Path) -> Outcome:
        src = root / DOCS / "source" / "ps1"
        files = {n: src / n for n in ("problem1.ipynb", "problem2.ipynb", "jupyter.png")}
        _, book, proc = release(work, files)
        if proc.returncode:
            return Outcome(f"generate_assignment failed: {proc.stderr.strip()}", False)
        sub = root / DOCS / "submitted" / student / "ps1"
        result = grade(work, book, {n: sub / n for n in ("problem1.ipynb", "problem2.ipynb")}, student)
        out = scored(result, total, 13.0, manual, p1, notebook="problem1.ipynb")
        p2 = result["notebooks"]["problem2.ipynb"]
        return Outcome(
            out.ours + f" problem1={fmt(result['notebooks']['problem1.ipynb']['score'])} "
            f"problem2={fmt(p2['score'])}",
            out.ok and p2["score"] == 0.0,
        )

    return run


CASES = [
    Case(
        "A1 unchanged",
        "1/7 foo=1 bar=0 baz=0 quux=0 manual=False",
        "match",
        a_case(f"{APPS}/submitted-unchanged.ipynb", 1.0, False, A_UNCHANGED),
    ),
    Case(
        "A2 changed",
        "2/7 foo=1 bar=1 baz=None quux=None manual=True",
        "match",
        a_case(
            f"{APPS}/submitted-changed.ipynb", 2.0, True, {"foo": 1.0, "bar": 1.0, "baz": None, "quux": None}
        ),
    ),
    Case(
        "A3 cheat showtraceback",
        "1/7 bar=0 baz=None quux=None manual=True",
        "match",
        a_case(
            f"{APPS}/submitted-cheat-attempt.ipynb",
            1.0,
            True,
            {"foo": 1.0, "bar": 0.0, "baz": None, "quux": None},
        ),
    ),
    Case(
        "A4 cheat alternative",
        "1/7 bar=0 baz=None quux=None manual=True",
        "match",
        a_case(
            f"{APPS}/submitted-cheat-attempt-alternative.ipynb",
            1.0,
            True,
            {"foo": 1.0, "bar": 0.0, "baz": None, "quux": None},
        ),
    ),
    Case(
        "A5 test edited",
        "1/7 bar=0 baz=0 quux=0 manual=False (test restored)",
        "match",
        a_case(f"{APPS}/submitted-grade-cell-changed.ipynb", 1.0, False, A_UNCHANGED),
    ),
    Case(
        "A6 read-only edited",
        "1/7 as A1 (ro1, ro2 restored)",
        "match",
        a_case(f"{APPS}/submitted-locked-cell-changed.ipynb", 1.0, False, A_UNCHANGED),
    ),
    Case(
        "A7 answer type changed",
        "nbgrader crashes; want 1/7 as A1",
        "better",
        a_case(f"{PRE}/submitted-answer-cell-type-changed.ipynb", 1.0, False, A_UNCHANGED),
    ),
    Case(
        "A8 test type changed",
        "nbgrader crashes; want 1/7 as A1",
        "better",
        a_case(f"{PRE}/submitted-grade-cell-type-changed.ipynb", 1.0, False, A_UNCHANGED),
    ),
    Case("B release unchanged", "0/6 manual=False", "match", b_release_unchanged),
    Case("B source submitted", "3/6, 4 tests pass, 2 manual None", "match", b_source_submitted),
    Case("C hidden tests", "1.5/3 (squares_invalid_input 1 + uses_squares 0.5)", "match", c_hidden),
    Case("C feedback", "nbgrader leaks hidden tests (#917); want none", "better", c_feedback),
    Case("D timeout, default", "1/1", "match", d_case("timeout.ipynb", (), 1.0, 1.0)),
    Case(
        "D timeout, 2 s",
        "0/1 (CellTimeoutError)",
        "match",
        d_case("timeout.ipynb", ("--cell-timeout", "2"), 0.0, 1.0),
    ),
    Case("D infinite loop, 1 s", "finishes, 0/0, graded file written", "match", d_infinite_loop),
    Case(
        "D env variable",
        "0/1 (NBGRADER_EXECUTION set)",
        "match",
        d_case("validating-environment-variable.ipynb", (), 0.0, 1.0),
    ),
    Case("D side effects", "file in graded copy, not in submission", "match", d_side_effects),
    Case(
        "D relative file",
        "passes (cwd = notebook dir): 10/10",
        "match",
        d_case("open_relative_file.ipynb", (), 10.0, 10.0, ("data.txt",)),
    ),
    Case(
        "E duplicate grade ids",
        "error: duplicate grade id",
        "match",
        e_case(f"{PRE}/duplicate-grade-ids.ipynb", True, "duplicate"),
    ),
    Case("E blank grade id", "error", "match", e_case(f"{PRE}/blank-grade-id.ipynb", True, "grade_id")),
    Case("E blank points", "error", "match", e_case(f"{PRE}/blank-points.ipynb", True, "points")),
    Case("E bad markdown 1", "error", "match", e_case(f"{PRE}/bad-markdown-cell-1.ipynb", True, "markdown")),
    Case("E bad markdown 2", "error", "match", e_case(f"{PRE}/bad-markdown-cell-2.ipynb", True, "")),
    Case("E manual code cell", "valid", "match", e_case(f"{PRE}/manually-graded-code-cell.ipynb", False)),
    Case(
        "E schema v0",
        "nbgrader: SchemaTooOld, run `nbgrader update`; ours upgrades",
        "better",
        e_case(f"{APPS}/test-v0.ipynb", False),
    ),
    Case("E too new", "error: schema too new", "match", e_case(f"{APPS}/too-new.ipynb", True, "newer")),
    Case(
        "E markers without metadata",
        "error: solution region in non-solution cell",
        "match",
        e_case(f"{APPS}/test-no-metadata.ipynb", True, "solution region"),
    ),
    Case("E task mark scheme", "mark scheme stripped from the release", "match", e_task_mark_scheme),
    Case(
        "E zero-point test",
        "failing 0-point test reported failed",
        "match",
        d_case("validation-zero-points.ipynb", (), 0.0, 0.0),
    ),
    Case("F long output", "exactly 1000 lines, last truncation marker", "match", f_long_output),
    Case("F infinite recursion", "exactly 100 traceback entries", "match", f_recursion),
    Case(
        "G bitdiddle",
        "1.5/13: problem1 1.5/10 (squares 0, invalid 1, sum 0, uses 0.5, app 0), problem2 0/3",
        "match",
        g_student(
            "bitdiddle",
            1.5,
            True,
            {
                "correct_squares": 0.0,
                "squares_invalid_input": 1.0,
                "correct_sum_of_squares": 0.0,
                "sum_of_squares_uses_squares": 0.5,
                "sum_of_squares_application": 0.0,
            },
        ),
    ),
    Case(
        "G hacker",
        "3/13 manual=True: problem1 3 (1+1+0.5+0.5), problem2 0",
        "match",
        g_student(
            "hacker",
            3.0,
            True,
            {
                "correct_squares": 1.0,
                "squares_invalid_input": 1.0,
                "correct_sum_of_squares": 0.5,
                "sum_of_squares_uses_squares": 0.5,
            },
        ),
    ),
]


def run_case(case: Case, root: Path) -> Outcome:
    """Run one case in its own temporary folder."""
    with tempfile.TemporaryDirectory(prefix="compat-") as tmp:
        try:
            return case.run(root, Path(tmp))
        except Exception as err:  # a crash is a mismatch, reported in the table
            return Outcome(f"crashed: {type(err).__name__}: {err}", False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    paths = [a for a in args if not a.startswith("--")]
    root = Path(paths[0]) if paths else DEFAULT_DIR
    if not (root / "README.md").is_file():
        print(f"nbgrader notebooks not found at {root}; nothing to compare", file=sys.stderr)
        return 2
    rows = []
    for case in CASES:
        outcome = run_case(case, root)
        match = ("better" if case.verdict == "better" else "yes") if outcome.ok else "NO"
        rows.append({"case": case.name, "expected": case.expected, "ours": outcome.ours, "match": match})
        if not as_json:
            print(f"{case.name:<26} | {case.expected:<58.58} | {outcome.ours:<70.70} | {match}", flush=True)
    if as_json:
        print(json.dumps(rows, indent=1))
    failed = [r for r in rows if r["match"] == "NO"]
    print(f"{len(rows) - len(failed)} of {len(rows)} cases match", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

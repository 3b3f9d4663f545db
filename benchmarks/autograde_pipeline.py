"""Autograde throughput: Grader Service's in-process pipeline beside `nbgrader autograde`.

Usage: python benchmarks/autograde_pipeline.py [--submissions 20] [--skip-nbgrader]

Builds one 5-cell assignment (read-only intro, answer, two test cells one with hidden tests, a manual
answer), 20 student submissions (right, wrong and unanswered in turn), and grades them:

- ours: `grader_service.convert.autograde` in-process, one fresh kernel per submission; the time per
  submission is split into kernel start (time spent waiting for the kernel), execution, and the rest
  (reading, restoring cells, scoring, writing, stopping the kernel);
- nbgrader 0.9.6: `nbgrader autograde` on the same 20 submissions, installed by this script into its own
  virtualenv (~/.cache/grader-service-bench/nbgrader-venv, created when absent; never a project dependency).

Prints a side-by-side table with ratios. Figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

from grader_service.convert import autograde, generate_assignment

NBGRADER_VERSION = "0.9.6"
VENV = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "grader-service-bench" / "nbgrader-venv"
)

ANSWERS = [
    "def add(a, b):\n    return a + b",  # right
    "def add(a, b):\n    return a - b",  # wrong
    None,  # left as released
]


def meta(gid: str, **flags: object) -> dict[str, object]:
    base = {"grade": False, "solution": False, "locked": False, "grade_id": gid, "schema_version": 3}
    base.update(flags)
    return {"nbgrader": base}


def source_notebook() -> nbformat.NotebookNode:
    """The instructor's 5-cell notebook."""
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# Adding\nWrite `add(a, b)`.", metadata=meta("intro", locked=True)),
            v4.new_code_cell(
                "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
                metadata=meta("add", solution=True),
            ),
            v4.new_code_cell("assert add(1, 2) == 3", metadata=meta("test_add", grade=True, points=1)),
            v4.new_code_cell(
                "assert add(-1, 1) == 0\n### BEGIN HIDDEN TESTS\nassert add(10, 5) == 15\n"
                "### END HIDDEN TESTS",
                metadata=meta("test_hidden", grade=True, points=2),
            ),
            v4.new_markdown_cell(
                "Explain your code.\n### BEGIN SOLUTION\nIt adds.\n### END SOLUTION",
                metadata=meta("explain", grade=True, solution=True, points=1),
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write_submissions(release_nb: Path, target_of: Callable[[int], Path], count: int) -> None:
    """Write `count` student notebooks; target_of(i) gives the path of student i's p1.ipynb."""
    for i in range(count):
        nb = nbformat.read(release_nb, as_version=4)
        answer = ANSWERS[i % len(ANSWERS)]
        if answer is not None:
            nb.cells[1].source = answer
            nb.cells[4].source = f"Student {i} explains."
        path = Path(target_of(i))
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)


def bench_ours(work: Path, count: int) -> dict[str, float]:
    source, release = work / "ours" / "source", work / "ours" / "release"
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), source / "p1.ipynb")
    book = generate_assignment(source, release)
    write_submissions(
        release / "p1.ipynb", lambda i: work / "ours" / "submitted" / f"s{i:02d}" / "p1.ipynb", count
    )
    autograde(work / "ours" / "submitted" / "s00", work / "ours" / "warmup", book)  # imports, page cache
    rows = []
    wall_start = time.perf_counter()
    for i in range(count):
        started = time.perf_counter()
        result = autograde(
            work / "ours" / "submitted" / f"s{i:02d}", work / "ours" / "graded" / f"s{i:02d}", book
        )
        total = time.perf_counter() - started
        t = result["timings"]
        rows.append(
            {
                "total": total,
                "kernel": t["kernel_wait"],
                "execute": t["execute"],
                "rest": total - t["kernel_wait"] - t["execute"],
                "boot": t["kernel_start"],
                "score": result["score"],
            }
        )
    wall = time.perf_counter() - wall_start
    scores = [r["score"] for r in rows]
    out = {k: statistics.mean(r[k] for r in rows) for k in ("total", "kernel", "execute", "rest", "boot")}
    out["wall_per_submission"] = wall / count
    out["scores"] = scores  # type: ignore[assignment]
    return out


def ensure_nbgrader() -> Path:
    """The nbgrader executable in the benchmark's own virtualenv, created when absent."""
    exe = VENV / "bin" / "nbgrader"
    if not exe.exists():
        print(f"installing nbgrader {NBGRADER_VERSION} into {VENV} ...", file=sys.stderr)
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", f"nbgrader=={NBGRADER_VERSION}"],
            check=True,
        )
    return exe


def nbgrader_course(work: Path, count: int) -> tuple[Path, Callable[..., None]]:
    """An nbgrader course under `work` with the assignment generated and `count` submissions in place;
    returns the course directory and a runner of `nbgrader <args>` in it (benchmark venv)."""
    exe = ensure_nbgrader()
    course = work / "course"
    (course / "source" / "ps1").mkdir(parents=True)
    nbformat.write(source_notebook(), course / "source" / "ps1" / "p1.ipynb")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'bench'\nc.CourseDirectory.root = {str(course)!r}\n"
    )
    env = dict(os.environ, PATH=f"{VENV / 'bin'}:{os.environ.get('PATH', '')}", JUPYTER_PLATFORM_DIRS="1")
    env.pop("VIRTUAL_ENV", None)

    def run(*args: str) -> None:
        proc = subprocess.run([str(exe), *args], cwd=course, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-3000:]}")

    run("generate_assignment", "ps1", "--force")
    write_submissions(
        course / "release" / "ps1" / "p1.ipynb",
        lambda i: course / "submitted" / f"s{i:02d}" / "ps1" / "p1.ipynb",
        count,
    )
    return course, run


def bench_nbgrader(work: Path, count: int) -> dict[str, float]:
    course, run = nbgrader_course(work, count)
    started = time.perf_counter()
    run("autograde", "ps1", "--create", "--force")
    total = time.perf_counter() - started
    graded = sum((course / "autograded" / f"s{i:02d}" / "ps1" / "p1.ipynb").is_file() for i in range(count))
    if graded != count:
        raise RuntimeError(f"nbgrader graded {graded} of {count} submissions")
    return {"total": total / count, "batch_seconds": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--skip-nbgrader", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        work = Path(tmp)
        ours = bench_ours(work, args.submissions)
        theirs = None if args.skip_nbgrader else bench_nbgrader(work, args.submissions)
    n = args.submissions
    print(
        f"autograde, {n} submissions of a 5-cell notebook, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}"
    )
    print(
        f"{'seconds per submission':<34}{'Grader Service':>16}"
        f"{'nbgrader ' + NBGRADER_VERSION:>18}{'ratio':>9}"
    )
    print(f"{'kernel start (waited for)':<34}{ours['kernel']:>16.3f}{'':>18}")
    print(f"{'  kernel boot (launch to ready)':<34}{ours['boot']:>16.3f}{'':>18}")
    print(f"{'execution':<34}{ours['execute']:>16.3f}{'':>18}")
    print(f"{'rest (restore, score, write, stop)':<34}{ours['rest']:>16.3f}{'':>18}")
    if theirs:
        ratio = theirs["total"] / ours["total"]
        print(f"{'total':<34}{ours['total']:>16.3f}{theirs['total']:>18.3f}{ratio:>8.1f}x")
        print(
            f"(nbgrader: one `nbgrader autograde` run of {n} submissions "
            f"took {theirs['batch_seconds']:.1f} s)"
        )
    else:
        print(f"{'total':<34}{ours['total']:>16.3f}")
    print(f"our scores: {ours['scores']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

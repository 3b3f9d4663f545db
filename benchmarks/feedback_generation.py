"""Feedback generation: Grader Service's feedback pages beside `nbgrader generate_feedback`.

Usage: .venv/bin/python benchmarks/feedback_generation.py [--submissions 20] [--skip-nbgrader]

The assignment and submissions are autograde_pipeline.py's: a 5-cell notebook (read-only intro, answer, two
test cells, one with hidden tests, a manual answer) and 20 submissions, right, wrong and unanswered in turn.
Each side first generates and autogrades them, untimed. Then it renders one HTML feedback page per
submission, timed:

- ours, warm: `grader_service.convert.generate_feedback` in this process, one submission at a time, after
  one render to load nbconvert's templates. This is what a feedback job costs in a running worker, which
  also hides hidden tests, caps outputs, renders math to MathML and sanitises HTML.
- ours, cold: the same in a fresh Python process that renders all the submissions, with the imports and the
  first template load included, as nbgrader's command line is;
- nbgrader 0.9.6: one `nbgrader generate_feedback` run over the same submissions, installed into its own
  virtualenv, the one autograde_pipeline.py uses (never a project dependency).

Prints seconds per submission, page sizes, and the ratio of each to ours. The figures are recorded in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from autograde_pipeline import (  # noqa: E402
    NBGRADER_VERSION,
    nbgrader_course,
    source_notebook,
    write_submissions,
)

from grader_service.convert import autograde, generate_assignment, generate_feedback  # noqa: E402

COLD = """
import json, sys, time
started = time.perf_counter()
from grader_service.convert import generate_feedback
work, count = sys.argv[1], int(sys.argv[2])
book = json.load(open(f"{work}/gradebook.json"))
for i in range(count):
    generate_feedback(f"{work}/graded/s{i:02d}", f"{work}/cold/s{i:02d}", book)
print(time.perf_counter() - started)
"""


def bench_ours(work: Path, count: int) -> dict[str, float]:
    source, release = work / "source", work / "release"
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), source / "p1.ipynb")
    book = generate_assignment(source, release)
    (work / "gradebook.json").write_text(json.dumps(book))
    write_submissions(release / "p1.ipynb", lambda i: work / "submitted" / f"s{i:02d}" / "p1.ipynb", count)
    for i in range(count):
        autograde(work / "submitted" / f"s{i:02d}", work / "graded" / f"s{i:02d}", book)
    generate_feedback(work / "graded" / "s00", work / "warmup", book)  # nbconvert's templates, imports
    times, sizes = [], []
    for i in range(count):
        started = time.perf_counter()
        pages = generate_feedback(work / "graded" / f"s{i:02d}", work / "feedback" / f"s{i:02d}", book)
        times.append(time.perf_counter() - started)
        sizes.append(sum(Path(p).stat().st_size for p in pages.values()))
        if len(pages) != 1:
            raise RuntimeError(f"submission {i}: {len(pages)} pages, expected 1")
    cold = subprocess.run(
        [sys.executable, "-c", COLD, str(work), str(count)], capture_output=True, text=True, check=True
    )
    return {
        "warm": statistics.mean(times),
        "warm_p95": sorted(times)[int(0.95 * (len(times) - 1))],
        "cold": float(cold.stdout.strip()) / count,
        "size": statistics.mean(sizes),
    }


def bench_nbgrader(work: Path, count: int) -> dict[str, float]:
    course, run = nbgrader_course(work, count)
    run("autograde", "ps1", "--create", "--force")
    started = time.perf_counter()
    run("generate_feedback", "ps1", "--force")
    total = time.perf_counter() - started
    pages = [course / "feedback" / f"s{i:02d}" / "ps1" / "p1.html" for i in range(count)]
    missing = [p for p in pages if not p.is_file()]
    if missing:
        raise RuntimeError(f"nbgrader wrote {count - len(missing)} of {count} feedback pages")
    return {"total": total / count, "batch": total, "size": statistics.mean(p.stat().st_size for p in pages)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--skip-nbgrader", action="store_true")
    args = parser.parse_args()
    n = args.submissions
    with tempfile.TemporaryDirectory(prefix="bench-feedback-") as tmp:
        ours = bench_ours(Path(tmp) / "ours", n)
        theirs = None if args.skip_nbgrader else bench_nbgrader(Path(tmp), n)
    python = sys.version.split()[0]
    print(f"feedback pages, {n} submissions of a 5-cell notebook, {os.cpu_count()} CPUs, Python {python}")
    peer = "nbgrader " + NBGRADER_VERSION
    print(f"{'seconds per submission':<44}{'Grader Service':>16}{peer:>18}{'ratio':>9}")
    if theirs:
        print(
            f"{'warm worker (in process, after one page)':<44}{ours['warm']:>16.3f}{'':>18}"
            f"{theirs['total'] / ours['warm']:>8.1f}x"
        )
        print(
            f"{'cold (fresh process, imports included)':<44}{ours['cold']:>16.3f}{theirs['total']:>18.3f}"
            f"{theirs['total'] / ours['cold']:>8.1f}x"
        )
        print(f"{'page size, kB':<44}{ours['size'] / 1024:>16.0f}{theirs['size'] / 1024:>18.0f}")
        batch = theirs["batch"]
        print(f"(nbgrader: one `nbgrader generate_feedback` run of {n} submissions took {batch:.1f} s)")
    else:
        print(f"{'warm worker (in process, after one page)':<44}{ours['warm']:>16.3f}")
        print(f"{'cold (fresh process, imports included)':<44}{ours['cold']:>16.3f}")
        print(f"{'page size, kB':<44}{ours['size'] / 1024:>16.0f}")
    print(f"(ours, warm: p95 {ours['warm_p95']:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

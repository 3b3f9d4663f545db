"""Gradebook at scale on PostgreSQL: 100,000 learners × 20 assignments (2M submissions and assignment grades).

Generates the lecture with COPY into a fresh database, then times
  (a) the batch recompute after a grading-policy change (and a full rebuild from the submissions),
  (b) gradebook pages of 100 through the running service (p50/p95: first page, a deep cursor, filters),
  (c) the CSV report (time, and peak memory of the service process),
  (d) a stream update of one learner (recompute_learner).
The service runs as its own process (`python -m grader_service`) so its memory is measured alone. Usage:

    .venv/bin/python benchmarks/gradebook_scale.py [--learners 100000] [--assignments 20] [--pages 200]
    .venv/bin/python benchmarks/gradebook_scale.py --keep        # prints the kept database's URL at the end
    .venv/bin/python benchmarks/gradebook_scale.py --reuse URL [--pages-only]   # on a kept database

`--reuse` skips the generation (several minutes) and the full rebuild (a'); (a) changes the policy and back,
so the kept database ends as it was; `--pages-only` skips (a) and (d) too. A new schema revision is applied
to the kept database first, followed by a VACUUM ANALYZE. Every run prints a calibration figure (a fixed
Python loop) before and after: this machine's speed drifts by up to 2x within minutes, so compare runs by it.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader_service.auth.tokens import create_token  # noqa: E402
from grader_service.grades.recompute import (  # noqa: E402
    create_recompute_job,
    recompute_learner,
    run_lecture_recompute,
)
from grader_service.orm.migrate import current_revision, upgrade  # noqa: E402
from grader_service.orm.models import Assignment, Lecture, Submission, User  # noqa: E402
from grader_service.orm.session import Database  # noqa: E402

PG_ADMIN = os.environ.get("GRADER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
POLICY_1 = {
    "GRADER": [
        {"type": "Homework", "min_count": 12, "drop_count": 2, "weight": 0.4, "short_label": "HW"},
        {"type": "Lab", "min_count": 6, "drop_count": 1, "weight": 0.3},
        {"type": "Exam", "min_count": 2, "drop_count": 0, "weight": 0.3},
    ],
    "GRADE_CUTOFFS": {"A": 0.9, "B": 0.8, "C": 0.7, "D": 0.6},
}
POLICY_2 = {
    "GRADER": [
        {"type": "Homework", "min_count": 12, "drop_count": 3, "weight": 0.5, "short_label": "HW"},
        {"type": "Lab", "min_count": 6, "drop_count": 0, "weight": 0.2},
        {"type": "Exam", "min_count": 2, "drop_count": 0, "weight": 0.3},
    ],
    "GRADE_CUTOFFS": {"A": 0.85, "B": 0.75, "C": 0.6},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_database() -> str:
    name = f"grader_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name


def drop_database(url: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def kinds(n: int) -> list[str]:
    """12 Homework, 6 Lab, 2 Exam for 20 assignments (scaled for other counts)."""
    out = ["Homework"] * (n * 12 // 20) + ["Lab"] * (n * 6 // 20)
    return out + ["Exam"] * (n - len(out))


def generate(db: Database, learners: int, assignments: int) -> dict[str, Any]:
    """The lecture, its learners, assignments, 1 submission each and the assignment grades, via COPY."""
    rng = random.Random(7)
    t0 = time.perf_counter()
    with db.session() as s:
        lecture = Lecture(
            code="scale", name="Scale lecture", grading_policy=POLICY_1, gradebook_writable=True
        )
        staff = User(name="instructor")
        s.add_all([lecture, staff])
        s.commit()
        lecture_id, staff_id = lecture.id, staff.id
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        now = datetime.now(UTC)
        cur.execute(
            "INSERT INTO lecture_members (lecture_id, user_id, role, created_at) VALUES (%s, %s, %s, %s)",
            (lecture_id, staff_id, "instructor", now),
        )
        with cur.copy("COPY users (name, admin, created_at) FROM STDIN") as copy:
            for i in range(learners):
                copy.write_row((f"learner{i:06d}", False, now))
        cur.execute("SELECT id FROM users WHERE name LIKE 'learner%%' ORDER BY id")
        user_ids = [r[0] for r in cur.fetchall()]
        with cur.copy("COPY lecture_members (lecture_id, user_id, role, created_at) FROM STDIN") as copy:
            for uid in user_ids:
                copy.write_row((lecture_id, uid, "student", now))
        aids = []
        for pos, kind in enumerate(kinds(assignments)):
            cur.execute(
                "INSERT INTO assignments (lecture_id, name, position, assignment_type, points, late_periods,"
                " cell_timeout, allowed_files, status, grading_basis, created_at, updated_at) VALUES "
                "(%s, %s, %s, %s, %s, '[]', 30, '[]', 'released', 'best', %s, %s) RETURNING id",
                (lecture_id, f"{kind} {pos + 1}", pos, kind, 10.0 if kind != "Exam" else 50.0, now, now),
            )
            aids.append((cur.fetchone()[0], 10.0 if kind != "Exam" else 50.0))
        raw.commit()
        t_users = time.perf_counter() - t0
        with cur.copy(
            "COPY submissions (assignment_id, user_id, submitted_at, auto_status, manual_status, "
            "feedback_status, auto_score, score, late_scaling, final_score, updated_at) FROM STDIN"
        ) as copy:
            for uid in user_ids:
                for aid, points in aids:
                    score = round(points * rng.randint(0, 100) / 100, 2)
                    scaling = 1.0 if rng.random() < 0.9 else 0.5
                    copy.write_row(
                        (
                            aid,
                            uid,
                            now - timedelta(hours=1),
                            "automatically_graded",
                            "not_graded",
                            "not_generated",
                            score,
                            score,
                            scaling,
                            score * scaling,
                            now,
                        )
                    )
        raw.commit()
        t_subs = time.perf_counter() - t0 - t_users
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    # the assignment grades come from the submissions through the service's own set-based rebuild
    with db.session() as s:
        job = create_recompute_job(
            s, lecture_id, reason="benchmark seed", assignment_ids=[a for a, _ in aids]
        )
        s.commit()
    t1 = time.perf_counter()
    run_lecture_recompute(db.session_factory, job.id)
    t_rebuild = time.perf_counter() - t1
    with psycopg.connect(
        db.engine.url.render_as_string(hide_password=False).replace("+psycopg", ""), autocommit=True
    ) as conn:
        conn.execute("VACUUM ANALYZE")
    with db.session() as s:
        token = create_token(s, s.get(User, staff_id), note="benchmark")
        s.commit()
    return {
        "lecture_id": lecture_id,
        "user_ids": user_ids,
        "assignment_ids": [a for a, _ in aids],
        "token": token,
        "seed_users_s": t_users,
        "seed_submissions_s": t_subs,
        "rebuild_s": t_rebuild,
    }


def existing(db: Database) -> dict[str, Any]:
    """What `generate` returns, read back from a database it filled (kept with --keep)."""
    with db.session() as s:
        lecture_id = s.scalar(select(Lecture.id).where(Lecture.code == "scale"))
        if lecture_id is None:
            raise SystemExit("--reuse: that database holds no benchmark lecture (code 'scale')")
        staff = s.scalar(select(User).where(User.name == "instructor"))
        assignment_ids = list(
            s.scalars(
                select(Assignment.id).where(Assignment.lecture_id == lecture_id).order_by(Assignment.position)
            )
        )
        token = create_token(s, staff, note="benchmark")
        s.commit()
    return {"lecture_id": lecture_id, "assignment_ids": assignment_ids, "token": token}


def time_batch(
    db: Database, lecture_id: int, policy: dict[str, Any], **job: Any
) -> tuple[float, dict[str, Any]]:
    with db.session() as s:
        s.get(Lecture, lecture_id).grading_policy = policy
        made = create_recompute_job(s, lecture_id, **job)
        s.commit()
    t0 = time.perf_counter()
    run_lecture_recompute(db.session_factory, made.id)
    took = time.perf_counter() - t0
    with db.session() as s:
        from grader_service.orm.models import Job

        done = s.get(Job, made.id)
        assert done.state.value == "succeeded", (done.state, done.error)
        return took, dict(done.result or {})


def grade_timings(db: Database, seed: dict[str, Any], rebuild: bool) -> None:
    """(a) the batch recompute after a policy change (twice: to POLICY_2 and back, so a kept database ends
    where it started), (a') the full rebuild when `rebuild`, (d) stream updates of one learner."""
    lid = seed["lecture_id"]
    took, result = time_batch(db, lid, POLICY_2, reason="policy")
    print(f"(a) batch recompute after a policy change: {took:.2f}s ({result})", flush=True)
    if rebuild:
        took, result = time_batch(
            db, lid, POLICY_1, reason="regrade", assignment_ids=seed["assignment_ids"], regrade=True
        )
        print(
            f"(a') full rebuild (assignment grades from submissions + lecture grades): {took:.2f}s",
            flush=True,
        )
    else:
        took, result = time_batch(db, lid, POLICY_1, reason="policy")
        print(f"(a) and back to the first policy: {took:.2f}s", flush=True)
    # (d) stream update: change one learner's submission, then recompute that learner
    samples = []
    rng = random.Random(1)
    with db.session() as s:
        learners = list(
            s.scalars(
                select(Submission.user_id)
                .where(Submission.assignment_id == seed["assignment_ids"][0])
                .limit(5000)
            )
        )
    for _ in range(50):
        uid = rng.choice(learners)
        with db.session() as s:
            sub = s.query(Submission).filter(Submission.user_id == uid).first()
            sub.final_score = sub.score = sub.auto_score = rng.randint(0, 10)
            s.commit()
        t0 = time.perf_counter()
        recompute_learner(db.session_factory, lid, uid)
        samples.append(time.perf_counter() - t0)
    print(
        f"(d) stream update of one learner: p50 {1000 * statistics.median(samples):.1f} ms, "
        f"p95 {1000 * percentile(samples, 0.95):.1f} ms",
        flush=True,
    )


def calibration() -> float:
    """Milliseconds for a fixed loop of Python arithmetic (best of 5): how fast this machine is right now."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return 1000 * best


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--assignments", type=int, default=20)
    parser.add_argument("--pages", type=int, default=200, help="requests per page scenario")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--batch-only", action="store_true", help="only generate and time (a) and (d)")
    parser.add_argument("--pages-only", action="store_true", help="skip (a) and (d): time (b) and (c)")
    parser.add_argument(
        "--reuse", metavar="URL", help="a database kept by --keep: skip the generation (and (a'))"
    )
    args = parser.parse_args()
    url = args.reuse or new_database()
    db = Database(url, threads=4)
    revision = current_revision(db.engine)
    upgrade(db.engine)
    if args.reuse and current_revision(db.engine) != revision:
        # a migration may rewrite whole tables (0006 backfills every membership): without a VACUUM the
        # index-only scans read the heap until autovacuum comes round
        print(
            f"upgraded the kept database from {revision} to {current_revision(db.engine)}; VACUUM ANALYZE",
            flush=True,
        )
        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
        ) as conn:
            conn.execute("VACUUM ANALYZE")
    try:
        print(
            f"calibration: a fixed pure-Python loop takes {calibration():.0f} ms "
            "(the machine's speed drifts; compare runs by it)",
            flush=True,
        )
        if args.reuse:
            seed = existing(db)
        else:
            print(f"generating {args.learners} learners x {args.assignments} assignments ...", flush=True)
            seed = generate(db, args.learners, args.assignments)
            print(
                f"  users+members {seed['seed_users_s']:.1f}s, "
                f"submissions (COPY) {seed['seed_submissions_s']:.1f}s, "
                f"assignment grades rebuilt from submissions {seed['rebuild_s']:.1f}s",
                flush=True,
            )
        if not args.pages_only:
            grade_timings(db, seed, rebuild=not args.reuse)
        if not args.batch_only:
            serve(db, url, seed, args.pages)
        print(f"calibration after: {calibration():.0f} ms", flush=True)
    finally:
        db.close()
        if args.keep or args.reuse:
            print(f"database kept: {url}", flush=True)
        else:
            drop_database(url)


def serve(db: Database, url: str, seed: dict[str, Any], pages: int) -> None:
    """(b) and (c) through the service, started as its own process."""
    proc = None
    try:
        port = free_port()
        env = dict(
            os.environ,
            GRADER_DB_URL=url,
            GRADER_PORT=str(port),
            GRADER_DATA_DIR=tempfile.mkdtemp(prefix="grader-bench-"),
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader_service"],
            env=env,
            cwd=tempfile.gettempdir(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        http.headers["Authorization"] = f"token {seed['token']}"
        for _ in range(100):
            try:
                if http.get(base + "/api/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        page_scenarios(http, base, seed["lecture_id"], pages)
        csv_report(http, base, seed["lecture_id"], psutil.Process(proc.pid))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)


def page_scenarios(http: requests.Session, base: str, lid: int, count: int) -> None:
    path = f"{base}/api/lectures/{lid}/gradebook"
    first = http.get(path, params={"page_size": 100}).json()
    # a deep cursor: follow `next` 500 pages (50,000 learners) in, then time that page
    deep = first
    for _ in range(500):
        if not deep.get("next"):
            break
        deep = http.get(base + deep["next"]).json()
    deep_url = base + deep["previous"] if deep.get("previous") else path
    third = first["results"][0]["section_breakdown"][2]["assignment_id"]
    filtered = [
        ("username_contains=99", {"page_size": 100, "username_contains": "99"}),
        ("username_contains=R (1 char, cased)", {"page_size": 100, "username_contains": "R"}),
        ("username_contains=999", {"page_size": 100, "username_contains": "999"}),
        ("course_grade 40-60", {"page_size": 100, "course_grade_min": 40, "course_grade_max": 60}),
        ("course_grade_max=30 (holds 0, few)", {"page_size": 100, "course_grade_max": 30}),
        ("assignment 3 grade >= 80", {"page_size": 100, "assignment": third, "assignment_grade_min": 80}),
        (
            "assignment 3 grade <= 2 (holds 0, few)",
            {"page_size": 100, "assignment": third, "assignment_grade_max": 2},
        ),
    ]
    scenarios: list[tuple[str, str, dict[str, Any] | None]] = [
        ("first page", path, {"page_size": 100}),
        ("deep cursor (learner 50,000)", deep_url, None),
    ]
    for name, params in filtered:
        scenarios.append((name, path, params))
        label, url = deep_link(http, base, path, params)
        scenarios.append((label, url, None))
    print("(b) gradebook pages of 100 (ms):", flush=True)
    for name, url, params in scenarios:
        samples = []
        for _ in range(count):
            t0 = time.perf_counter()
            r = http.get(url, params=params)
            samples.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text[:300]
        body = r.json()
        print(
            f"    {name:40s} p50 {1000 * statistics.median(samples):6.1f}  p95 "
            f"{1000 * percentile(samples, 0.95):6.1f}  (results {len(body['results'])}, "
            f"filtered {body['filtered_users_count']})",
            flush=True,
        )


def deep_link(http: requests.Session, base: str, path: str, params: dict[str, Any]) -> tuple[str, str]:
    """A deep cursor into a filtered list: the `next` link followed halfway through it (at most 400 pages
    in); (a label, that page's URL)."""
    page = http.get(path, params=params).json()
    pages = -(-page["filtered_users_count"] // 100)
    url, number = path, 1
    for _ in range(min(400, pages // 2)):
        if not page.get("next"):
            break
        url, number = base + page["next"], number + 1
        page = http.get(url).json()
    return f"  same, deep cursor (page {number} of {pages})", url


def csv_report(http: requests.Session, base: str, lid: int, proc: psutil.Process) -> None:
    rss_before = proc.memory_info().rss
    peak = rss_before
    rows = 0
    t0 = time.perf_counter()
    with http.get(f"{base}/api/lectures/{lid}/gradebook.csv", stream=True) as r:
        assert r.status_code == 200, r.text[:300]
        buffer = io.BytesIO()
        for chunk in r.iter_content(chunk_size=1 << 16):
            buffer.write(chunk)
            if len(buffer.getvalue()) > (1 << 22):
                rows += buffer.getvalue().count(b"\n")
                buffer = io.BytesIO()
            peak = max(peak, proc.memory_info().rss)
        rows += buffer.getvalue().count(b"\n")
    took = time.perf_counter() - t0
    print(
        f"(c) CSV report: {rows - 1} learner rows in {took:.1f}s; service RSS {rss_before / 2**20:.0f} MiB "
        f"before, peak {peak / 2**20:.0f} MiB (+{(peak - rss_before) / 2**20:.0f} MiB)",
        flush=True,
    )


if __name__ == "__main__":
    main()

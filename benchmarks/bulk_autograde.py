"""Bulk re-autograde throughput: one `POST .../autograde {"submissions": "all"}` over N graded submissions.

Usage: .venv/bin/python benchmarks/bulk_autograde.py [--submissions 100] [--backend sqlite|postgresql]

The real service in this process (tests/support/server.py: the app on a free port, the embedded Celery
worker with its default threads, the sandboxed ProcessExecutor with its fork server, real kernels), an
assignment authored and released with real git, N submissions handed in through the API by three users
(right, wrong and unanswered notebooks) and autograded once. Then the bulk job: its wall time from the job
row (started → finished), submissions per second, and how its `result.progress` moved as it was polled.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.databases import drop_pg_database, new_pg_database  # noqa: E402
from tests.support.server import ServiceProcess  # noqa: E402
from tests.support.world import build_world  # noqa: E402
from tests.tasks.test_embedded_pipeline import author_and_release, student_submits  # noqa: E402

USERS = ("student", "student2", "tutor")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bulk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'bench.sqlite'}" if args.backend == "sqlite" else new_pg_database()
        svc = ServiceProcess(db_url=url, data_dir=tmp / "data")
        svc.start(worker="embedded")
        try:
            run(svc, tmp, args.submissions, args.backend)
        finally:
            svc.stop()
            if args.backend == "postgresql":
                drop_pg_database(url)
    return 0


def run(svc: ServiceProcess, tmp: Path, count: int, backend: str) -> None:
    w = build_world(svc)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Bench"}).json()["id"]
    author_and_release(w, tmp, aid)
    path = f"{w.lecture_path}/assignments/{aid}"
    student_submits(w, tmp, aid, "student")
    student_submits(w, tmp, aid, "student2", answer="def square(x):\n    return x + x\n")
    for i in range(count - 2):
        assert w.req(USERS[i % 3], "POST", path + "/submissions", json={}).status_code == 201

    def all_graded() -> bool:
        subs = w.req("tutor", "GET", path + "/submissions").json()
        return len(subs) == count and all(s["auto_status"] == "automatically_graded" for s in subs)

    svc.wait_for(all_graded, timeout=60 + count * 5, interval=1)
    job = w.req("tutor", "POST", path + "/autograde", json={"submissions": "all"}).json()
    samples: list[tuple[float, int]] = []
    start = time.monotonic()
    while True:
        j = w.req("tutor", "GET", f"{w.lecture_path}/jobs/{job['id']}").json()
        samples.append((time.monotonic() - start, j["result"]["progress"]["done"]))
        if j["state"] != "running":
            break
        time.sleep(0.25)
    seconds = (
        datetime.fromisoformat(j["finished_at"]) - datetime.fromisoformat(j["started_at"])
    ).total_seconds()
    result = j["result"]
    print(f"backend {backend}, {svc.app.embedded_worker_threads} worker threads, {count} submissions")
    print(f"bulk job {j['state']}: {result['succeeded']} succeeded, {result['failed']} failed")
    print(
        f"wall {seconds:.1f} s = {count / seconds:.2f} submissions/s ({60 * count / seconds:.0f} per minute)"
    )
    quarter = [next(t for t, done in samples if done >= count * q / 4) for q in (1, 2, 3, 4)]
    print("progress reached 25/50/75/100 % after " + " / ".join(f"{t:.1f} s" for t in quarter))


if __name__ == "__main__":
    sys.exit(main())

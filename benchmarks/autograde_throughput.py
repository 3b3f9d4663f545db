"""Autograde throughput and push→score latency of the whole service, beside `nbgrader autograde`.

Usage: .venv/bin/python benchmarks/autograde_throughput.py [--submissions 50] [--latency-samples 20]
       [--workers N] [--skip-nbgrader]

Ours: the real service (`python -m grader_service`, embedded worker with its default threads or --workers,
the default sandboxed ProcessExecutor with its fork server, SQLite) as its own process. Students clone with
real git, push, and submit through the REST API. Measured:
- push→score latency: `git push` starts → the submission shows `automatically_graded` (sequential runs);
- throughput: all submissions handed in at once → all graded, as submissions per minute;
- where the time goes, from the job rows (queue wait, executor run) and the pipeline's own timings, and the
  CPU seconds per submission of the service and everything it starts (a cgroup, where one can be made).
nbgrader 0.9.6 (own venv, see autograde_pipeline.py): one `nbgrader autograde` of the same submissions.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from autograde_pipeline import (  # noqa: E402
    NBGRADER_VERSION,
    bench_nbgrader,
    source_notebook,
    write_submissions,
)

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(*args: str, cwd: Path) -> str:
    env = dict(
        os.environ,
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME="b",
        GIT_AUTHOR_EMAIL="b@x",
        GIT_COMMITTER_NAME="b",
        GIT_COMMITTER_EMAIL="b@x",
    )
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


class CpuMeter:
    """CPU seconds used by the service and everything it starts (worker threads, fork server, sandboxes,
    kernels), from a cpuacct cgroup (v1) or a cgroup v2 folder; unavailable (None) where this process may
    not create cgroups."""

    def __init__(self) -> None:
        self.path: Path | None = None
        for root, usage in (
            (Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage"),
            (Path("/sys/fs/cgroup"), "cpu.stat"),
        ):
            if (root / usage).exists():
                try:
                    path = root / f"bench-throughput-{os.getpid()}"
                    path.mkdir()
                except OSError:
                    continue
                self.path, self.usage = path, usage
                break

    def join(self) -> None:  # runs in the service's process before exec
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        text = (self.path / self.usage).read_text()
        if self.usage == "cpuacct.usage":
            return int(text) / 1e9
        return int(text.split("usage_usec ")[1].split()[0]) / 1e6

    def remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()


class Service:
    def __init__(self, work: Path, workers: int) -> None:
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        threads = f"c.GraderService.embedded_worker_threads = {workers}\n" if workers else ""
        (work / "grader_service_config.py").write_text(threads + "c.GraderService.admin_users = {'admin'}\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        self.env["GRADER_PORT"] = str(self.port)
        self.proc: subprocess.Popen[bytes] | None = None
        self.cpu = CpuMeter()

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "grader_service", *args],
            cwd=self.work,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader_service", "--log-level=WARNING"],
            cwd=self.work,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=self.cpu.join,
        )
        for _ in range(300):
            try:
                if requests.get(self.url + "/api/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the service did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        self.cpu.remove()


def tokens_for(work: Path, names: list[str]) -> dict[str, str]:
    """API tokens for the students, made through the service's own token code against its database."""
    code = (
        "import json, sys\nfrom grader_service.app import GraderService\n"
        "from grader_service.auth.tokens import create_token\nfrom grader_service.services.users import "
        "get_or_create_user\napp = GraderService(); app.load_all_config(); db = app.init_db()\nout = {}\n"
        "with db.session() as s:\n    for n in json.loads(sys.argv[1]):\n"
        "        u = get_or_create_user(s, n); s.flush(); out[n] = create_token(s, u, note='bench')\n"
        "    s.commit()\nprint(json.dumps(out))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    return json.loads(
        subprocess.run(
            [sys.executable, "-c", code, json.dumps(names)],
            cwd=work,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )


def bench_ours(work: Path, count: int, latency_samples: int, workers: int) -> dict[str, object]:
    svc = Service(work, workers)
    svc.cli("db", "upgrade")
    admin = svc.cli("token", "create", "--user", "admin", "--admin").strip()
    students = [f"s{i:02d}" for i in range(max(count, latency_samples))]
    tokens = tokens_for(work, students)
    svc.start()
    try:
        h = {"Authorization": f"token {admin}"}
        lec = requests.post(
            svc.url + "/api/lectures", json={"code": "bench", "name": "Bench"}, headers=h
        ).json()
        lp = f"{svc.url}/api/lectures/{lec['id']}"
        requests.post(
            lp + "/members",
            headers=h,
            json=[{"username": "admin", "role": "instructor"}]
            + [{"username": s, "role": "student"} for s in students],
        ).raise_for_status()
        a = requests.post(lp + "/assignments", headers=h, json={"name": "Add"}).json()
        ap = f"{lp}/assignments/{a['id']}"
        src = work / "source"
        git("clone", a["repos"]["source"].replace("http://", f"http://admin:{admin}@"), str(src), cwd=work)
        nbformat.write(source_notebook(), src / "p1.ipynb")
        (
            git("add", "-A", cwd=src),
            git("commit", "-m", "src", cwd=src),
            git("push", "origin", "HEAD:main", cwd=src),
        )
        job = requests.post(ap + "/generate", headers=h).json()
        while requests.get(f"{lp}/jobs/{job['id']}", headers=h).json()["state"] not in (
            "succeeded",
            "failed",
        ):
            time.sleep(0.1)
        requests.patch(ap, headers=h, json={"status": "released"}).raise_for_status()

        clones = {}
        for s in students:
            url = f"{svc.url.replace('http://', f'http://{s}:{tokens[s]}@')}/git/bench/{a['id']}/user/{s}"
            clones[s] = work / "clones" / s
            git("clone", url, str(clones[s]), cwd=work)

        def prepare(i: int, s: str, salt: str) -> None:
            write_submissions(clones[s] / "p1.ipynb", lambda _: clones[s] / "p1.ipynb", 1)
            nb = nbformat.read(clones[s] / "p1.ipynb", as_version=4)
            write_submissions(clones[s] / "p1.ipynb", lambda _: clones[s] / "p1.ipynb", 1)
            nb.cells[4].source = f"{s} explains, run {salt}."
            nbformat.write(nb, clones[s] / "p1.ipynb")
            git("commit", "-qam", f"work {salt}", cwd=clones[s])

        def graded(sub_path: str, token: str, interval: float = 0.02) -> dict:
            while True:
                got = requests.get(sub_path, headers={"Authorization": f"token {token}"}).json()
                if got["auto_status"] in ("automatically_graded", "grading_failed"):
                    return got
                time.sleep(interval)

        latencies = []
        for i, s in enumerate(students[:latency_samples]):
            prepare(i, s, "latency")
            t0 = time.perf_counter()
            git("push", "-q", cwd=clones[s])
            sub = requests.post(
                ap + "/submissions", headers={"Authorization": f"token {tokens[s]}"}, json={}
            ).json()
            got = graded(f"{ap}/submissions/{sub['id']}", tokens[s])
            latencies.append(time.perf_counter() - t0)
            assert got["auto_status"] == "automatically_graded", got

        for i, s in enumerate(students[:count]):
            prepare(i, s, "throughput")
            git("push", "-q", cwd=clones[s])
        t0, cpu0 = time.perf_counter(), svc.cpu.seconds()
        subs = [
            requests.post(
                ap + "/submissions", headers={"Authorization": f"token {tokens[s]}"}, json={}
            ).json()
            for s in students[:count]
        ]
        # polled every 0.1 s (the service's CPU is what is measured; polling it harder would steal from it)
        results = [graded(f"{ap}/submissions/{sub['id']}", admin, 0.1) for sub in subs]
        batch = time.perf_counter() - t0
        cpu1 = svc.cpu.seconds()
        cpu_per_job = None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / count
        assert all(r["auto_status"] == "automatically_graded" for r in results)
        jobs = [requests.get(f"{lp}/jobs/{r['autograde']['id']}", headers=h).json() for r in results]
    finally:
        svc.stop()
    runs = [j["duration"] for j in jobs]
    timings = [j["result"].get("timings", {}) for j in jobs]
    return {
        "latency_p50": statistics.median(latencies),
        "latency_p95": statistics.quantiles(latencies, n=20, method="inclusive")[18],
        "batch_seconds": batch,
        "per_minute": 60 * count / batch,
        "job_run_mean": statistics.mean(runs),
        "kernel_mean": statistics.mean(t.get("kernel_wait", 0) for t in timings),
        "execute_mean": statistics.mean(t.get("execute", 0) for t in timings),
        "pipeline_mean": statistics.mean(t.get("total", 0) for t in timings),
        "cpu_per_job": cpu_per_job,
        "scores": sorted({r["auto_score"] for r in results}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--latency-samples", type=int, default=20)
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="embedded worker threads (default: the service's default, twice the CPUs)",
    )
    parser.add_argument("--skip-nbgrader", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        work = Path(tmp)
        (work / "ours").mkdir()
        ours = bench_ours(work / "ours", args.submissions, args.latency_samples, args.workers)
        theirs = None if args.skip_nbgrader else bench_nbgrader(work, args.submissions)
    n = args.submissions
    print(
        f"\nautograde throughput, {n} submissions of a 5-cell notebook, {os.cpu_count()} CPUs, "
        f"{args.workers or 2 * (os.cpu_count() or 1)} worker threads, ProcessExecutor"
    )
    print(f"{'':<38}{'Grader Service':>16}{'nbgrader ' + NBGRADER_VERSION:>18}{'ratio':>9}")
    theirs_pm = 60 / theirs["total"] if theirs else None
    line = f"{'submissions graded per minute':<38}{ours['per_minute']:>16.1f}"
    if theirs_pm:
        line += f"{theirs_pm:>18.1f}{ours['per_minute'] / theirs_pm:>8.1f}x"
    print(line)
    print(
        f"{'all ' + str(n) + ' graded after (s)':<38}{ours['batch_seconds']:>16.1f}"
        + (f"{theirs['batch_seconds']:>18.1f}" if theirs else "")
    )
    print(f"{'push->score latency p50 (s)':<38}{ours['latency_p50']:>16.2f}")
    print(f"{'push->score latency p95 (s)':<38}{ours['latency_p95']:>16.2f}")
    print("where one job's time goes (means, s):")
    print(f"  executor run (sandbox + pipeline)   {ours['job_run_mean']:.3f}")
    print(f"    pipeline total                    {ours['pipeline_mean']:.3f}")
    print(f"      kernel start (waited for)       {ours['kernel_mean']:.3f}")
    print(f"      execution                       {ours['execute_mean']:.3f}")
    if ours["cpu_per_job"] is not None:
        print(f"  CPU per submission, service + worker + sandbox + kernel: {ours['cpu_per_job']:.3f} s")
    print(f"  scores seen: {ours['scores']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

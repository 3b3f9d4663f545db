"""Benchmark: the dulwich smart-HTTP server vs `git http-backend` (C, via a CGI bridge) with real git clients.

Usage: python benchmarks/git_http.py [--small-runs 30] [--big-runs 5] [--clients 50]
Each server runs in its own process on a free port; the git clients are real `git` processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# -- servers (run as child processes) ---------------------------------------------------------------


def serve_dulwich(root: str, port: int) -> None:
    """Serve git_handlers() over a RepoStore, every token allowed, no push limits."""
    import tornado.httpserver
    import tornado.web

    from grader_service.git.access import GitAccessDecision
    from grader_service.git.checks import PushPolicy
    from grader_service.git.smart_http import git_handlers
    from grader_service.git.store import RepoStore

    policy = PushPolicy(max_file_size=None, max_files=None)

    async def access(token: str | None, ref: object, write: bool) -> GitAccessDecision:
        return GitAccessDecision.allow(policy) if token else GitAccessDecision.deny(401, "token")

    async def main() -> None:
        app = tornado.web.Application(git_handlers("/"), git_store=RepoStore(Path(root)), git_access=access)
        server = tornado.httpserver.HTTPServer(app, max_body_size=2**40)
        server.listen(port, "127.0.0.1")
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_http_backend(root: str, port: int) -> None:
    """`git http-backend` behind a minimal Tornado CGI bridge (Tornado de-chunks request bodies)."""
    import tornado.httpserver
    import tornado.web

    class CGIBridge(tornado.web.RequestHandler):
        SUPPORTED_METHODS = ("GET", "POST")

        async def _run(self, path: str) -> None:
            env = {
                "PATH": os.environ["PATH"],
                "GIT_PROJECT_ROOT": root,
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.request.method or "GET",
                "PATH_INFO": "/" + path,
                "QUERY_STRING": self.request.query,
                "CONTENT_TYPE": self.request.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(self.request.body)),
                "REMOTE_USER": "bench",
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_PROTOCOL": self.request.headers.get("Git-Protocol", ""),
                "HTTP_CONTENT_ENCODING": self.request.headers.get("Content-Encoding", ""),
            }
            proc = await asyncio.create_subprocess_exec(
                "git", "http-backend", env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            out, _ = await proc.communicate(self.request.body)
            head, _, body = out.partition(b"\r\n\r\n")
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    self.set_status(int(value.split()[0]))
                elif name:
                    self.set_header(name, value.strip())
            self.finish(body)

        async def get(self, path: str) -> None:
            await self._run(path)

        async def post(self, path: str) -> None:
            await self._run(path)

    async def main() -> None:
        app = tornado.web.Application([(r"/git/(.*)", CGIBridge)])
        server = tornado.httpserver.HTTPServer(app, max_body_size=2**40)
        server.listen(port, "127.0.0.1")
        await asyncio.Event().wait()

    asyncio.run(main())


# -- driver ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }


class Bench:
    def __init__(self, name: str, url: str, work: Path, env: dict[str, str]) -> None:
        self.name, self.url, self.work, self.env = name, url, work, env
        self.counter = 0

    def git(self, *args: str, cwd: Path | None = None) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=self.env, check=True, capture_output=True)

    def fresh_dir(self) -> Path:
        self.counter += 1
        return self.work / f"{self.name}-{self.counter}"

    def repo_url(self, name: str) -> str:
        return f"{self.url}/git/bench/{name}/source"


def timed(fn: Callable[[], None], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def notebook(i: int) -> bytes:
    cells = [
        {
            "cell_type": "code",
            "source": f"x = {i}\nprint(x * {j})",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for j in range(40)
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1).encode()


def run_suite(b: Bench, small_runs: int, big_runs: int, clients: int, big_mb: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    # small repo: one notebook
    seed = b.fresh_dir()
    b.git("clone", "-q", b.repo_url("small"), str(seed))
    (seed / "hw.ipynb").write_bytes(notebook(0))
    b.git("add", "-A", cwd=seed)
    b.git("commit", "-qm", "nb", cwd=seed)
    b.git("push", "-q", "origin", "main", cwd=seed)
    results["clone small"] = timed(
        lambda: b.git("clone", "-q", b.repo_url("small"), str(b.fresh_dir())), small_runs
    )

    def push_small() -> None:
        (seed / "hw.ipynb").write_bytes(notebook(b.counter))
        b.counter += 1
        b.git("commit", "-qam", "change", cwd=seed)
        start = time.perf_counter()
        b.git("push", "-q", "origin", "main", cwd=seed)
        results.setdefault("push small", []).append(time.perf_counter() - start)

    for _ in range(small_runs):
        push_small()

    with ThreadPoolExecutor(clients) as pool:
        dirs = [b.fresh_dir() for _ in range(clients)]
        start = time.perf_counter()
        list(pool.map(lambda d: b.git("clone", "-q", b.repo_url("small"), str(d)), dirs))
        results[f"{clients} concurrent clones (s total)"] = [time.perf_counter() - start]

    # big repo: big_mb of incompressible data in 5 MB files
    big_src = b.fresh_dir()
    big_src.mkdir()
    b.git("init", "-q", "-b", "main", str(big_src))
    for i in range(big_mb // 5):
        (big_src / f"data{i}.bin").write_bytes(os.urandom(5 * 1024 * 1024))
    (big_src / "hw.ipynb").write_bytes(notebook(1))
    b.git("add", "-A", cwd=big_src)
    b.git("commit", "-qm", "big", cwd=big_src)
    pushes = []
    for i in range(big_runs):
        b.git("remote", "add", f"r{i}", b.repo_url(f"big{i}"), cwd=big_src)
        start = time.perf_counter()
        b.git("push", "-q", f"r{i}", "main", cwd=big_src)
        pushes.append(time.perf_counter() - start)
    results[f"push {big_mb} MB (new repo)"] = pushes
    results[f"clone {big_mb} MB"] = timed(
        lambda: b.git("clone", "-q", b.repo_url("big0"), str(b.fresh_dir())), big_runs
    )
    return results


def start_server(kind: str, root: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, __file__, kind, str(root), str(port)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small-runs", type=int, default=30)
    parser.add_argument("--big-runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--big-mb", type=int, default=50)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="git-http-bench-"))
    home = tmp / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    env = git_env(home)
    all_results = {}
    try:
        for kind, label in (("serve-dulwich", "dulwich"), ("serve-backend", "http-backend")):
            root = tmp / f"{label}-repos"
            root.mkdir()
            if kind == "serve-backend":  # http-backend needs the bare repos to exist
                for name in ["small", *(f"big{i}" for i in range(args.big_runs))]:
                    subprocess.run(
                        [
                            "git",
                            "init",
                            "-q",
                            "--bare",
                            "-b",
                            "main",
                            str(root / "bench" / name / "source.git"),
                        ],
                        check=True,
                        env=env,
                    )
            port = free_port()
            server = start_server(kind, root, port)
            try:
                work = tmp / f"{label}-work"
                work.mkdir()
                bench = Bench(label, f"http://x:tok@127.0.0.1:{port}", work, env)
                all_results[label] = run_suite(
                    bench, args.small_runs, args.big_runs, args.clients, args.big_mb
                )
            finally:
                server.terminate()
                server.wait(10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"git {subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.split()[-1]}, "
        f"{os.cpu_count()} CPUs; times in ms (p50 / p95); ratio = dulwich / http-backend at p50"
    )
    print(f"{'operation':36} {'dulwich':>17} {'http-backend':>17} {'ratio':>7}")
    for op in all_results["dulwich"]:
        d50, d95 = p50_p95(all_results["dulwich"][op])
        h50, h95 = p50_p95(all_results["http-backend"][op])
        n = len(all_results["dulwich"][op])
        print(
            f"{op + f' (n={n})':36} {d50 * 1000:8.0f} /{d95 * 1000:7.0f} {h50 * 1000:8.0f} /{h95 * 1000:7.0f}"
            f" {d50 / h50:7.2f}"
        )
    for label, res in all_results.items():
        key = next(k for k in res if "concurrent" in k)
        print(f"throughput {label}: {args.clients / res[key][0]:.1f} clones/s")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] in ("serve-dulwich", "serve-backend"):
        (serve_dulwich if sys.argv[1] == "serve-dulwich" else serve_http_backend)(
            sys.argv[2], int(sys.argv[3])
        )
    else:
        main()

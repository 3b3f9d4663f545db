"""Concurrent pushes (different repos and one repo), a large streamed push watching the server's memory."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader_service.git.checks import PushPolicy
from grader_service.git.store import RepoRef

from .conftest import LECTURE, Git, GitServer

REJECTED_NON_FF = ("non-fast-forward", "fetch first")


def test_20_concurrent_pushes_to_different_repos(git_server: GitServer, git: Git, workdir: Path) -> None:
    def work(i: int) -> str:
        url = git_server.url("source", token="tok-ivan", assignment=f"a{i}")
        git.run("clone", "-q", url, f"c{i}", cwd=workdir)
        sha = git.commit_files(
            workdir / f"c{i}", {f"nb{i}.ipynb": f'{{"n": {i}}}', "d/x.py": os.urandom(3000)}
        )
        git.run("push", "-q", "origin", "main", cwd=workdir / f"c{i}")
        return sha

    with ThreadPoolExecutor(20) as pool:
        shas = list(pool.map(work, range(20)))
    for i, sha in enumerate(shas):
        ref = RepoRef(LECTURE, f"a{i}", "source")
        assert git_server.store.head(ref) == sha
        assert git_server.store.read_file(ref, sha, f"nb{i}.ipynb") == f'{{"n": {i}}}'.encode()
        git.fsck(git_server.store.path(ref))


def test_10_concurrent_pushes_to_one_repo_serialise_and_lose_nothing(
    git_server: GitServer, git: Git, workdir: Path
) -> None:
    source = RepoRef(LECTURE, "hw1", "source")
    base = git_server.store.commit_tree(source, {"README.md": b"base\n"}, "base")
    url = git_server.url("source", token="tok-ivan")
    for i in range(10):
        git.run("clone", "-q", url, f"c{i}", cwd=workdir)
        git.commit_files(workdir / f"c{i}", {f"part{i}.py": f"x = {i}\n"}, f"part {i}")
    start = threading.Barrier(10)
    first_round: dict[int, str] = {}

    def work(i: int) -> int:
        repo = workdir / f"c{i}"
        start.wait()
        for attempt in range(60):
            proc = git.run("push", "origin", "main", cwd=repo, check=False)
            if attempt == 0:
                first_round[i] = "ok" if proc.returncode == 0 else proc.stderr
            if proc.returncode == 0:
                return attempt
            assert any(reason in proc.stderr for reason in REJECTED_NON_FF), proc.stderr
            git.run("pull", "-q", "--rebase", "origin", "main", cwd=repo)
        raise AssertionError(f"pusher {i} never got through")

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(work, range(10)))

    # siblings of one base: in the simultaneous first round exactly one can win, the rest are clean rejects
    assert sum(1 for r in first_round.values() if r == "ok") >= 1
    head = git_server.store.head(source)
    assert head is not None
    files = git_server.store.list_files(source, head)
    assert files == sorted(["README.md", *(f"part{i}.py" for i in range(10))])
    log = git.run("--git-dir", str(git_server.store.path(source)), "rev-list", "--count", head).stdout.strip()
    assert log == "11"
    assert (
        git.run(
            "--git-dir",
            str(git_server.store.path(source)),
            "merge-base",
            "--is-ancestor",
            base,
            head,
            check=False,
        ).returncode
        == 0
    )
    git.fsck(git_server.store.path(source))


def _rss_bytes(kind: str = "RssAnon") -> int:
    """Resident memory of this process (the server runs in it): anonymous by default, i.e. heap, not mapped
    pack files that the page cache can drop."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(kind + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"{kind} not in /proc/self/status")


@pytest.mark.slow
def test_large_push_is_streamed_not_buffered(git_server: GitServer, git: Git, workdir: Path) -> None:
    """A 200 MB push of incompressible data: the server's RSS must grow by far less than the push."""
    git_server.policy = PushPolicy(max_file_size=16 * 1024 * 1024)
    url = git_server.url("source", token="tok-ivan")
    git.run("clone", "-q", url, "big", cwd=workdir)
    repo = workdir / "big"
    (repo / "data").mkdir()
    total = 0
    for i in range(25):
        chunk = os.urandom(8 * 1024 * 1024)
        (repo / "data" / f"blob{i:02d}.py").write_bytes(chunk)
        total += len(chunk)
    sha = git.commit_files(repo, {"notebook.ipynb": "{}"}, "big data")

    baseline, baseline_file = _rss_bytes(), _rss_bytes("RssFile")
    peak, peak_file = baseline, baseline_file
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_file
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            peak_file = max(peak_file, _rss_bytes("RssFile"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    try:
        git.run("push", "-q", "origin", "main", cwd=repo, timeout=600)
    finally:
        done.set()
        sampler.join()
    elapsed = time.monotonic() - started
    growth = peak - baseline
    print(
        f"\npushed {total / 2**20:.0f} MiB in {elapsed:.1f} s; server RSS grew by {growth / 2**20:.1f} MiB "
        f"(anonymous; baseline {baseline / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB); file-backed "
        f"(mmap'd packs) grew by {(peak_file - baseline_file) / 2**20:.1f} MiB"
    )
    source = RepoRef(LECTURE, "hw1", "source")
    assert git_server.store.head(source) == sha
    assert growth < total / 4, f"RSS grew by {growth / 2**20:.0f} MiB for a {total / 2**20:.0f} MiB push"
    git.fsck(git_server.store.path(source))

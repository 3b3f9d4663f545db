"""Hostile pushes with hand-made objects, pushed by the real git client: each is refused with a message,
the branch does not move, and the repository still clones and passes `git fsck --strict`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader_service.git.store import RepoRef

from .conftest import ASSIGNMENT, LECTURE, Git, GitServer, _free_port
from .test_git_push_checks import _assert_rejected

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clone(git_server: GitServer, git: Git, workdir: Path) -> Path:
    git_server.store.commit_tree(RepoRef(LECTURE, ASSIGNMENT, "release"), {"hw1.ipynb": b"{}"}, "release")
    git.run("clone", "-q", git_server.url("user", "alice", token="tok-alice"), "c", cwd=workdir)
    return workdir / "c"


def _blob(git: Git, repo: Path, data: bytes) -> str:
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, env=git.env(), input=data, capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()


def _raw_tree(git: Git, repo: Path, entries: list[tuple[bytes, bytes, str]]) -> str:
    """Write a tree exactly as given (no sorting, no checks): (mode, name, sha) in this order."""
    raw = b"".join(mode + b" " + name + b"\0" + bytes.fromhex(sha) for mode, name, sha in entries)
    proc = subprocess.run(
        ["git", "hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
        cwd=repo,
        env=git.env(),
        input=raw,
        capture_output=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()


def _commit_tree(git: Git, repo: Path, tree: str) -> None:
    """Make a commit of `tree` on top of HEAD and point HEAD at it."""
    commit = git.run("commit-tree", tree, "-p", "HEAD", "-m", "crafted", cwd=repo).stdout.strip()
    git.run("update-ref", "HEAD", commit, cwd=repo)


def _assert_still_clones(git_server: GitServer, git: Git, tmp_path: Path) -> None:
    target = tmp_path / f"again-{time.monotonic_ns()}"
    git.run("clone", "-q", git_server.url("user", "alice", token="tok-alice"), str(target))
    assert (target / "hw1.ipynb").exists()


def test_symlink_chain_leaving_the_repository(git_server: GitServer, git: Git, clone: Path, tmp_path: Path):
    os.symlink(".", clone / "up")
    os.symlink("up/..", clone / "esc")  # neither target starts with '..', together they leave the repo
    git.commit_files(clone, {}, "chain")
    err = _assert_rejected(git_server, git, clone, "esc: symlink to 'up/..' points outside the repository")
    assert "up: " not in err.replace("up/..", "")
    _assert_still_clones(git_server, git, tmp_path)


def test_symlink_loop_is_refused(git_server: GitServer, git: Git, clone: Path, tmp_path: Path) -> None:
    os.symlink("b", clone / "a")
    os.symlink("a", clone / "b")
    git.commit_files(clone, {}, "loop")
    _assert_rejected(git_server, git, clone, "a loop of symlinks")


def test_links_inside_the_repository_are_fine(git_server: GitServer, git: Git, clone: Path) -> None:
    (clone / "data").mkdir()
    (clone / "data" / "x.csv").write_text("1\n")
    os.symlink("data", clone / "here")
    os.symlink("here/../data/x.csv", clone / "file")
    git.commit_files(clone, {}, "inside")
    git.run("push", "-q", "origin", "HEAD:main", cwd=clone)


@pytest.mark.parametrize(
    "name", [b".GIT", b"git~1", b"GIT~1", b".git.", b".git ", b".Git...", b".g\xe2\x80\x8cit"]
)
def test_git_folder_aliases_are_refused(
    git_server: GitServer, git: Git, clone: Path, tmp_path: Path, name: bytes
) -> None:
    hook = _blob(git, clone, b"#!/bin/sh\necho pwned\n")
    hooks = _raw_tree(git, clone, [(b"100755", b"post-checkout", hook)])
    inner = _raw_tree(git, clone, [(b"40000", b"hooks", hooks)])
    readme = _blob(git, clone, b"hi\n")
    entries = sorted([(b"40000", name, inner), (b"100644", b"hw1.ipynb", readme)], key=lambda e: e[1] + b"/")
    _commit_tree(git, clone, _raw_tree(git, clone, entries))
    _assert_rejected(git_server, git, clone, "is not allowed")
    _assert_still_clones(git_server, git, tmp_path)


def _two_entries(git: Git, clone: Path) -> tuple[str, str]:
    return _blob(git, clone, b"a\n"), _blob(git, clone, b"b\n")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("duplicate", "duplicate entry"),
        ("duplicate file and folder", "duplicate entry"),
        ("unsorted", "not sorted"),
        ("bad mode", "invalid mode"),
        ("zero-padded mode", "mode"),
    ],
)
def test_malformed_trees_are_refused(
    git_server: GitServer, git: Git, clone: Path, tmp_path: Path, kind: str, expected: str
) -> None:
    a, b = _two_entries(git, clone)
    if kind == "duplicate":
        entries = [(b"100644", b"hw1.ipynb", a), (b"100644", b"x.py", a), (b"100644", b"x.py", b)]
    elif kind == "duplicate file and folder":
        sub = _raw_tree(git, clone, [(b"100644", b"y", a)])
        entries = [
            (b"100644", b"hw1.ipynb", a),
            (b"100644", b"x", a),
            (b"100644", b"x-y", b),
            (b"40000", b"x", sub),
        ]
    elif kind == "unsorted":
        entries = [(b"100644", b"x.py", a), (b"100644", b"hw1.ipynb", b)]
    elif kind == "bad mode":
        entries = [(b"100644", b"hw1.ipynb", a), (b"100666", b"x.py", b)]
    else:
        entries = [(b"100644", b"hw1.ipynb", a), (b"0100644", b"x.py", b)]
    _commit_tree(git, clone, _raw_tree(git, clone, entries))
    before = git.run("ls-remote", "origin", cwd=clone).stdout
    _assert_rejected(git_server, git, clone, expected)
    assert git.run("ls-remote", "origin", cwd=clone).stdout == before
    _assert_still_clones(git_server, git, tmp_path)


def test_symlinked_gitmodules_is_refused(git_server: GitServer, git: Git, clone: Path) -> None:
    link, notebook = _blob(git, clone, b"hw1.ipynb"), _blob(git, clone, b"{}")
    entries = [(b"120000", b".gitmodules", link), (b"100644", b"hw1.ipynb", notebook)]
    _commit_tree(git, clone, _raw_tree(git, clone, entries))  # git add refuses this, a crafted tree does not
    _assert_rejected(git_server, git, clone, ".gitmodules may not be a symlink")


# -- a pack bomb against a service in its own process, its memory measured from /proc -----------------


def _zero_blob_pack(size: int) -> bytes:
    """A pack holding one blob of `size` zero bytes, compressed to about 1/1000 (built without inflating
    it: deflate blocks of zeros repeat, the Adler-32 is computed over the zeros piecewise)."""
    import hashlib
    import struct
    import zlib

    piece = bytes(16 << 20)
    assert size % len(piece) == 0
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(piece) + deflate.flush(zlib.Z_SYNC_FLUSH)
    repeat = deflate.compress(piece) + deflate.flush(zlib.Z_SYNC_FLUSH)
    assert deflate.compress(piece) + deflate.flush(zlib.Z_SYNC_FLUSH) == repeat
    end = deflate.flush()
    adler = 1
    for _ in range(size // len(piece)):
        adler = zlib.adler32(piece, adler)
    body = b"\x78\xda" + first + repeat * (size // len(piece) - 1) + end + struct.pack(">I", adler)
    n = size >> 4
    head = bytearray([(0x80 if n else 0) | (3 << 4) | (size & 0x0F)])  # type 3: blob
    while n:
        byte, n = n & 0x7F, n >> 7
        head.append(byte | (0x80 if n else 0))
    pack = b"PACK" + struct.pack(">LL", 2, 1) + bytes(head) + body
    return pack + hashlib.sha1(pack).digest()


def _rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def test_pack_bomb_is_refused_within_a_memory_budget(git: Git, tmp_path: Path) -> None:
    size = 1536 << 20  # 1.5 GiB of zeros, about 1.5 MiB on the wire
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.git_server_process", str(tmp_path / "repos"), str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        url = f"http://127.0.0.1:{port}/git/ds101/hw1/user/alice"
        work = tmp_path / "c"
        git.run("clone", "-q", url, str(work))
        pack = _zero_blob_pack(size)
        assert len(pack) < 2 << 20
        subprocess.run(
            ["git", "index-pack", "--stdin"],
            cwd=work,
            env=git.env(),
            input=pack,
            check=True,
            capture_output=True,
        )
        listing = git.run("cat-file", "--batch-all-objects", "--batch-check", cwd=work).stdout.split("\n")
        blob = next(line.split()[0] for line in listing if line.endswith(f"blob {size}"))
        git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},big.bin", cwd=work)
        git.run("commit", "-q", "-m", "bomb", cwd=work)

        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak RSS starts again from here
        before = _rss_kib(server.pid, "VmRSS")
        started = time.monotonic()
        proc = git.run("push", "origin", "HEAD:main", cwd=work, check=False)
        took = time.monotonic() - started
        peak = _rss_kib(server.pid, "VmHWM")
        growth_mib = (peak - before) / 1024
        print(
            f"pack bomb: {len(pack) / (1 << 20):.1f} MiB pack declaring {size >> 20} MiB: refused in "
            f"{took:.1f} s, service RSS {before / 1024:.0f} MiB -> peak {peak / 1024:.0f} MiB "
            f"(+{growth_mib:.1f} MiB)"
        )
        assert proc.returncode != 0 and "over the limit" in proc.stderr, proc.stderr
        assert growth_mib < 100, f"the service grew by {growth_mib:.0f} MiB"
        heads = git.run("ls-remote", url, cwd=tmp_path).stdout
        assert git.run("rev-parse", "HEAD~1", cwd=work).stdout.strip() in heads
        git.run("clone", "-q", url, str(tmp_path / "again"))
    finally:
        server.terminate()
        server.wait(10)

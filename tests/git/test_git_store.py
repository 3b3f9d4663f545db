"""RepoStore's Python API: layout, names, commits, reads, copy, seeding, export safety and locking."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from dulwich.objects import Blob, Commit, Tree

from grader_service.git.store import (
    SERVICE_AUTHOR,
    BranchMoved,
    InvalidRepoName,
    RepoRef,
    RepoStore,
    UnknownCommit,
    UnsafePath,
)

from .conftest import Git

REL = RepoRef("ds101", "hw1", "release")
SRC = RepoRef("ds101", "hw1", "source")


def test_layout_and_name_validation(store: RepoStore) -> None:
    assert store.path(SRC) == store.root / "ds101" / "hw1" / "source.git"
    assert store.path(RepoRef("ds101", "hw1", "user", "alice")) == store.root / "ds101/hw1/user/alice.git"
    assert store.path(RepoRef("ds101", "hw1", "edit", "42")) == store.root / "ds101/hw1/edit/42.git"
    bad = [
        ("..", "hw1", "source", None),
        ("ds101", "a/b", "source", None),
        ("ds101", "hw1", "secret", None),
        ("ds101", "hw1", "user", None),
        ("ds101", "hw1", "source", "alice"),
        ("ds101", "hw1", "user", "../x"),
        ("ds101", "hw1", "user", "a..b"),
        ("-x", "hw1", "source", None),
        ("ds101", "x" * 65, "source", None),
        ("ds101", "", "source", None),
        ("ds101", "hw1", "user", "/etc"),
    ]
    for args in bad:
        with pytest.raises(InvalidRepoName):
            RepoRef(*args)
    assert not store.exists(SRC)
    assert store.create(SRC) is True and store.create(SRC) is False
    assert store.exists(SRC) and store.head(SRC) is None


def test_commit_tree_read_file_list_files(store: RepoStore, git: Git) -> None:
    c1 = store.commit_tree(
        SRC,
        {"hw1.ipynb": b"{}", "data/a.csv": b"1\n", "data/deep/b.txt": b"b"},
        "one",
        "Ivan <ivan@example.org>",
    )
    assert store.head(SRC) == c1
    assert store.list_files(SRC, c1) == ["data/a.csv", "data/deep/b.txt", "hw1.ipynb"]
    assert store.read_file(SRC, c1, "data/deep/b.txt") == b"b"
    c2 = store.commit_tree(SRC, {"hw1.ipynb": b"{2}"}, "two")
    assert store.list_files(SRC, c2) == ["hw1.ipynb"]
    assert store.read_file(SRC, c1, "hw1.ipynb") == b"{}"  # old commits stay readable
    log = git.run("--git-dir", str(store.path(SRC)), "log", "--format=%H %an|%s").stdout.split("\n")
    assert log[:2] == [f"{c2} Grader Service|two", f"{c1} Ivan|one"]
    with pytest.raises(UnknownCommit, match="does not exist at commit"):
        store.read_file(SRC, c1, "nope.txt")
    with pytest.raises(UnknownCommit, match="not a regular file"):
        store.read_file(SRC, c1, "data")
    with pytest.raises(UnknownCommit, match="does not exist in repo"):
        store.read_file(SRC, "0" * 40, "hw1.ipynb")
    with pytest.raises(UnknownCommit, match="40-character"):
        store.list_files(SRC, "HEAD")
    with pytest.raises(UnsafePath):
        store.read_file(SRC, c1, "../x")
    for bad in ({"/abs": b""}, {"a/../b": b""}, {".git/config": b""}, {"a": b"", "a/b": b""}):
        with pytest.raises(UnsafePath):
            store.commit_tree(SRC, bad, "bad")
    assert store.head(SRC) == c2
    git.fsck(store.path(SRC))


def test_commit_tree_parent_is_compare_and_swap(store: RepoStore) -> None:
    c1 = store.commit_tree(SRC, {"a": b"1"}, "one", parent=None)
    with pytest.raises(BranchMoved):
        store.commit_tree(SRC, {"a": b"x"}, "root again", parent=None)
    c2 = store.commit_tree(SRC, {"a": b"2"}, "two", parent=c1)
    with pytest.raises(BranchMoved, match="not at parent"):
        store.commit_tree(SRC, {"a": b"3"}, "stale", parent=c1)
    assert store.head(SRC) == c2
    other = store.commit_tree(SRC, {"b": b"1"}, "side", branch="side", parent=None)
    assert store.head(SRC, "side") == other and store.head(SRC) == c2


def test_has_commit(store: RepoStore) -> None:
    c1 = store.commit_tree(SRC, {"a": b"1"}, "one")
    assert store.has_commit(SRC, c1)
    assert not store.has_commit(SRC, "f" * 40)
    assert not store.has_commit(SRC, "not-a-sha")
    assert not store.has_commit(RepoRef("ds101", "hw1", "user", "nobody"), c1)
    blob_id = Blob.from_string(b"1").id.decode()
    assert not store.has_commit(SRC, blob_id)  # an object, but not a commit


def test_seed_user_repo_one_commit_from_release(store: RepoStore, git: Git) -> None:
    assert store.seed_user_repo("ds101", "hw1", "early") is None  # nothing released yet: empty repo
    store.commit_tree(REL, {"hw1.ipynb": b"v1"}, "v1", "Ivan <i@e.org>")
    store.commit_tree(REL, {"hw1.ipynb": b"v2", "sub/data.csv": b"1"}, "v2", "Ivan <i@e.org>")
    head = store.seed_user_repo("ds101", "hw1", "alice")
    user = RepoRef("ds101", "hw1", "user", "alice")
    assert head is not None and store.head(user) == head
    assert store.list_files(user, head) == ["hw1.ipynb", "sub/data.csv"]
    assert store.read_file(user, head, "hw1.ipynb") == b"v2"
    out = (
        git.run("--git-dir", str(store.path(user)), "log", "--format=%an <%ae>|%P")
        .stdout.strip()
        .splitlines()
    )
    assert out == [f"{SERVICE_AUTHOR}|"]  # one commit, no parents
    assert store.seed_user_repo("ds101", "hw1", "alice") == head  # idempotent
    git.fsck(store.path(user))


def test_concurrent_seeding_creates_one_commit(store: RepoStore) -> None:
    store.commit_tree(REL, {"hw1.ipynb": b"v1"}, "v1")
    results: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.seed_user_repo("ds101", "hw1", "bob")))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0] is not None


def test_copy_preserves_history_and_refuses_non_fast_forward(store: RepoStore, git: Git) -> None:
    c1 = store.commit_tree(SRC, {"a": b"1"}, "one")
    c2 = store.commit_tree(SRC, {"a": b"2"}, "two")
    auto = RepoRef("ds101", "hw1", "autograde", "alice")
    assert store.copy(SRC, auto, c1) == c1
    assert store.copy(SRC, auto) == c2 and store.head(auto) == c2
    assert store.read_file(auto, c1, "a") == b"1"
    store.commit_tree(auto, {"a": b"graded"}, "graded")
    with pytest.raises(BranchMoved):
        store.copy(SRC, auto, c2)
    assert store.copy(SRC, auto, c2, force=True) == c2
    git.fsck(store.path(auto))


def test_export_writes_files_and_refuses_symlinks_and_traversal(store: RepoStore, tmp_path: Path) -> None:
    c1 = store.commit_tree(SRC, {"nb.ipynb": b"{}", "d/x.py": b"x"}, "ok")
    out = tmp_path / "checkout"
    assert store.export(SRC, c1, out) == ["d/x.py", "nb.ipynb"]
    assert (out / "d" / "x.py").read_bytes() == b"x"

    # trees a malicious client could push: build them with dulwich directly
    def evil_commit(entries: list[tuple[bytes, int, bytes]]) -> str:
        with store.open(SRC) as repo:
            tree = Tree()
            for name, mode, data in entries:
                blob = Blob.from_string(data)
                repo.object_store.add_object(blob)
                tree.add(name, mode, blob.id)
            repo.object_store.add_object(tree)
            commit = Commit()
            commit.tree = tree.id
            commit.author = commit.committer = b"x <x@x>"
            commit.commit_time = commit.author_time = int(time.time())
            commit.commit_timezone = commit.author_timezone = 0
            commit.message = b"evil\n"
            repo.object_store.add_object(commit)
            return commit.id.decode()

    for entries, match in [
        ([(b"link", 0o120000, b"/etc/passwd")], "symlink"),
        ([(b"..", 0o100644, b"x")], "forbidden segment"),
        ([(b".git", 0o100644, b"x")], "forbidden segment"),
    ]:
        target = tmp_path / f"evil{len(list(tmp_path.iterdir()))}"
        with pytest.raises(UnsafePath, match=match):
            store.export(SRC, evil_commit(entries), target)
        assert not target.exists() or not any(target.iterdir())

    # a symlink planted in the destination must not redirect writes outside it
    planted = tmp_path / "planted"
    (planted).mkdir()
    os.symlink(tmp_path / "elsewhere", planted / "d")
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(UnsafePath, match="outside"):
        store.export(SRC, c1, planted)
    assert not (tmp_path / "elsewhere" / "x.py").exists()


def _hold_lock(root: str, ready: multiprocessing.synchronize.Event, release: float) -> None:
    store = RepoStore(Path(root))
    with store.lock(SRC):
        ready.set()
        time.sleep(release)


def test_lock_serialises_writers_across_processes(store: RepoStore) -> None:
    ready = multiprocessing.get_context("fork").Event()
    proc = multiprocessing.get_context("fork").Process(target=_hold_lock, args=(str(store.root), ready, 1.0))
    proc.start()
    assert ready.wait(10)
    started = time.monotonic()
    store.commit_tree(SRC, {"a": b"1"}, "waits for the other process")
    assert time.monotonic() - started > 0.5
    proc.join(10)
    assert proc.exitcode == 0


def test_store_never_shells_out(store: RepoStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the store ran a subprocess: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    c1 = store.commit_tree(SRC, {"a": b"1"}, "one")
    store.copy(SRC, REL)
    store.seed_user_repo("ds101", "hw1", "z")
    assert store.list_files(SRC, c1) == ["a"]

"""Push rejections as the user sees them in `git push`, and that a rejected push leaves no trace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader_service.git.checks import PushPolicy
from grader_service.git.store import RepoRef

from .conftest import ASSIGNMENT, LECTURE, Git, GitServer

USER = RepoRef(LECTURE, ASSIGNMENT, "user", "alice")


@pytest.fixture
def clone(git_server: GitServer, git: Git, workdir: Path) -> Path:
    git_server.store.commit_tree(RepoRef(LECTURE, ASSIGNMENT, "release"), {"hw1.ipynb": b"{}"}, "release")
    git.run("clone", "-q", git_server.url("user", "alice", token="tok-alice"), "c", cwd=workdir)
    return workdir / "c"


def _assert_rejected(
    git_server: GitServer, git: Git, clone: Path, *expected: str, args: tuple[str, ...] = ()
) -> str:
    before = git_server.store.head(USER)
    pushes = len(git_server.pushes)
    proc = git.run("push", *args, "origin", "HEAD:main", cwd=clone, check=False)
    assert proc.returncode != 0, proc.stderr
    assert "[remote rejected]" in proc.stderr, proc.stderr
    for text in expected:
        assert text in proc.stderr, proc.stderr
    assert git_server.store.head(USER) == before
    assert len(git_server.pushes) == pushes
    repo = git_server.store.path(USER)
    assert not list((repo / "objects").glob("incoming-*")), "quarantine left behind"
    git.fsck(repo)
    return proc.stderr


def test_file_too_big(git_server: GitServer, git: Git, clone: Path) -> None:
    git_server.policy = PushPolicy(max_file_size=10_000)
    git.commit_files(clone, {"big.py": os.urandom(50_000)}, "big")
    err = _assert_rejected(git_server, git, clone, "big.py is 48.8 KiB, over the file size limit of 9.8 KiB")
    assert "remote: error: big.py" in err
    # the fix goes through
    git.run("rm", "-q", "big.py", cwd=clone)
    (clone / "small.py").write_text("x = 1\n")
    git.run("add", "small.py", cwd=clone)
    git.run("commit", "-q", "--amend", "-m", "small", cwd=clone)
    git.run("push", "origin", "HEAD:main", cwd=clone)
    assert git_server.store.read_file(USER, git_server.store.head(USER) or "", "small.py") == b"x = 1\n"


def test_big_file_added_and_removed_in_later_commit_is_still_rejected(
    git_server: GitServer, git: Git, clone: Path
) -> None:
    git_server.policy = PushPolicy(max_file_size=10_000)
    git.commit_files(clone, {"big.bin.py": os.urandom(20_000)}, "big")
    git.run("rm", "-q", "big.bin.py", cwd=clone)
    git.run("commit", "-q", "-m", "remove", cwd=clone)
    _assert_rejected(git_server, git, clone, "over the file size limit")


def test_too_many_files(git_server: GitServer, git: Git, clone: Path) -> None:
    git_server.policy = PushPolicy(max_files=3)
    git.commit_files(clone, {f"f{i}.py": f"x={i}\n" for i in range(5)}, "many")
    _assert_rejected(git_server, git, clone, "has 6 files, more than the limit of 3")


def test_wrong_extension_and_allowed_globs(git_server: GitServer, git: Git, clone: Path) -> None:
    git_server.policy = PushPolicy(
        allowed_extensions=frozenset({".ipynb", "py"}), allowed_files=("data/*.csv",)
    )
    git.commit_files(clone, {"tool.exe": b"MZ", "data/ok.csv": "1\n"}, "exe")
    _assert_rejected(
        git_server, git, clone, "tool.exe: file type not allowed (allowed: .ipynb, .py, data/*.csv)"
    )
    # every commit of the push is checked, so the bad file must leave history, not just the tip
    git.run("rm", "-q", "tool.exe", cwd=clone)
    (clone / "solution.PY").write_text("x = 1\n")
    git.run("add", "solution.PY", cwd=clone)
    git.run("commit", "-q", "--amend", "-m", "fixed", cwd=clone)
    git.run("push", "origin", "HEAD:main", cwd=clone)
    head = git_server.store.head(USER)
    assert head is not None
    assert git_server.store.list_files(USER, head) == ["data/ok.csv", "hw1.ipynb", "solution.PY"]


def test_tag_and_non_branch_refs_and_branch_deletion_rejected(
    git_server: GitServer, git: Git, clone: Path
) -> None:
    git.run("tag", "v1", cwd=clone)
    proc = git.run("push", "origin", "refs/tags/v1", cwd=clone, check=False)
    assert (
        proc.returncode != 0
        and "only branches (refs/heads/...) may be pushed, not refs/tags/v1" in proc.stderr
    )
    proc = git.run("push", "origin", "HEAD:refs/notes/x", cwd=clone, check=False)
    assert proc.returncode != 0 and "only branches" in proc.stderr
    proc = git.run("push", "origin", ":main", cwd=clone, check=False)
    assert proc.returncode != 0 and "deleting branches is not allowed" in proc.stderr
    assert git_server.store.head(USER) is not None
    git.fsck(git_server.store.path(USER))


def test_force_push_rejected_by_default(git_server: GitServer, git: Git, clone: Path) -> None:
    git.commit_files(clone, {"a.py": "1\n"}, "one")
    git.run("push", "-q", "origin", "HEAD:main", cwd=clone)
    git.run("commit", "-q", "--amend", "-m", "rewritten", cwd=clone)
    _assert_rejected(
        git_server, git, clone, "non-fast-forward: rewriting history is not allowed", args=("--force",)
    )


def test_force_push_over_submitted_commit_rejected_but_allowed_otherwise(
    git_server: GitServer, git: Git, clone: Path
) -> None:
    git_server.policy = PushPolicy(allow_force_push=True)
    submitted = git.commit_files(clone, {"a.py": "1\n"}, "submitted")
    git.run("push", "-q", "origin", "HEAD:main", cwd=clone)
    git_server.protected = {submitted}
    git.commit_files(clone, {"b.py": "2\n"}, "later")
    git.run("push", "-q", "origin", "HEAD:main", cwd=clone)
    # rewriting only the unsubmitted commit is fine
    git.run("commit", "-q", "--amend", "-m", "later, reworded", cwd=clone)
    git.run("push", "-q", "--force", "origin", "HEAD:main", cwd=clone)
    # dropping the submitted commit is not
    git.run("reset", "-q", "--hard", "HEAD~2", cwd=clone)
    git.commit_files(clone, {"c.py": "3\n"}, "replacement")
    _assert_rejected(
        git_server,
        git,
        clone,
        f"force push would remove submitted commit {submitted[:12]}",
        args=("--force",),
    )


def test_symlinks_out_of_repo_rejected_inside_allowed(git_server: GitServer, git: Git, clone: Path) -> None:
    (clone / "data.txt").write_text("x")
    (clone / "sub").mkdir()
    os.symlink("../data.txt", clone / "sub" / "inside")
    git.commit_files(clone, {}, "inside link")
    git.run("push", "-q", "origin", "HEAD:main", cwd=clone)
    os.symlink("../../../etc/passwd", clone / "sub" / "escape")
    os.symlink("/etc/shadow", clone / "abs")
    git.commit_files(clone, {}, "escape")
    err = _assert_rejected(git_server, git, clone, "points outside the repository")
    assert "sub/escape" in err and "abs" in err


def test_file_size_of_a_delta_object_is_its_full_size(git_server: GitServer, git: Git, clone: Path) -> None:
    """A grown file usually travels as a small delta against its old version; the limit applies to the
    result."""
    git_server.policy = PushPolicy(max_file_size=100_000)
    text = "".join(f"line {i} of a long notebook\n" for i in range(2_500))  # ~70 KB
    git.commit_files(clone, {"nb.py": text}, "v1")
    git.run("push", "-q", "origin", "HEAD:main", cwd=clone)
    bigger = text + "".join(f"extra {i} here and there\n" for i in range(1_500))
    git.commit_files(clone, {"nb.py": bigger}, "v2")
    size = len(bigger.encode())
    assert size > 100_000
    _assert_rejected(git_server, git, clone, f"nb.py is {size / 1024:.1f} KiB, over the file size limit")

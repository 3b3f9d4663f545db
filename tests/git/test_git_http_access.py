"""Every access decision path as a real git client sees it: 401 prompt, 404 hidden, 403 read-only, 200."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests

from grader_service.git.smart_http import request_token
from grader_service.git.store import RepoRef

from .conftest import ASSIGNMENT, LECTURE, Git, GitServer

# (token, kind, username, may_read, may_write) following the permission table
CASES = [
    ("tok-alice", "release", None, True, False),
    ("tok-alice", "user", "alice", True, True),
    ("tok-alice", "feedback", "alice", True, False),
    ("tok-alice", "source", None, False, False),
    ("tok-alice", "autograde", "alice", False, False),
    ("tok-alice", "user", "bob", False, False),
    ("tok-alice", "feedback", "bob", False, False),
    ("tok-alice", "edit", "17", False, False),
    ("tok-tina", "user", "alice", True, False),
    ("tok-tina", "autograde", "alice", True, False),
    ("tok-tina", "feedback", "alice", True, False),
    ("tok-tina", "edit", "17", True, True),
    ("tok-ivan", "source", None, True, True),
    ("tok-ivan", "release", None, True, True),
    ("tok-ivan", "autograde", "alice", True, False),
    ("tok-ivan", "feedback", "alice", True, False),
]


def _seed(git_server: GitServer) -> None:
    store = git_server.store
    store.commit_tree(RepoRef(LECTURE, ASSIGNMENT, "release"), {"hw1.ipynb": b"{}"}, "release")
    store.commit_tree(RepoRef(LECTURE, ASSIGNMENT, "source"), {"hw1.ipynb": b"{src}"}, "source")
    for kind in ("autograde", "feedback"):
        store.commit_tree(RepoRef(LECTURE, ASSIGNMENT, kind, "alice"), {"hw1.ipynb": b"{graded}"}, kind)
        store.commit_tree(RepoRef(LECTURE, ASSIGNMENT, kind, "bob"), {"hw1.ipynb": b"{graded}"}, kind)
    store.commit_tree(RepoRef(LECTURE, ASSIGNMENT, "edit", "17"), {"hw1.ipynb": b"{sub}"}, "edit")
    store.seed_user_repo(LECTURE, ASSIGNMENT, "bob")


@pytest.mark.parametrize(("token", "kind", "username", "may_read", "may_write"), CASES)
def test_permission_table(
    git_server: GitServer,
    git: Git,
    workdir: Path,
    token: str,
    kind: str,
    username: str | None,
    may_read: bool,
    may_write: bool,
) -> None:
    _seed(git_server)
    url = git_server.url(kind, username, token=token)
    clone = git.run("clone", "-q", url, "c", cwd=workdir, check=False)
    if not may_read:
        assert clone.returncode != 0
        assert "not found" in clone.stderr, clone.stderr
        return
    assert clone.returncode == 0, clone.stderr
    git.commit_files(workdir / "c", {"new.py": "x = 1\n"}, "change")
    push = git.run("push", "origin", "HEAD:main", cwd=workdir / "c", check=False)
    if may_write:
        assert push.returncode == 0, push.stderr
    else:
        assert push.returncode != 0
        assert "may not push" in push.stderr, push.stderr


def test_denied_request_does_not_create_or_seed_repo(git_server: GitServer, git: Git, workdir: Path) -> None:
    _seed(git_server)
    carol = RepoRef(LECTURE, ASSIGNMENT, "user", "carol")
    proc = git.run("clone", git_server.url("user", "carol", token="tok-alice"), "c", cwd=workdir, check=False)
    assert proc.returncode != 0 and "repository not found" in proc.stderr
    assert not git_server.store.exists(carol)
    # the owner's first access seeds it
    alice = RepoRef(LECTURE, ASSIGNMENT, "user", "alice")
    assert not git_server.store.exists(alice)
    git.run("clone", "-q", git_server.url("user", "alice", token="tok-alice"), "a", cwd=workdir)
    assert git_server.store.head(alice) is not None


def test_no_credentials_gets_basic_challenge_and_git_reports_it(
    git_server: GitServer, git: Git, workdir: Path
) -> None:
    resp = requests.get(git_server.url("release") + "/info/refs?service=git-upload-pack", timeout=10)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == 'Basic realm="Grader Service"'
    proc = git.run("clone", git_server.url("release"), "c", cwd=workdir, check=False)
    assert proc.returncode != 0
    assert "could not read Username" in proc.stderr  # git tried to prompt: the challenge worked


def test_wrong_token_is_401_and_token_headers_work(git_server: GitServer, git: Git, workdir: Path) -> None:
    _seed(git_server)
    proc = git.run("clone", git_server.url("release", token="nope"), "c", cwd=workdir, check=False)
    assert proc.returncode != 0 and "Authentication failed" in proc.stderr
    base = git_server.url("release") + "/info/refs?service=git-upload-pack"
    for header in (
        "token tok-alice",
        "Bearer tok-alice",
        "Basic " + base64.b64encode(b"anyone:tok-alice").decode(),
    ):
        resp = requests.get(base, headers={"Authorization": header}, timeout=10)
        assert resp.status_code == 200, header
        assert resp.headers["Content-Type"] == "application/x-git-upload-pack-advertisement"
        assert resp.content.startswith(b"001e# service=git-upload-pack\n0000")
    # the access callable saw the token and a read request
    assert git_server.access_calls[-1] == ("tok-alice", RepoRef(LECTURE, ASSIGNMENT, "release"), False)


def test_git_askpass_supplies_token(git_server: GitServer, git: Git, workdir: Path, tmp_path: Path) -> None:
    _seed(git_server)
    askpass = tmp_path / "askpass.sh"
    askpass.write_text('#!/bin/sh\ncase "$1" in Username*) echo student;; *) echo tok-alice;; esac\n')
    askpass.chmod(0o755)
    git.run("clone", "-q", git_server.url("release"), "c", cwd=workdir, env={"GIT_ASKPASS": str(askpass)})
    assert (workdir / "c" / "hw1.ipynb").read_text() == "{}"


def test_bad_names_are_404(git_server: GitServer) -> None:
    for path in (
        "/git/ds101/hw1/secrets/info/refs",
        "/git/ds101/hw1/source/alice/info/refs",
        "/git/ds101/..hw1/source/info/refs",
        "/git/-x/hw1/release/info/refs",
    ):
        resp = requests.get(
            f"http://127.0.0.1:{git_server.port}{path}?service=git-upload-pack",
            headers={"Authorization": "token tok-ivan"},
            timeout=10,
        )
        assert resp.status_code == 404, path
    assert not any(git_server.store.root.rglob("secrets*"))


def test_request_token_parsing() -> None:
    assert request_token(None) is None
    assert request_token("token abc") == "abc"
    assert request_token("Bearer abc") == "abc"
    assert request_token("Basic " + base64.b64encode(b"u:p:w").decode()) == "p:w"
    assert request_token("Basic " + base64.b64encode(b"u:").decode()) is None
    assert request_token("Basic !!!") is None
    assert request_token("Digest x") is None

"""Real git clients against the whole service: the scripted authoring-and-submitting session, every
permission case of the repo table, and force-push protection of submitted commits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gitcli import authed, git
from tests.support.world import LectureWorld


def _url(w: LectureWorld, kind: str, user: str | None = None) -> str:
    tail = f"/{user}" if user else ""
    return f"{w.service.url}/git/{w.lecture_code}/{w.released_id}/{kind}{tail}"


def test_scripted_session_author_clone_commit_push_submit(lecture_world: LectureWorld, tmp_path: Path):
    w = lecture_world
    # the instructor clones `source` (empty at first), adds a notebook and pushes
    src = tmp_path / "source"
    git("clone", authed(_url(w, "source"), w.tokens["instructor"]), str(src), cwd=tmp_path)
    (src / "hw1.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n')
    git("add", "hw1.ipynb", cwd=src)
    git("commit", "-m", "Add HW 1", cwd=src)
    git("push", "origin", "main", cwd=src)
    # the student finds their clone URL in the API, clones (seeded from release), commits, pushes
    assignment = w.req("student", "GET", w.released_path).json()
    assert set(assignment["repos"]) == {"release", "user", "feedback"}
    user_url = assignment["repos"]["user"]
    assert user_url.endswith(f"/user/{w.names['student']}")
    work = tmp_path / "work"
    git("clone", authed(user_url, w.tokens["student"]), str(work), cwd=tmp_path)
    assert (work / "README.md").read_text() == "# HW 1\n"
    log = git("log", "--format=%an", cwd=work).stdout.splitlines()
    assert log == ["Grader Service"]
    (work / "answer.py").write_text("print('hi')\n")
    git("add", "answer.py", cwd=work)
    git("commit", "-m", "my answer", cwd=work)
    git("push", cwd=work)
    sha = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    r = w.req("student", "POST", w.released_path + "/submissions", json={"commit": sha})
    assert r.status_code == 201, r.text
    listed = w.req("tutor", "GET", w.released_path + f"/submissions?user={w.names['student']}").json()
    assert sha in [s["commit"] for s in listed]
    # a second clone (a tutor) sees the student's commit
    seen = tmp_path / "seen"
    git("clone", authed(_url(w, "user", w.names["student"]), w.tokens["tutor"]), str(seen), cwd=tmp_path)
    assert git("rev-parse", "HEAD", cwd=seen).stdout.strip() == sha
    # ... and cannot rewrite it: a force push over a submitted commit is refused with a readable reason
    git("reset", "--hard", "HEAD~1", cwd=work)
    (work / "other.py").write_text("x = 1\n")
    git("add", "other.py", cwd=work)
    git("commit", "-m", "rewrite", cwd=work)
    push = git("push", "--force", cwd=work, check=False)
    assert push.returncode != 0 and "rejected" in push.stderr


# (kind, owner, caller, write) → expected: "ok", or the fragment git prints for the refusal
CASES = [
    ("release", None, "student", False, "ok"),
    ("release", None, "student", True, "403"),
    ("source", None, "student", False, "not found"),
    ("user", "student", "student", True, "ok"),
    ("user", "student2", "student", False, "not found"),
    ("autograde", "student", "student", False, "not found"),
    ("feedback", "student", "student", False, "ok"),
    ("feedback", "student2", "student", False, "not found"),
    ("edit", "SUB", "student", False, "not found"),
    ("user", "student", "tutor", False, "ok"),
    ("autograde", "student", "tutor", False, "ok"),
    ("feedback", "student", "tutor", False, "ok"),
    ("edit", "SUB", "tutor", True, "ok"),
    ("user", "student", "tutor", True, "403"),
    ("source", None, "tutor", True, "403"),
    ("source", None, "instructor", True, "ok"),
    ("release", None, "instructor", True, "ok"),
    ("autograde", "student", "instructor", True, "403"),
    ("feedback", "student", "instructor", True, "403"),
    ("release", None, "outsider", False, "not found"),
]


@pytest.mark.parametrize(
    ("kind", "owner", "caller", "write", "expected"),
    CASES,
    ids=[f"{c[2]}-{'push' if c[3] else 'pull'}-{c[0]}" for c in CASES],
)
def test_repo_permissions_with_real_git(
    lecture_world: LectureWorld, tmp_path: Path, kind, owner, caller, write, expected
):
    w = lecture_world
    user = str(w.submission_id) if owner == "SUB" else (w.names[owner] if owner else None)
    url = authed(_url(w, kind, user), w.tokens[caller])
    if write:
        repo = tmp_path / "repo"
        repo.mkdir()
        git("init", "-q", cwd=repo)
        (repo / "notes.txt").write_text("pushed\n")
        git("add", "notes.txt", cwd=repo)
        git("commit", "-q", "-m", "push test", cwd=repo)
        branch = "main" if kind == "source" else "side"  # `source` takes only the branch generate reads
        proc = git("push", url, f"HEAD:refs/heads/{branch}", cwd=repo, check=False)
    else:
        proc = git("ls-remote", url, cwd=tmp_path, check=False)
    if expected == "ok":
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0
        assert expected in proc.stderr, proc.stderr


def test_no_token_prompts_and_bad_token_is_refused(lecture_world: LectureWorld, tmp_path: Path):
    w = lecture_world
    proc = git("ls-remote", _url(w, "release"), cwd=tmp_path, check=False)
    assert proc.returncode != 0 and "could not read Username" in proc.stderr
    proc = git("ls-remote", authed(_url(w, "release"), "wrong"), cwd=tmp_path, check=False)
    assert proc.returncode != 0 and ("Authentication failed" in proc.stderr or "401" in proc.stderr)


def test_staff_see_every_repo_url(lecture_world: LectureWorld):
    w = lecture_world
    repos = w.req("instructor", "GET", w.released_path).json()["repos"]
    assert {"source", "release", "user", "feedback", "autograde", "edit"} <= set(repos)
    assert repos["autograde"].endswith("/autograde/{username}")

"""Clone, push, pull and seeding over real HTTP with the real git client."""

from __future__ import annotations

from pathlib import Path

from grader_service.git.store import SERVICE_AUTHOR, RepoRef

from .conftest import ASSIGNMENT, LECTURE, Git, GitServer


def test_instructor_push_then_second_clone_sees_commit(
    git_server: GitServer, git: Git, workdir: Path
) -> None:
    url = git_server.url("source", token="tok-ivan")
    git.run("clone", "-q", url, "a", cwd=workdir)
    sha = git.commit_files(workdir / "a", {"hw1.ipynb": '{"cells": []}', "data/x.csv": "1,2\n"}, "first")
    push = git.run("push", "-q", "origin", "main", cwd=workdir / "a")
    assert push.returncode == 0

    git.run("clone", "-q", url, "b", cwd=workdir)
    assert git.run("rev-parse", "HEAD", cwd=workdir / "b").stdout.strip() == sha
    assert (workdir / "b" / "data" / "x.csv").read_text() == "1,2\n"

    source = RepoRef(LECTURE, ASSIGNMENT, "source")
    assert git_server.store.head(source) == sha
    assert git_server.pushes == [(source, {"refs/heads/main": sha})]

    # second commit from b, pulled into a
    sha2 = git.commit_files(workdir / "b", {"hw1.ipynb": '{"cells": [1]}'}, "second")
    git.run("push", "-q", "origin", "main", cwd=workdir / "b")
    git.run("pull", "-q", "--ff-only", "origin", "main", cwd=workdir / "a")
    assert git.run("rev-parse", "HEAD", cwd=workdir / "a").stdout.strip() == sha2
    assert git_server.store.read_file(source, sha2, "hw1.ipynb") == b'{"cells": [1]}'
    git.fsck(git_server.store.path(source))


def test_student_repo_is_seeded_from_release_as_one_commit(
    git_server: GitServer, git: Git, workdir: Path
) -> None:
    release = RepoRef(LECTURE, ASSIGNMENT, "release")
    git_server.store.commit_tree(release, {"hw1.ipynb": b"{}"}, "v1", "Ivan <ivan@example.org>")
    git_server.store.commit_tree(release, {"hw1.ipynb": b"{2}", "README.md": b"hi"}, "v2", "Ivan <i@e.org>")

    git.run("clone", "-q", git_server.url("user", "alice", token="tok-alice"), "mine", cwd=workdir)
    log = git.run("log", "--format=%an <%ae>|%s", cwd=workdir / "mine").stdout.strip().splitlines()
    assert log == [f"{SERVICE_AUTHOR}|Seed {ASSIGNMENT} from release"]
    assert (workdir / "mine" / "hw1.ipynb").read_text() == "{2}"

    sha = git.commit_files(workdir / "mine", {"hw1.ipynb": "{answer}"}, "my answer")
    git.run("push", "-q", "origin", "main", cwd=workdir / "mine")
    user = RepoRef(LECTURE, ASSIGNMENT, "user", "alice")
    assert git_server.store.has_commit(user, sha)
    assert git_server.store.head(user) == sha
    git.fsck(git_server.store.path(user))


def test_fetch_of_up_to_date_clone_and_protocol_v2_client(
    git_server: GitServer, git: Git, workdir: Path
) -> None:
    source = RepoRef(LECTURE, ASSIGNMENT, "source")
    sha = git_server.store.commit_tree(source, {"a.py": b"print(1)\n"}, "init")
    url = git_server.url("source", token="tok-ivan")
    git.run("-c", "protocol.version=2", "clone", "-q", url, "v2", cwd=workdir)
    assert git.run("rev-parse", "HEAD", cwd=workdir / "v2").stdout.strip() == sha
    fetch = git.run("fetch", "origin", cwd=workdir / "v2")
    assert fetch.returncode == 0
    ls = git.run("ls-remote", url, cwd=workdir).stdout
    assert f"{sha}\trefs/heads/main" in ls


def test_many_pushes_keep_pack_count_bounded_and_repo_intact(
    git_server: GitServer, git: Git, workdir: Path
) -> None:
    from grader_service.git.maintenance import MAX_PACKS

    url = git_server.url("source", token="tok-ivan")
    git.run("clone", "-q", url, "a", cwd=workdir)
    shas = [git.commit_files(workdir / "a", {"nb.ipynb": f'{{"v": {i}}}'}, f"v{i}") for i in range(1)]
    for i in range(1, 3 * MAX_PACKS):
        shas.append(git.commit_files(workdir / "a", {"nb.ipynb": f'{{"v": {i}}}'}, f"v{i}"))
        git.run("push", "-q", "origin", "main", cwd=workdir / "a")
    source = RepoRef(LECTURE, ASSIGNMENT, "source")
    packs = list((git_server.store.path(source) / "objects" / "pack").glob("*.pack"))
    assert len(packs) <= MAX_PACKS + 2  # merged after pushes (the last merge may still be running)
    git.run("clone", "-q", url, "b", cwd=workdir)
    assert git.run("rev-list", "--count", "HEAD", cwd=workdir / "b").stdout.strip() == str(len(shas))
    for i, sha in enumerate(shas[1:], start=1):
        assert git_server.store.read_file(source, sha, "nb.ipynb") == f'{{"v": {i}}}'.encode()
    git.fsck(git_server.store.path(source))

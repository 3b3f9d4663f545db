"""Fixtures for the git layer tests.

- ``store``: a RepoStore in a temporary directory.
- ``git_server``: a real Tornado server (own IOLoop in a background thread, free port) serving
  ``git_handlers()`` over a RepoStore, with an in-test access function driven by a token table and a small
  role table (see ``ROLES``); tests change ``git_server.policy`` / ``git_server.protected`` per test and read
  ``git_server.pushes`` (the on_push calls).
- ``git``: runs the real ``git`` command-line client with an isolated HOME/config and no prompting.
- ``workdir``: a temporary directory for clones.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tornado.httpserver
import tornado.web

from grader_service.git.access import GitAccessDecision
from grader_service.git.checks import PushPolicy
from grader_service.git.smart_http import git_handlers
from grader_service.git.store import RepoRef, RepoStore

LECTURE, ASSIGNMENT = "ds101", "hw1"
TOKENS = {"tok-alice": "alice", "tok-bob": "bob", "tok-tina": "tina", "tok-ivan": "ivan"}
ROLES = {"alice": "student", "bob": "student", "tina": "tutor", "ivan": "instructor"}


def decide(username: str, ref: RepoRef, write: bool) -> int:
    """The issue's permission table, as the core will implement it: 200, 403 (may read only) or 404."""
    role = ROLES[username]
    own = ref.username == username
    if role == "student":
        readable = ref.kind == "release" or (ref.kind in ("user", "feedback") and own)
        writable = ref.kind == "user" and own
    elif role == "tutor":
        readable = ref.kind in ("release", "user", "autograde", "feedback", "edit")
        writable = ref.kind == "edit"
    else:
        readable = True
        writable = ref.kind in ("source", "release", "edit")
    if not readable:
        return 404
    if write and not writable:
        return 403
    return 200


@dataclass
class GitServer:
    """Handle on the running server used by the tests."""

    store: RepoStore
    port: int
    policy: PushPolicy = field(default_factory=PushPolicy)
    protected: set[str] = field(default_factory=set)
    pushes: list[tuple[RepoRef, dict[str, str]]] = field(default_factory=list)
    access_calls: list[tuple[str | None, RepoRef, bool]] = field(default_factory=list)

    def url(
        self,
        kind: str,
        username: str | None = None,
        token: str | None = None,
        lecture: str = LECTURE,
        assignment: str = ASSIGNMENT,
    ) -> str:
        cred = f"x:{token}@" if token else ""
        tail = f"/{username}" if username else ""
        return f"http://{cred}127.0.0.1:{self.port}/git/{lecture}/{assignment}/{kind}{tail}"

    async def access(self, token: str | None, ref: RepoRef, write: bool) -> GitAccessDecision:
        self.access_calls.append((token, ref, write))
        if token is None:
            return GitAccessDecision.deny(401, "log in with your grader service token")
        username = TOKENS.get(token)
        if username is None:
            return GitAccessDecision.deny(401, "invalid token")
        status = decide(username, ref, write)
        if status == 403:
            return GitAccessDecision.deny(403, f"{username} may not push to {ref.kind}")
        if status == 404:
            return GitAccessDecision.deny(404, "repository not found")
        return GitAccessDecision.allow(
            policy=self.policy,
            protected_commits=lambda: set(self.protected),
            on_push=lambda r, refs: self.pushes.append((r, refs)),
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> RepoStore:
    return RepoStore(tmp_path / "repos")


@pytest.fixture
def git_server(store: RepoStore) -> Iterator[GitServer]:
    server = GitServer(store=store, port=_free_port())
    started = threading.Event()
    state: dict[str, object] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = tornado.web.Application(git_handlers("/"), git_store=store, git_access=server.access)
        http = tornado.httpserver.HTTPServer(app)
        http.listen(server.port, "127.0.0.1")
        state.update(loop=loop, http=http)
        started.set()
        loop.run_forever()
        http.stop()
        loop.run_until_complete(http.close_all_connections())
        loop.close()

    thread = threading.Thread(target=run, name="git-test-server", daemon=True)
    thread.start()
    assert started.wait(10), "git test server did not start"
    yield server
    loop = state["loop"]
    assert isinstance(loop, asyncio.AbstractEventLoop)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@dataclass
class Git:
    """Runs the real git client with an isolated environment."""

    home: Path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_AUTHOR_NAME": "Test Student",
            "GIT_AUTHOR_EMAIL": "student@example.org",
            "GIT_COMMITTER_NAME": "Test Student",
            "GIT_COMMITTER_EMAIL": "student@example.org",
            "LC_ALL": "C",
        }
        env.update(extra or {})
        return env

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        check: bool = True,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, env=self.env(env), capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def commit_files(self, repo: Path, files: dict[str, bytes | str], message: str = "work") -> str:
        for name, content in files.items():
            path = repo / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        self.run("add", "-A", cwd=repo)
        self.run("commit", "-q", "-m", message, cwd=repo)
        return self.run("rev-parse", "HEAD", cwd=repo).stdout.strip()

    def fsck(self, git_dir: Path) -> None:
        proc = subprocess.run(
            ["git", "--git-dir", str(git_dir), "fsck", "--strict", "--no-dangling"],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"git fsck {git_dir} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture
def git(tmp_path: Path) -> Git:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[protocol]\n\tversion = 0\n")
    return Git(home)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path

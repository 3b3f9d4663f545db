"""The git work the relay does for a user: fetch, submit, reset, feedback, and the instructor's source repo.

The token reaches git only through the environment (`GIT_CONFIG_*` → `http.<service>/.extraHeader`), so
it is never in a command line, a remote URL, `.git/config` or any other file, and it is scrubbed from any
git output the relay shows.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader_labextension.client import GraderServiceClient
from grader_labextension.errors import RelayError
from grader_labextension.validate import validate_folder

log = logging.getLogger("grader_labextension")
EXCLUDES = [".ipynb_checkpoints/", "__pycache__/", ".~*", ".DS_Store", "*.pyc", ".virtual_documents/"]
SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(name: str) -> str:
    """A folder name for an assignment name: 'Assignment 1: Basics' → 'Assignment_1_Basics'."""
    return SAFE.sub("_", name).strip("._") or "assignment"


@dataclass
class Context:
    """What one action needs to know: names from the service and the token for git."""

    lecture_id: int
    assignment_id: int
    lecture_code: str
    assignment: dict[str, Any]
    username: str
    token: str


class GitError(RelayError):
    pass


class Workspace:
    def __init__(self, root: Path, client: GraderServiceClient, timeout: float = 120.0) -> None:
        self.root = root
        self.client = client
        self.timeout = timeout
        self._locks: dict[Path, asyncio.Lock] = {}

    # -- context and paths --
    async def context(self, lecture_id: int, assignment_id: int) -> Context:
        lecture = await self.client.json("GET", f"/api/lectures/{lecture_id}")
        assignment = await self.client.json("GET", f"/api/lectures/{lecture_id}/assignments/{assignment_id}")
        user = await self.client.json("GET", "/api/user")
        return Context(
            lecture_id,
            assignment_id,
            lecture["code"],
            assignment,
            user["name"],
            await self.client.tokens.token(),
        )

    def repo_url(self, ctx: Context, kind: str, user: bool) -> str:
        url = f"{self.client.service_url}/git/{ctx.lecture_code}/{ctx.assignment_id}/{kind}"
        return url + (f"/{ctx.username}" if user else "")

    def folder(self, ctx: Context, kind: str) -> Path:
        lecture = self.root / slug(ctx.lecture_code)
        name = slug(ctx.assignment["name"])
        if kind == "user":
            return lecture / name
        return lecture / kind / name

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def lock(self, path: Path) -> asyncio.Lock:
        return self._locks.setdefault(path, asyncio.Lock())

    # -- git --
    def _env(self, ctx: Context) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        basic = base64.b64encode(f"{ctx.username}:{ctx.token}".encode()).decode()
        env.update(
            {
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": f"http.{self.client.service_url}/.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
                "GIT_AUTHOR_NAME": ctx.username,
                "GIT_AUTHOR_EMAIL": f"{ctx.username}@grader.invalid",
                "GIT_COMMITTER_NAME": ctx.username,
                "GIT_COMMITTER_EMAIL": f"{ctx.username}@grader.invalid",
            }
        )
        return env

    async def git(self, ctx: Context, *args: str, cwd: Path, check: bool = True) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "credential.helper=",
            *args,
            cwd=cwd,
            env=self._env(ctx),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            raise GitError(504, f"git {args[0]} did not finish within {self.timeout:g} s") from None
        text = out.decode("utf-8", "replace").replace(ctx.token, "***")
        if check and proc.returncode != 0:
            log.warning("grader relay: git %s failed (%s)", args[0], proc.returncode)
            raise GitError(_git_status(text), f"git {args[0]} failed: {text.strip()[-600:]}")
        return proc.returncode or 0, text

    async def head(self, ctx: Context, repo: Path) -> str | None:
        code, out = await self.git(ctx, "rev-parse", "--verify", "-q", "HEAD", cwd=repo, check=False)
        return out.strip() if code == 0 else None

    async def clone_or_pull(self, ctx: Context, url: str, dest: Path) -> dict[str, Any]:
        async with self.lock(dest):
            if (dest / ".git").is_dir():
                await self.git(ctx, "fetch", "origin", cwd=dest)
                code, _ = await self.git(
                    ctx, "rev-parse", "--verify", "-q", "origin/main", cwd=dest, check=False
                )
                if code == 0:
                    if await self.head(ctx, dest) is None:
                        await self.git(ctx, "checkout", "-B", "main", "origin/main", cwd=dest)
                    else:
                        await self.git(ctx, "merge", "--ff-only", "origin/main", cwd=dest)
                action = "pulled"
            else:
                if dest.exists() and any(dest.iterdir()):
                    raise RelayError(
                        409, f"{self.relative(dest)} exists and is not a git repository: move it away"
                    )
                dest.parent.mkdir(parents=True, exist_ok=True)
                await self.git(ctx, "clone", url, str(dest), cwd=dest.parent)
                action = "cloned"
            self._write_excludes(dest)
            return {
                "path": self.relative(dest),
                "action": action,
                "commit": await self.head(ctx, dest),
                "files": self._files(dest),
            }

    def _write_excludes(self, repo: Path) -> None:
        exclude = repo / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text("# written by the grader relay\n" + "\n".join(EXCLUDES) + "\n")

    def _files(self, repo: Path) -> list[str]:
        out = []
        for path in sorted(repo.rglob("*")):
            rel = path.relative_to(repo)
            if (
                path.is_file()
                and rel.parts[0] != ".git"
                and not any(
                    fnmatch.fnmatch(part, pattern.rstrip("/")) for part in rel.parts for pattern in EXCLUDES
                )
            ):
                out.append(str(rel))
        return out

    async def commit_all(self, ctx: Context, repo: Path, message: str, allowed: list[str]) -> bool:
        """Stage every file (or only those matching the assignment's allowed_files); True if committed."""
        if allowed:
            await self.git(ctx, "add", "-A", "--", *[f":(glob){p}" for p in allowed], cwd=repo, check=False)
            await self.git(ctx, "add", "-u", cwd=repo)
        else:
            await self.git(ctx, "add", "-A", cwd=repo)
        code, _ = await self.git(ctx, "diff", "--cached", "--quiet", cwd=repo, check=False)
        if code == 0 and await self.head(ctx, repo) is not None:
            return False
        await self.git(ctx, "commit", "-q", "--allow-empty", "-m", message, cwd=repo)
        return True

    # -- actions --
    async def fetch(self, ctx: Context) -> dict[str, Any]:
        return await self.clone_or_pull(ctx, self.repo_url(ctx, "user", True), self.folder(ctx, "user"))

    async def submit(self, ctx: Context) -> dict[str, Any]:
        repo = self.folder(ctx, "user")
        if not (repo / ".git").is_dir():
            raise RelayError(409, "fetch the assignment first: there is nothing to submit")
        async with self.lock(repo):
            await self.commit_all(
                ctx, repo, f"Submission {_now()}", list(ctx.assignment.get("allowed_files") or [])
            )
            await self.git(ctx, "push", "origin", "HEAD:main", cwd=repo)
            commit = await self.head(ctx, repo)
        path = f"/api/lectures/{ctx.lecture_id}/assignments/{ctx.assignment_id}/submissions"
        response = await self.client.request("POST", path, json_body({"commit": commit}))
        return {"status": response.status, "body": response.body, "commit": commit}

    def submitted_files(self, ctx: Context, repo: Path) -> list[str]:
        """The files a submission hands in: all, or those matching the assignment's allowed_files."""
        allowed = list(ctx.assignment.get("allowed_files") or [])
        files = self._files(repo)
        if not allowed:
            return files
        return [f for f in files if any(fnmatch.fnmatch(f, pattern) for pattern in allowed)]

    async def local_state(self, ctx: Context) -> dict[str, Any]:
        repo = self.folder(ctx, "user")
        fetched = (repo / ".git").is_dir()
        files = self.submitted_files(ctx, repo) if fetched else []
        changed = False
        if fetched:
            _, out = await self.git(ctx, "status", "--porcelain", cwd=repo, check=False)
            changed = bool(out.strip())
        return {
            "fetched": fetched,
            "path": self.relative(repo),
            "files": files,
            "notebooks": [f for f in (self._files(repo) if fetched else []) if f.endswith(".ipynb")],
            "changed": changed,
        }

    async def validate(self, ctx: Context) -> dict[str, Any]:
        repo = self.folder(ctx, "user")
        if not (repo / ".git").is_dir():
            raise RelayError(409, "fetch the assignment first: there is nothing to validate")
        notebooks = [f for f in self.submitted_files(ctx, repo) if f.endswith(".ipynb")]
        async with self.lock(repo):
            return await validate_folder(repo, notebooks, int(ctx.assignment.get("cell_timeout") or 30))

    async def reset(self, ctx: Context) -> dict[str, Any]:
        repo = self.folder(ctx, "user")
        if not (repo / ".git").is_dir():
            raise RelayError(409, "fetch the assignment first: there is nothing to reset")
        async with self.lock(repo):
            backup = self.root / slug(ctx.lecture_code) / ".backups" / f"{repo.name}-{_now(compact=True)}"
            shutil.copytree(repo, backup, ignore=shutil.ignore_patterns(".git"))
            await self.git(
                ctx, "fetch", self.repo_url(ctx, "release", False), "+main:refs/grader/release", cwd=repo
            )
            for child in repo.iterdir():
                if child.name != ".git":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            await self.git(ctx, "read-tree", "refs/grader/release", cwd=repo)
            await self.git(ctx, "checkout-index", "-a", "-f", cwd=repo)
            await self.git(
                ctx, "commit", "-q", "--allow-empty", "-m", "Reset to the released version", cwd=repo
            )
            return {
                "path": self.relative(repo),
                "backup": self.relative(backup),
                "files": self._files(repo),
                "commit": await self.head(ctx, repo),
            }

    async def feedback(self, ctx: Context) -> dict[str, Any]:
        return await self.clone_or_pull(
            ctx, self.repo_url(ctx, "feedback", True), self.folder(ctx, "feedback")
        )

    async def source_pull(self, ctx: Context) -> dict[str, Any]:
        return await self.clone_or_pull(ctx, self.repo_url(ctx, "source", False), self.folder(ctx, "source"))

    async def source_push(self, ctx: Context) -> dict[str, Any]:
        repo = self.folder(ctx, "source")
        if not (repo / ".git").is_dir():
            raise RelayError(409, "pull the source first: source/pull creates the folder to author in")
        async with self.lock(repo):
            committed = await self.commit_all(ctx, repo, f"Edit source {_now()}", [])
            await self.git(ctx, "push", "origin", "HEAD:main", cwd=repo)
            return {"path": self.relative(repo), "committed": committed, "commit": await self.head(ctx, repo)}


def json_body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _now(compact: bool = False) -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") if compact else now.isoformat(timespec="seconds")


def _git_status(output: str) -> int:
    """The HTTP status a failed git command maps to."""
    lowered = output.lower()
    if "403" in lowered or "not allowed" in lowered or "you may not" in lowered:
        return 403
    if "not found" in lowered or "404" in lowered:
        return 404
    if "401" in lowered or "authentication" in lowered:
        return 401
    if "could not resolve host" in lowered or "failed to connect" in lowered or "couldn't connect" in lowered:
        return 502
    return 409

"""Runs the real `git` command-line client against a service, the way a student or instructor would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.org",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.org",
        }
    )
    return env


def git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    home = cwd if cwd.is_dir() else cwd.parent
    proc = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=git_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def authed(url: str, token: str) -> str:
    """`http://x:<token>@host/...`: HTTP Basic with the token as password (any user name)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://student:{token}@{rest}"

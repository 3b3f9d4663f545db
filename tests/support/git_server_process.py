"""A git smart-HTTP server in a process of its own (for measuring its memory): `python -m
tests.support.git_server_process ROOT PORT`. Everyone may push to `ds101/hw1/user/alice` under the default
PushPolicy; prints "ready" once listening."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import tornado.httpserver
import tornado.web

from grader_service.git.access import GitAccessDecision
from grader_service.git.checks import PushPolicy
from grader_service.git.smart_http import git_handlers
from grader_service.git.store import RepoRef, RepoStore


async def _allow(token: str | None, ref: RepoRef, write: bool) -> GitAccessDecision:
    return GitAccessDecision.allow(policy=PushPolicy())


async def main(root: Path, port: int) -> None:
    store = RepoStore(root)
    store.commit_tree(RepoRef("ds101", "hw1", "release"), {"hw1.ipynb": b"{}"}, "release")
    app = tornado.web.Application(git_handlers("/"), git_store=store, git_access=_allow)
    http = tornado.httpserver.HTTPServer(app)
    http.listen(port, "127.0.0.1")
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))

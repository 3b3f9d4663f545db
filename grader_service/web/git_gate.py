"""The gate the git smart-HTTP handlers ask before serving a fetch or push: the token (a local one, or a
JupyterHub token in hub-token mode) and the repo decide, through services.git_access."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from grader_service.orm.session import Database
from grader_service.services.git_access import GitLimits, decide, submitted_commits

log = logging.getLogger("grader_service.git")


def git_gate(
    db: Database, limits: GitLimits, admins: frozenset[str], hub_auth: Any = None
) -> Callable[[str | None, Any, bool], Awaitable[Any]]:
    """The access callable of the git handlers: (token, repo ref, write) → the decision."""

    def protected(assignment_id: int, user_id: int) -> set[str]:
        with db.session() as session:
            return submitted_commits(session, assignment_id, user_id)

    async def access(token: str | None, ref: Any, write: bool) -> Any:
        with db.session() as session:
            if token and hub_auth is not None:
                try:
                    await hub_auth.ensure(db, session, token)
                except Exception as exc:  # the Hub is down: local tokens still work, hub tokens get 401
                    log.warning("git: hub token check failed: %s", exc)
            return await db.run(session, decide, token, ref, write, admins, limits, protected)

    return access

"""The seam between the git server and the service core: who may read or write which repo, and how."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .checks import PushPolicy
from .names import RepoRef

#: Called after refs moved, with the repo and {ref name: new commit id} of the refs that were updated.
PushCallback = Callable[[RepoRef, dict[str, str]], None]


@dataclass(frozen=True)
class GitAccessDecision:
    """Answer of the core's access callable for one git request.

    ``status``: 200 serve; 401 ask for credentials (the handler adds ``WWW-Authenticate``); 403 forbidden
    (e.g. a reader trying to push); 404 the repo is hidden from or unknown to the caller. ``policy`` and
    ``protected_commits`` apply to pushes; ``on_push`` is called (in a worker thread) after refs moved.
    """

    status: int
    message: str = ""
    policy: PushPolicy | None = None
    protected_commits: Callable[[], set[str]] | None = None
    on_push: PushCallback | None = None

    def __post_init__(self) -> None:
        if self.status not in (200, 401, 403, 404):
            raise ValueError(f"GitAccessDecision.status must be 200, 401, 403 or 404, not {self.status}")

    @classmethod
    def allow(
        cls,
        policy: PushPolicy | None = None,
        protected_commits: Callable[[], set[str]] | None = None,
        on_push: PushCallback | None = None,
    ) -> GitAccessDecision:
        """Serve the request (pushes checked against ``policy``; default PushPolicy() if None)."""
        return cls(200, "", policy, protected_commits, on_push)

    @classmethod
    def deny(cls, status: int, message: str) -> GitAccessDecision:
        """Refuse the request with ``status`` (401, 403 or 404) and a message shown to the git user."""
        return cls(status, message)


#: ``access(token, repo, write)``: ``token`` is None when the request carried no credentials.
GitAccess = Callable[[str | None, RepoRef, bool], Awaitable[GitAccessDecision]]

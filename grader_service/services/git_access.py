"""Who may pull or push which git repo (the core's side of the git seam) and the clone URLs to show.

| repo          | student            | tutor        | instructor     |
|---------------|--------------------|--------------|----------------|
| source        | -                  | pull         | pull, push     |
| release       | pull (if released) | pull         | pull, push     |
| user/<name>   | own: pull, push    | pull         | pull           |
| autograde/<n> | -                  | pull         | pull           |
| feedback/<n>  | own: pull          | pull         | pull           |
| edit/<sub id> | -                  | pull, push   | pull, push     |

`-` answers 404 (the repo stays hidden); a visible repo the caller may not push answers 403. Nobody
pushes `autograde` or `feedback` over HTTP: workers write them through the store's Python API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.auth.tokens import resolve_actor
from grader_service.git.access import GitAccessDecision
from grader_service.git.checks import PushPolicy
from grader_service.git.names import RepoRef
from grader_service.git.store import DEFAULT_BRANCH
from grader_service.orm.models import Assignment, Lecture, LectureStatus, Role, Submission, User
from grader_service.services.access import assignment_visible

STAFF_READ = {"source", "release", "user", "autograde", "feedback", "edit"}


@dataclass(frozen=True)
class GitLimits:
    """Service-wide push limits (from the config)."""

    max_file_size: int = 20 << 20
    max_files: int = 1000
    max_push_size: int = 2 << 30
    max_push_inflated: int = 1 << 30
    max_objects: int = 200_000
    allowed_extensions: frozenset[str] | None = None


def _may(actor: Actor, role: Role | None, ref: RepoRef, write: bool) -> int:
    """HTTP status of the decision: 200 allowed, 403 visible but not this, 404 hidden."""
    kind = ref.kind
    own = ref.username == actor.name
    if actor.is_admin or role == Role.instructor:
        if write:
            return 200 if kind in ("source", "release", "edit") or (kind == "user" and own) else 403
        return 200
    if role == Role.tutor:
        if write:
            return 200 if kind == "edit" or (kind == "user" and own) else 403
        return 200 if kind in STAFF_READ else 404
    # student
    if kind == "release":
        return 403 if write else 200
    if kind == "user" and own:
        return 200
    if kind == "feedback" and own:
        return 403 if write else 200
    return 404


def decide(
    session: Session,
    token: str | None,
    ref: RepoRef,
    write: bool,
    admin_users: frozenset[str],
    limits: GitLimits,
    protected: Callable[[int, int], set[str]],
) -> GitAccessDecision:
    if token is None:
        return GitAccessDecision.deny(401, "authentication required: use your API token as the password")
    actor = resolve_actor(session, token, admin_users)
    if actor is None:
        return GitAccessDecision.deny(401, "the token is invalid or has expired")
    hidden = GitAccessDecision.deny(404, f"repository {ref} not found")
    lecture = session.scalars(
        select(Lecture).where(Lecture.code == ref.lecture, Lecture.deleted_at.is_(None))
    ).first()
    if lecture is None or not ref.assignment.isdigit():
        return hidden
    role = actor.role_in(lecture.id)
    if role is None and not actor.is_admin:
        return hidden
    assignment = session.get(Assignment, int(ref.assignment))
    if assignment is None or assignment.lecture_id != lecture.id or not assignment_visible(actor, assignment):
        return hidden
    if ref.kind in ("user", "autograde", "feedback") and ref.username is not None:
        exists = session.scalar(select(User.id).where(User.name == ref.username))
        if exists is None and ref.username != actor.name:
            return hidden
    status = _may(actor, role, ref, write)
    if status == 404:
        return hidden
    if status == 403:
        return GitAccessDecision.deny(403, f"you may not push to {ref}")
    if write and lecture.status == LectureStatus.archived:  # read-only (services/guards.py)
        return GitAccessDecision.deny(
            403, "the lecture is archived and read-only; an instructor can make it active again"
        )
    policy = PushPolicy(
        max_file_size=limits.max_file_size,
        max_files=limits.max_files,
        max_push_size=limits.max_push_size,
        max_push_inflated=limits.max_push_inflated,
        max_objects=limits.max_objects,
        allowed_extensions=limits.allowed_extensions if ref.kind == "user" else None,
        allowed_files=tuple(assignment.allowed_files)
        if ref.kind == "user" and assignment.allowed_files
        else None,
        # generating reads `source` at main only: a push elsewhere would silently never be generated
        only_branch=DEFAULT_BRANCH if ref.kind == "source" else None,
    )
    protected_commits = None
    if ref.kind == "user":
        assignment_id, user_id = assignment.id, actor.user_id
        protected_commits = lambda: protected(assignment_id, user_id)  # noqa: E731
    return GitAccessDecision.allow(policy=policy, protected_commits=protected_commits)


def submitted_commits(session: Session, assignment_id: int, user_id: int) -> set[str]:
    rows = session.scalars(
        select(Submission.commit_hash).where(
            Submission.assignment_id == assignment_id,
            Submission.user_id == user_id,
            Submission.commit_hash.is_not(None),
        )
    )
    return {c for c in rows if c}


def repo_urls(public_url: str, lecture_code: str, assignment: Assignment, actor: Actor) -> dict[str, str]:
    """The clone URLs of the repos the caller may use for this assignment."""
    base = f"{public_url.rstrip('/')}/git/{lecture_code}/{assignment.id}"
    role = actor.role_in(assignment.lecture_id)
    urls: dict[str, str] = {}
    candidates: dict[str, Any] = {
        "source": RepoRef(lecture_code, str(assignment.id), "source"),
        "release": RepoRef(lecture_code, str(assignment.id), "release"),
        "user": RepoRef(lecture_code, str(assignment.id), "user", actor.name),
        "feedback": RepoRef(lecture_code, str(assignment.id), "feedback", actor.name),
    }
    for name, ref in candidates.items():
        if _may(actor, role, ref, write=False) == 200:
            urls[name] = f"{base}/{name}" + (f"/{actor.name}" if ref.username else "")
    if actor.is_staff(assignment.lecture_id):
        urls["autograde"] = f"{base}/autograde/{{username}}"
        urls["edit"] = f"{base}/edit/{{submission_id}}"
    return urls

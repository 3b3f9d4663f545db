"""Names of the git repos the service keeps: RepoRef, the repo kinds and name validation."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: user names may also hold '@' and '+' (e-mail-like names from an identity provider)
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")

#: Kinds that exist once per assignment.
SHARED_KINDS = frozenset({"source", "release"})
#: Kinds that exist once per user (``edit``: once per submission; the username slot holds its id).
PER_USER_KINDS = frozenset({"user", "autograde", "feedback", "edit"})
REPO_KINDS = SHARED_KINDS | PER_USER_KINDS


class InvalidRepoName(ValueError):
    """A lecture, assignment, kind or user name is not acceptable for a repo path."""


def validate_name(field: str, value: object) -> str:
    """Return ``value`` if it is a safe path segment, else raise InvalidRepoName naming ``field``."""
    if not isinstance(value, str):
        raise InvalidRepoName(f"{field} must be a string, got {type(value).__name__}")
    pattern = USERNAME_PATTERN if field == "username" else NAME_PATTERN
    if ".." in value or not pattern.fullmatch(value):
        raise InvalidRepoName(
            f"{field} {value!r} is not a valid name: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, and no '..'"
        )
    return value


@dataclass(frozen=True)
class RepoRef:
    """Identifies one bare repo: ``<lecture>/<assignment>/<kind>[/<username>].git`` under the store root."""

    lecture: str
    assignment: str
    kind: str
    username: str | None = None

    def __post_init__(self) -> None:
        validate_name("lecture", self.lecture)
        validate_name("assignment", self.assignment)
        if self.kind not in REPO_KINDS:
            raise InvalidRepoName(f"repo kind {self.kind!r} is not one of {', '.join(sorted(REPO_KINDS))}")
        if self.kind in PER_USER_KINDS:
            if self.username is None:
                slot = "submission id" if self.kind == "edit" else "username"
                raise InvalidRepoName(f"repo kind {self.kind!r} needs a {slot}")
            validate_name("submission id" if self.kind == "edit" else "username", self.username)
        elif self.username is not None:
            raise InvalidRepoName(
                f"repo kind {self.kind!r} is shared by the assignment and takes no username"
            )

    @property
    def parts(self) -> tuple[str, ...]:
        """Path segments below the store root, the last one without the ``.git`` suffix."""
        if self.username is None:
            return (self.lecture, self.assignment, self.kind)
        return (self.lecture, self.assignment, self.kind, self.username)

    def __str__(self) -> str:
        return "/".join(self.parts)

"""Lecture roles from an identity provider's groups (`<lecture>:<role>`) and from `load_roles` in the config.

Both are authoritative for the lectures they name: at every login (or hub token check) the user's role in
such a lecture is set to the mapped one. Lectures they do not name keep the memberships instructors manage
through the API. A group or rule naming a lecture that does not exist is ignored (logged at debug level).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.orm.models import Lecture, LectureMember, Role, User

log = logging.getLogger(__name__)

#: when several rules give one lecture different roles, the strongest wins
RANK = {Role.student: 1, Role.tutor: 2, Role.instructor: 3}


@dataclass(frozen=True)
class RoleRule:
    """One `load_roles` entry: these users and members of these groups get `role` in `lecture`."""

    lecture: str
    role: Role
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


def parse_group(group: str) -> tuple[str, Role] | None:
    """`demo101:student` → ("demo101", Role.student); anything else → None."""
    lecture, sep, role = group.rpartition(":")
    if not sep or not lecture:
        return None
    try:
        return lecture, Role(role)
    except ValueError:
        return None


def parse_load_roles(raw: Iterable[Any]) -> list[RoleRule]:
    """Validate the `load_roles` config; ValueError naming the entry and field otherwise."""
    rules: list[RoleRule] = []
    for i, entry in enumerate(raw):
        where = f"load_roles[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a dict with lecture, role, users and/or groups")
        unknown = set(entry) - {"lecture", "role", "users", "groups"}
        if unknown:
            raise ValueError(
                f"{where}.{sorted(unknown)[0]}: unknown field (known: lecture, role, users, groups)"
            )
        lecture = entry.get("lecture")
        if not isinstance(lecture, str) or not lecture:
            raise ValueError(f"{where}.lecture: the lecture code (a non-empty string) is required")
        try:
            role = Role(entry.get("role", ""))
        except ValueError:
            raise ValueError(
                f"{where}.role: must be one of student, tutor, instructor (got {entry.get('role')!r})"
            ) from None
        names: dict[str, frozenset[str]] = {}
        for key in ("users", "groups"):
            value = entry.get(key, [])
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{where}.{key}: must be a list of strings")
            names[key] = frozenset(value)
        if not names["users"] and not names["groups"]:
            raise ValueError(f"{where}: give users or groups (or both)")
        rules.append(RoleRule(lecture, role, names["users"], names["groups"]))
    return rules


def mapped_roles(username: str, groups: Iterable[str], rules: Iterable[RoleRule]) -> dict[str, Role]:
    """Lecture code → role for this user, from their groups and the `load_roles` rules."""
    groups = set(groups)
    out: dict[str, Role] = {}

    def grant(lecture: str, role: Role) -> None:
        if lecture not in out or RANK[role] > RANK[out[lecture]]:
            out[lecture] = role

    for group in groups:
        parsed = parse_group(group)
        if parsed:
            grant(*parsed)
    for rule in rules:
        if username in rule.users or groups & rule.groups:
            grant(rule.lecture, rule.role)
    return out


def apply_roles(session: Session, user: User, roles: dict[str, Role]) -> None:
    """Make the user's memberships in the named lectures match `roles` (in the caller's transaction)."""
    if not roles:
        return
    lectures = dict(
        session.execute(
            select(Lecture.code, Lecture.id).where(Lecture.code.in_(roles), Lecture.deleted_at.is_(None))
        ).all()
    )
    for code in set(roles) - set(lectures):
        log.debug("role mapping: no lecture %r (user %s); ignored", code, user.name)
    members = {
        m.lecture_id: m
        for m in session.scalars(
            select(LectureMember).where(
                LectureMember.user_id == user.id, LectureMember.lecture_id.in_(list(lectures.values()))
            )
        )
    }
    for code, lecture_id in lectures.items():
        member = members.get(lecture_id)
        if member is None:
            session.add(LectureMember(lecture_id=lecture_id, user_id=user.id, role=roles[code]))
        elif member.role != roles[code]:
            member.role = roles[code]
    session.flush()

"""Gradebook reads: a cursor page of learners with filters, one learner, grading info; constant queries.

A page costs the same number of queries whatever its size: the assignments, the counts (one query), the
page of learners, their assignment grades (overrides applied), and their lecture grades; stale or missing
lecture grades of the page (policy hash differs) are recomputed set-wise in a few more.

The counts are exact. Over a large lecture they must not join every membership with the grades, so
(migration 0005) the grade rows carry the learner's role (`member_role`, PostgreSQL) and the override-aware
assignment percent (`effective_percent`), and a grade filter is counted from one index range: the graded
members in the range, or, when the range holds 0 (members without a grade row count as 0), the included
members minus the graded ones outside it. SQLite, and filters combined with each other, count with joins.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from grader_service.errors import BadRequest
from grader_service.grades.dialect import is_postgres
from grader_service.grades.persistence import (
    StoredLectureGrade,
    counted_assignments,
    grade_learners,
    grader_for,
    infos_of,
    lock_learners,
    stale_or_missing,
    stored_lecture_grades,
)
from grader_service.grades.setwise import SCALE, AssignmentInfo, LectureGrader, percent_units
from grader_service.orm.grades import AssignmentGrade, AssignmentGradeOverride, LectureGrade
from grader_service.orm.models import Lecture, LectureMember, Role, User


@dataclass(frozen=True)
class GradebookFilters:
    """Filters of the gradebook list; grade bounds are percents 0–100."""

    username_contains: str | None = None
    assignment_id: int | None = None
    assignment_grade_min: float | None = None
    assignment_grade_max: float | None = None
    course_grade_min: float | None = None
    course_grade_max: float | None = None
    excluded_roles: frozenset[Role] = field(default_factory=lambda: frozenset({Role.tutor, Role.instructor}))


class AssignmentGradeView(NamedTuple):
    earned: float
    possible: float
    attempted: bool
    overridden: bool


# -- cursors --
def encode_cursor(direction: str, username: str) -> str:
    raw = json.dumps({direction: username}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """("after" | "before", username); BadRequest naming `cursor` for anything else."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        (direction, name), = data.items()
        if direction in ("after", "before") and isinstance(name, str):
            return direction, name
    except (ValueError, binascii.Error, TypeError, AttributeError, UnicodeDecodeError):
        pass
    raise BadRequest("cursor is not a cursor this gradebook gave out (use the next/previous links)",
                     field="cursor")


# -- labels and grading info --
def assignment_labels(grader: LectureGrader, infos: Sequence[AssignmentInfo]) -> dict[int, tuple[str, str]]:
    """assignment id → (category, label) as the breakdown names them: `HW 01`, or `Final` for a category
    of one slot; assignments of a type the policy does not name keep their type and have no label."""
    out = {a.id: (a.type, "") for a in infos}
    for rule in grader.parsed.rules:
        members = [a for a in infos if a.type == rule.type and a.points > 0]
        single = max(len(members), rule.min_count) == 1
        for index, a in enumerate(members):
            out[a.id] = (rule.category, rule.short_label if single else f"{rule.short_label} {index + 1:02d}")
        for a in infos:
            if a.type == rule.type and a.points <= 0:
                out[a.id] = (rule.category, "")
    return out


def grading_info(lecture: Lecture, infos: Sequence[AssignmentInfo]) -> dict[str, Any]:
    grader = grader_for(lecture, infos)
    labels = assignment_labels(grader, infos)
    return {
        "policy": grader.policy, "policy_hash": grader.hash, "gradebook_writable": lecture.gradebook_writable,
        "categories": [{"type": r.type, "category": r.category, "short_label": r.short_label,
                        "weight": float(r.weight), "min_count": r.min_count, "drop_count": r.drop_count}
                       for r in grader.parsed.rules],
        "grade_cutoffs": {letter: float(cutoff) for letter, cutoff in grader.parsed.cutoffs},
        "assignments": [{"id": a.id, "name": a.name, "type": a.type, "category": labels[a.id][0],
                         "label": labels[a.id][1], "points": a.points, "grading_basis": a.basis}
                        for a in infos],
    }


# -- the page --
def _included_roles(filters: GradebookFilters) -> list[Role]:
    return [r for r in Role if r not in filters.excluded_roles]


def _course_filtered(filters: GradebookFilters) -> bool:
    return filters.course_grade_min is not None or filters.course_grade_max is not None


def _assignment_filtered(filters: GradebookFilters) -> bool:
    return filters.assignment_id is not None and (filters.assignment_grade_min is not None
                                                  or filters.assignment_grade_max is not None)


def _course_bounds(filters: GradebookFilters) -> tuple[float | None, float | None]:
    """The course bounds as stored fractions: percent_grade ≥ 40/100 holds exactly for a stored 0.40, where
    percent_grade × 100 ≥ 40 may not (0.29 × 100 = 28.999…)."""
    low, high = filters.course_grade_min, filters.course_grade_max
    return (None if low is None else low / 100, None if high is None else high / 100)


def _assignment_bounds(filters: GradebookFilters) -> tuple[float | None, float | None]:
    return filters.assignment_grade_min, filters.assignment_grade_max


def _in_range(column: Any, low: float | None, high: float | None) -> ColumnElement[bool]:
    return and_(*([column >= low] if low is not None else []), *([column <= high] if high is not None else []))


def _outside(column: Any, low: float | None, high: float | None) -> ColumnElement[bool]:
    return or_(*([column < low] if low is not None else []), *([column > high] if high is not None else []))


def _holds_zero(low: float | None, high: float | None) -> bool:
    """Whether a learner without a grade row (shown as 0) passes the range."""
    return (low is None or low <= 0) and (high is None or high >= 0)


def _name_matches(session: Session, part: str) -> ColumnElement[bool]:
    """Case-insensitive `part` of the username. PostgreSQL: ILIKE (what the pg_trgm index serves; the same
    as lower() LIKE lower() there), or plain LIKE when `part` has no cased character, which matches the
    same names without case-folding every one of them. SQLite: lower() LIKE lower()."""
    if not is_postgres(session):
        return User.name.icontains(part, autoescape=True)
    escaped = part.replace("/", "//").replace("%", "/%").replace("_", "/_")
    if part.lower() == part.upper():
        return User.name.like(f"%{escaped}%", escape="/")
    return User.name.ilike(f"%{escaped}%", escape="/")


def _filtered(session: Session, lecture_id: int, filters: GradebookFilters, *columns: Any,
              with_names: bool = True) -> Select[Any]:
    """The filtered learners (`columns` of them), all filters applied with joins. The users table is joined
    only when names are needed, so counting without a username filter never touches it."""
    stmt = select(*columns).select_from(LectureMember).where(LectureMember.lecture_id == lecture_id)
    if with_names or filters.username_contains:
        stmt = stmt.join(User, User.id == LectureMember.user_id)
    if filters.excluded_roles:
        stmt = stmt.where(LectureMember.role.not_in(sorted(filters.excluded_roles, key=lambda r: r.value)))
    if filters.username_contains:
        stmt = stmt.where(_name_matches(session, filters.username_contains))
    if _course_filtered(filters):
        low, high = _course_bounds(filters)
        lg = aliased(LectureGrade)
        on = (lg.lecture_id == lecture_id) & (lg.user_id == LectureMember.user_id)
        if _holds_zero(low, high):  # no lecture grade counts as 0
            stmt = stmt.outerjoin(lg, on).where(or_(lg.id.is_(None), _in_range(lg.percent_grade, low, high)))
        else:
            stmt = stmt.join(lg, on & _in_range(lg.percent_grade, low, high))
    if _assignment_filtered(filters):
        low, high = _assignment_bounds(filters)
        g = aliased(AssignmentGrade)
        on = ((g.lecture_id == lecture_id) & (g.user_id == LectureMember.user_id)
              & (g.assignment_id == filters.assignment_id))
        if _holds_zero(low, high):  # no assignment grade counts as 0
            stmt = stmt.outerjoin(g, on).where(or_(g.id.is_(None), _in_range(g.effective_percent, low, high)))
        else:
            stmt = stmt.join(g, on & _in_range(g.effective_percent, low, high))
    return stmt


def _graded_count(lecture_id: int, filters: GradebookFilters, included: list[Role]) -> tuple[Select[Any], bool]:
    """PostgreSQL, one grade filter: a count over one index range of the grade rows of included members,
    and whether it counts the rows outside the range (to subtract from the included members) or inside."""
    if _course_filtered(filters):
        low, high = _course_bounds(filters)
        table, value, wanted = LectureGrade, LectureGrade.percent_grade, LectureGrade.lecture_id == lecture_id
    else:
        low, high = _assignment_bounds(filters)
        table, value = AssignmentGrade, AssignmentGrade.effective_percent
        wanted = AssignmentGrade.assignment_id == filters.assignment_id
    outside = _holds_zero(low, high)
    stmt = (select(func.count()).select_from(table)
            .where(wanted, table.member_role.in_([r.value for r in included]),
                   _outside(value, low, high) if outside else _in_range(value, low, high)))
    return stmt, outside


def gradebook_counts(session: Session, lecture_id: int, filters: GradebookFilters) -> tuple[int, int]:
    """(total_users_count, filtered_users_count) in one query; exact.

    The included members are all members minus those of an excluded role (an index range: usually the
    few staff). A single grade filter on PostgreSQL is counted from its index (see the module docstring);
    a username filter (matching users, from the pg_trgm index for 3+ characters, joined with their
    memberships), combined filters, and SQLite count the filtered join. The assignment must belong to the
    lecture (the service checks it).
    """
    M = LectureMember
    included = _included_roles(filters)
    total_q = select(func.count()).select_from(M).where(M.lecture_id == lecture_id).scalar_subquery()
    excluded = sorted(filters.excluded_roles, key=lambda r: r.value)
    excluded_q: Any = (select(func.count()).select_from(M).where(M.lecture_id == lecture_id, M.role.in_(excluded))
                       .scalar_subquery() if excluded else literal(0))
    kinds = [bool(filters.username_contains), _course_filtered(filters), _assignment_filtered(filters)]
    part_q: Any = literal(0)
    subtract = False
    if included and any(kinds):
        if sum(kinds) == 1 and not kinds[0] and is_postgres(session):
            stmt, subtract = _graded_count(lecture_id, filters, included)
            part_q = stmt.scalar_subquery()
        else:
            part_q = _filtered(session, lecture_id, filters, func.count(), with_names=False).scalar_subquery()
    total, excluded_n, part = session.execute(select(total_q, excluded_q, part_q)).one()
    members = total - excluded_n
    if not included:
        return total, 0
    if not any(kinds):
        return total, members
    return total, (members - part if subtract else part)


def assignment_grade_views(session: Session, lecture_id: int, user_ids: Sequence[int]
                           ) -> dict[int, dict[int, AssignmentGradeView]]:
    """user id → assignment id → the grade as shown (overrides applied field by field)."""
    if not user_ids:
        return {}
    G, O = AssignmentGrade, AssignmentGradeOverride
    rows = session.execute(
        select(G.user_id, G.assignment_id, func.coalesce(O.earned_graded_override, G.earned_graded),
               func.coalesce(O.possible_graded_override, G.possible_graded), G.first_attempted, O.id)
        .outerjoin(O, O.grade_id == G.id)
        .where(G.lecture_id == lecture_id, G.user_id.in_(list(user_ids))))
    out: dict[int, dict[int, AssignmentGradeView]] = {}
    for uid, aid, earned, possible, first, override_id in rows:
        attempted = first is not None or override_id is not None
        out.setdefault(uid, {})[aid] = AssignmentGradeView(earned, possible, attempted, override_id is not None)
    return out


def fresh_lecture_grades(session: Session, lecture_id: int, grader: LectureGrader, user_ids: Sequence[int]
                         ) -> dict[int, StoredLectureGrade]:
    """The stored lecture grades of these learners, recomputed first where stale or missing."""
    stored = stored_lecture_grades(session, lecture_id, user_ids)
    out = {uid: StoredLectureGrade(row[0], row[1], grader.passed(row[0]), row[2], row[3])
           for uid, row in stored.items()}
    redo = stale_or_missing(stored, user_ids, grader.hash)
    if redo:
        out.update(grade_learners(session, lecture_id, grader, lock_learners(session, lecture_id, redo)))
    return out


def breakdown_template(infos: Sequence[AssignmentInfo], labels: dict[int, tuple[str, str]]
                       ) -> list[tuple[int, str, str, str]]:
    """What every learner's breakdown shares: (assignment id, name, category, label) per assignment."""
    return [(a.id, a.name, labels[a.id][0], labels[a.id][1]) for a in infos]


def learner_entry(user_id: int, username: str, grade: StoredLectureGrade | None,
                  views: dict[int, AssignmentGradeView], infos: Sequence[AssignmentInfo],
                  labels: dict[int, tuple[str, str]],
                  template: list[tuple[int, str, str, str]] | None = None) -> dict[str, Any]:
    """One learner as the gradebook shows them; `template` (`breakdown_template`) saves rebuilding the
    per-assignment part for every learner of a page."""
    breakdown = []
    append = breakdown.append
    for aid, name, category, label in template if template is not None else breakdown_template(infos, labels):
        view = views.get(aid)
        if view is not None and view.attempted:
            earned, possible = view.earned, view.possible
            percent = percent_units(earned, possible) / SCALE
        else:
            earned = possible = percent = 0.0
        append({
            "assignment_id": aid, "name": name, "category": category, "label": label,
            "attempted": view is not None and view.attempted, "percent": percent,
            "score_earned": earned, "score_possible": possible,
            "overridden": view is not None and view.overridden,
        })
    return {
        "user_id": user_id, "username": username,
        "percent": grade.percent if grade else 0.0, "letter": grade.letter if grade else "",
        "passed": grade.passed if grade else False,
        "passed_timestamp": _iso(grade.passed_timestamp) if grade else None,
        "section_breakdown": breakdown,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def gradebook_page(session: Session, lecture: Lecture, filters: GradebookFilters, cursor: str | None,
                   page_size: int) -> dict[str, Any]:
    """One page of the gradebook: `results`, `next`/`previous` cursors (None at the ends), and counts."""
    direction, boundary = decode_cursor(cursor) if cursor else ("after", None)
    infos = infos_of(counted_assignments(session, lecture.id))
    grader = grader_for(lecture, infos)
    total, filtered = gradebook_counts(session, lecture.id, filters)
    stmt = _filtered(session, lecture.id, filters, User.id, User.name)
    if direction == "after":
        if boundary is not None:
            stmt = stmt.where(User.name > boundary)
        rows = session.execute(stmt.order_by(User.name).limit(page_size + 1)).all()
        more = len(rows) > page_size
        rows = rows[:page_size]
        has_next, has_previous = more, boundary is not None
    else:
        rows = session.execute(stmt.where(User.name < boundary).order_by(User.name.desc())
                               .limit(page_size + 1)).all()
        more = len(rows) > page_size
        rows = list(reversed(rows[:page_size]))
        has_next, has_previous = True, more
    ids = [r[0] for r in rows]
    views = assignment_grade_views(session, lecture.id, ids)
    grades = fresh_lecture_grades(session, lecture.id, grader, ids)
    labels = assignment_labels(grader, infos)
    template = breakdown_template(infos, labels)
    return {
        "next": encode_cursor("after", rows[-1][1]) if rows and has_next else None,
        "previous": encode_cursor("before", rows[0][1]) if rows and has_previous else None,
        "results": [learner_entry(uid, name, grades.get(uid), views.get(uid, {}), infos, labels, template)
                    for uid, name in rows],
        "total_users_count": total,
        "filtered_users_count": filtered,
    }


def gradebook_learner(session: Session, lecture: Lecture, user_id: int, username: str) -> dict[str, Any]:
    infos = infos_of(counted_assignments(session, lecture.id))
    grader = grader_for(lecture, infos)
    grade = fresh_lecture_grades(session, lecture.id, grader, [user_id]).get(user_id)
    views = assignment_grade_views(session, lecture.id, [user_id]).get(user_id, {})
    return learner_entry(user_id, username, grade, views, infos, assignment_labels(grader, infos))


__all__ = ["GradebookFilters", "assignment_grade_views", "gradebook_counts", "assignment_labels", "decode_cursor", "encode_cursor",
           "fresh_lecture_grades", "gradebook_learner", "gradebook_page", "grading_info", "learner_entry"]

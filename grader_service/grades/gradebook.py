"""Gradebook reads: a cursor page of learners with filters, one learner, grading info; constant queries.

A page costs the same number of queries whatever its size: the assignments, the two counts, the page of
learners, their assignment grades (overrides applied), and their lecture grades; stale or missing lecture
grades of the page (policy hash differs) are recomputed set-wise in a few more.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from grader_service.errors import BadRequest
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


@dataclass
class AssignmentGradeView:
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
def _filtered(lecture_id: int, filters: GradebookFilters, *columns: Any, with_names: bool = True) -> Select[Any]:
    """The filtered learners (`columns` of them). The users table is joined only when names are needed,
    so counting a lecture's members without a username filter never touches it."""
    stmt = select(*columns).select_from(LectureMember).where(LectureMember.lecture_id == lecture_id)
    if with_names or filters.username_contains:
        stmt = stmt.join(User, User.id == LectureMember.user_id)
    if filters.excluded_roles:
        stmt = stmt.where(LectureMember.role.not_in(sorted(filters.excluded_roles, key=lambda r: r.value)))
    if filters.username_contains:
        stmt = stmt.where(User.name.icontains(filters.username_contains, autoescape=True))
    if filters.course_grade_min is not None or filters.course_grade_max is not None:
        lg = aliased(LectureGrade)
        stmt = stmt.outerjoin(lg, (lg.lecture_id == lecture_id) & (lg.user_id == LectureMember.user_id))
        percent = func.coalesce(lg.percent_grade, 0.0) * 100
        if filters.course_grade_min is not None:
            stmt = stmt.where(percent >= filters.course_grade_min)
        if filters.course_grade_max is not None:
            stmt = stmt.where(percent <= filters.course_grade_max)
    if filters.assignment_id is not None and (filters.assignment_grade_min is not None
                                              or filters.assignment_grade_max is not None):
        g, o = aliased(AssignmentGrade), aliased(AssignmentGradeOverride)
        stmt = stmt.outerjoin(g, (g.lecture_id == lecture_id) & (g.user_id == LectureMember.user_id)
                              & (g.assignment_id == filters.assignment_id)).outerjoin(o, o.grade_id == g.id)
        possible = func.coalesce(o.possible_graded_override, g.possible_graded)
        earned = func.coalesce(o.earned_graded_override, g.earned_graded)
        percent = func.coalesce(earned * 100 / func.nullif(possible, 0), 0.0)
        if filters.assignment_grade_min is not None:
            stmt = stmt.where(percent >= filters.assignment_grade_min)
        if filters.assignment_grade_max is not None:
            stmt = stmt.where(percent <= filters.assignment_grade_max)
    return stmt


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


def learner_entry(user_id: int, username: str, grade: StoredLectureGrade | None,
                  views: dict[int, AssignmentGradeView], infos: Sequence[AssignmentInfo],
                  labels: dict[int, tuple[str, str]]) -> dict[str, Any]:
    breakdown = []
    for a in infos:
        view = views.get(a.id)
        attempted = view is not None and view.attempted
        earned, possible = (view.earned, view.possible) if attempted and view else (0.0, 0.0)
        breakdown.append({
            "assignment_id": a.id, "name": a.name, "category": labels[a.id][0], "label": labels[a.id][1],
            "attempted": attempted, "percent": percent_units(earned, possible) / SCALE,
            "score_earned": earned, "score_possible": possible,
            "overridden": bool(view is not None and view.overridden),
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
    total = session.scalar(select(func.count()).select_from(LectureMember)
                           .where(LectureMember.lecture_id == lecture.id)) or 0
    filtered = session.scalar(_filtered(lecture.id, filters, func.count(), with_names=False)) or 0
    stmt = _filtered(lecture.id, filters, User.id, User.name)
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
    return {
        "next": encode_cursor("after", rows[-1][1]) if rows and has_next else None,
        "previous": encode_cursor("before", rows[0][1]) if rows and has_previous else None,
        "results": [learner_entry(uid, name, grades.get(uid), views.get(uid, {}), infos, labels)
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


__all__ = ["GradebookFilters", "assignment_grade_views", "assignment_labels", "decode_cursor", "encode_cursor",
           "fresh_lecture_grades", "gradebook_learner", "gradebook_page", "grading_info", "learner_entry"]

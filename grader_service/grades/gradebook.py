"""Gradebook reads: a cursor page of learners with filters, one learner, grading info; constant queries.

A page costs the same number of queries whatever its size: the assignments, the counts (a first page's,
alongside on a connection of their own), the page of learners, their assignment grades (overrides
applied), and their lecture grades; stale or missing
lecture grades of the page (policy hash differs) are recomputed set-wise in a few more. Which learners, in
which order, and how many: `gradebook_query`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_service.errors import BadRequest
from grader_service.grades.dialect import id_in, is_postgres
from grader_service.grades.gradebook_query import (
    GradebookCounts,
    GradebookFilters,
    PagePlan,
    counted,
    gradebook_counts,
    page_query,
    plan_ahead,
    plan_of,
    serial_plans,
    single_grade,
)
from grader_service.grades.persistence import (
    StoredLectureGrade,
    counted_infos,
    grade_learners,
    grader_for,
    lock_learners,
    stale_or_missing,
    stored_lecture_grades,
)
from grader_service.grades.setwise import SCALE, AssignmentInfo, LectureGrader, percent_units
from grader_service.orm.grades import AssignmentGrade, AssignmentGradeOverride
from grader_service.orm.models import Lecture
from grader_service.orm.session import run_aside
from grader_service.schemas.responses import gradebook as responses
from grader_service.schemas.states import GradingBasis


class AssignmentGradeView(NamedTuple):
    earned: float
    possible: float
    attempted: bool
    overridden: bool


# -- cursors --
def encode_cursor(direction: str, username: str, counts: Sequence[int] | None = None) -> str:
    """An opaque cursor: where the next page starts, and (gradebook pages) the counts of the first page."""
    data: dict[str, Any] = {direction: username}
    if counts is not None:
        data["counts"] = list(counts)
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_cursor(cursor: str) -> tuple[str, str, tuple[int, ...] | None]:
    """("after" | "before", username, counts or None); BadRequest naming `cursor` for anything else."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        counts = data.pop("counts", None)
        ((direction, name),) = data.items()
        if (
            direction in ("after", "before")
            and isinstance(name, str)
            and (
                counts is None
                or (
                    isinstance(counts, list)
                    and len(counts) == 4
                    and all(type(n) is int and n >= 0 for n in counts)
                )
            )
        ):
            return direction, name, None if counts is None else tuple(counts)
    except (ValueError, binascii.Error, TypeError, AttributeError, UnicodeDecodeError):
        pass
    raise BadRequest(
        "cursor is not a cursor this gradebook gave out (use the next/previous links)", field="cursor"
    )


def decode_cursor(cursor: str) -> tuple[str, str]:
    """("after" | "before", username); BadRequest naming `cursor` for anything else."""
    direction, name, _ = decode_page_cursor(cursor)
    return direction, name


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


def grading_info(lecture: Lecture, infos: Sequence[AssignmentInfo]) -> responses.GradingInfo:
    grader = grader_for(lecture, infos)
    labels = assignment_labels(grader, infos)
    return responses.GradingInfo(
        policy=grader.policy,
        policy_hash=grader.hash,
        gradebook_writable=lecture.gradebook_writable,
        categories=[
            responses.PolicyCategory(
                type=r.type,
                category=r.category,
                short_label=r.short_label,
                weight=float(r.weight),
                min_count=r.min_count,
                drop_count=r.drop_count,
            )
            for r in grader.parsed.rules
        ],
        grade_cutoffs={letter: float(cutoff) for letter, cutoff in grader.parsed.cutoffs},
        assignments=[
            responses.CountedAssignment(
                id=a.id,
                name=a.name,
                type=a.type,
                category=labels[a.id][0],
                label=labels[a.id][1],
                points=a.points,
                grading_basis=GradingBasis(a.basis),
            )
            for a in infos
        ],
    )


#: assignment_grade_views on PostgreSQL, run on the driver's cursor: SQLAlchemy's statement cache lookup and
#: Row objects cost ~2 ms of a page's 2,000 rows (5.0 → 3.5 ms here); the columns are those of the Core query
_VIEWS_SQL = """
SELECT g.user_id, g.assignment_id, coalesce(o.earned_graded_override, g.earned_graded),
       coalesce(o.possible_graded_override, g.possible_graded),
       g.first_attempted IS NOT NULL OR o.id IS NOT NULL, o.id IS NOT NULL
  FROM assignment_grades g LEFT JOIN assignment_grade_overrides o ON o.grade_id = g.id
 WHERE g.lecture_id = %s AND g.user_id = ANY(%s)"""


def assignment_grade_views(
    session: Session, lecture_id: int, user_ids: Sequence[int]
) -> dict[int, dict[int, AssignmentGradeView]]:
    """user id → assignment id → the grade as shown (overrides applied field by field); attempted when it
    has a first attempt or an override."""
    if not user_ids:
        return {}
    if is_postgres(session):
        driver_connection = session.connection().connection.driver_connection
        assert driver_connection is not None  # a checked-out connection always has its psycopg one
        with driver_connection.cursor() as cursor:
            cursor.execute(_VIEWS_SQL, (lecture_id, list(user_ids)))
            rows: Sequence[Any] = cursor.fetchall()
    else:
        G, Ov = AssignmentGrade, AssignmentGradeOverride
        # whether first_attempted is set, not the datetime itself: converting 2,000 of them per page cost
        # ~5 ms; run on the connection: the ORM's row processing of 2,000 plain rows cost ~5 ms more
        rows = (
            session.connection()
            .execute(
                select(
                    G.user_id,
                    G.assignment_id,
                    func.coalesce(Ov.earned_graded_override, G.earned_graded),
                    func.coalesce(Ov.possible_graded_override, G.possible_graded),
                    G.first_attempted.is_not(None) | Ov.id.is_not(None),
                    Ov.id.is_not(None),
                )
                .outerjoin(Ov, Ov.grade_id == G.id)
                .where(G.lecture_id == lecture_id, id_in(session, G.user_id, user_ids))
            )
            .all()
        )
    out: dict[int, dict[int, AssignmentGradeView]] = {}
    for uid, aid, earned, possible, attempted, overridden in rows:
        view = AssignmentGradeView(earned, possible, bool(attempted), bool(overridden))
        out.setdefault(uid, {})[aid] = view
    return out


def fresh_lecture_grades(
    session: Session, lecture_id: int, grader: LectureGrader, user_ids: Sequence[int]
) -> dict[int, StoredLectureGrade]:
    """The stored lecture grades of these learners, recomputed first where stale or missing."""
    stored = stored_lecture_grades(session, lecture_id, user_ids)
    out = {
        uid: StoredLectureGrade(row[0], row[1], grader.passed(row[0]), row[2], row[3])
        for uid, row in stored.items()
    }
    redo = stale_or_missing(stored, user_ids, grader.hash)
    if redo:
        out.update(grade_learners(session, lecture_id, grader, lock_learners(session, lecture_id, redo)))
    return out


def breakdown_template(
    infos: Sequence[AssignmentInfo], labels: dict[int, tuple[str, str]]
) -> list[tuple[int, str, str, str]]:
    """What every learner's breakdown shares: (assignment id, name, category, label) per assignment."""
    return [(a.id, a.name, labels[a.id][0], labels[a.id][1]) for a in infos]


def learner_entry(
    user_id: int,
    username: str,
    grade: StoredLectureGrade | None,
    views: dict[int, AssignmentGradeView],
    infos: Sequence[AssignmentInfo],
    labels: dict[int, tuple[str, str]],
    template: list[tuple[int, str, str, str]] | None = None,
) -> responses.GradebookEntry:
    """One learner as the gradebook shows them; `template` (`breakdown_template`) saves rebuilding the
    per-assignment part for every learner of a page."""
    breakdown: list[responses.SectionBreakdownEntry] = []
    append = breakdown.append
    for aid, name, category, label in template if template is not None else breakdown_template(infos, labels):
        view = views.get(aid)
        if view is not None and view.attempted:
            earned, possible = view.earned, view.possible
            percent = percent_units(earned, possible) / SCALE
        else:
            earned = possible = percent = 0.0
        append(
            {
                "assignment_id": aid,
                "name": name,
                "category": category,
                "label": label,
                "attempted": view is not None and view.attempted,
                "percent": percent,
                "score_earned": earned,
                "score_possible": possible,
                "overridden": view is not None and view.overridden,
            }
        )
    return {
        "user_id": user_id,
        "username": username,
        "percent": grade.percent if grade else 0.0,
        "letter": grade.letter if grade else "",
        "passed": grade.passed if grade else False,
        "passed_timestamp": grade.passed_timestamp if grade else None,
        "section_breakdown": breakdown,
    }


class _Page(NamedTuple):
    rows: Sequence[Any]
    has_next: bool
    has_previous: bool
    results: list[responses.GradebookEntry]


def _read_page(
    session: Session,
    lecture: Lecture,
    filters: GradebookFilters,
    plan: PagePlan,
    direction: str,
    boundary: str | None,
    page_size: int,
    infos: Sequence[AssignmentInfo],
    grader: LectureGrader,
) -> _Page:
    stmt, name = page_query(session, lecture.id, filters, plan)
    if direction == "after":
        if boundary is not None:
            stmt = stmt.where(name > boundary)
        rows = session.execute(stmt.order_by(name).limit(page_size + 1)).all()
        more = len(rows) > page_size
        rows = rows[:page_size]
        has_next, has_previous = more, boundary is not None
    else:
        rows = session.execute(stmt.where(name < boundary).order_by(name.desc()).limit(page_size + 1)).all()
        more = len(rows) > page_size
        rows = list(reversed(rows[:page_size]))
        has_next, has_previous = True, more
    ids = [r[0] for r in rows]
    views = assignment_grade_views(session, lecture.id, ids)
    grades = fresh_lecture_grades(session, lecture.id, grader, ids)
    labels = assignment_labels(grader, infos)
    template = breakdown_template(infos, labels)
    results = [
        learner_entry(uid, uname, grades.get(uid), views.get(uid, {}), infos, labels, template)
        for uid, uname in rows
    ]
    return _Page(rows, has_next, has_previous, results)


def gradebook_page(
    session: Session, lecture: Lecture, filters: GradebookFilters, cursor: str | None, page_size: int
) -> responses.GradebookPage:
    """One page of the gradebook: `results`, `next`/`previous` cursors (None at the ends), and counts.

    The counts are taken with the first page and carried in the cursors it hands out, so paging on costs
    no count (the slowest query of a filtered page); a page reached by a cursor shows the counts as they
    were when the paging started. On PostgreSQL the first page's counts are taken on a connection of their
    own while the page is read (`run_aside`; the page is planned without them, `plan_ahead`): they are
    exact, in a snapshot of their own a moment apart from the page's."""
    direction, boundary, carried = decode_page_cursor(cursor) if cursor else ("after", None, None)
    serial_plans(session)
    infos = counted_infos(session, lecture.id)
    grader = grader_for(lecture, infos)
    pending: Future[GradebookCounts] | None = None
    if carried is not None:  # a later page: the counts of the first page, carried in the cursor
        total, filtered, members, ungraded = carried
        counts = GradebookCounts(total, filtered, members, single_grade(session, filters), bool(ungraded))
        plan = plan_of(counts, page_size)
    else:  # a first page: counted alongside
        pending = run_aside(session, counted, lecture.id, filters)
        plan = plan_ahead(session, lecture.id, filters, page_size)
    page = _read_page(session, lecture, filters, plan, direction, boundary, page_size, infos, grader)
    if pending is not None:
        counts = pending.result()
    carry = (counts.total, counts.filtered, counts.members, int(counts.ungraded))
    rows = page.rows
    return {
        "next": encode_cursor("after", rows[-1][1], carry) if rows and page.has_next else None,
        "previous": encode_cursor("before", rows[0][1], carry) if rows and page.has_previous else None,
        "results": page.results,
        "total_users_count": counts.total,
        "filtered_users_count": counts.filtered,
    }


def gradebook_learner(
    session: Session, lecture: Lecture, user_id: int, username: str
) -> responses.GradebookEntry:
    infos = counted_infos(session, lecture.id)
    grader = grader_for(lecture, infos)
    grade = fresh_lecture_grades(session, lecture.id, grader, [user_id]).get(user_id)
    views = assignment_grade_views(session, lecture.id, [user_id]).get(user_id, {})
    return learner_entry(user_id, username, grade, views, infos, assignment_labels(grader, infos))


__all__ = [
    "GradebookFilters",
    "assignment_grade_views",
    "assignment_labels",
    "decode_cursor",
    "encode_cursor",
    "fresh_lecture_grades",
    "gradebook_counts",
    "gradebook_learner",
    "gradebook_page",
    "grading_info",
    "learner_entry",
]

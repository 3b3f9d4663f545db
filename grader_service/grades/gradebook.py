"""Gradebook reads: a cursor page of learners with filters, one learner, grading info; constant queries.

A page costs the same number of queries whatever its size: the assignments, the counts (one query), the
page of learners, their assignment grades (overrides applied), and their lecture grades; stale or missing
lecture grades of the page (policy hash differs) are recomputed set-wise in a few more.

The counts are exact. Over a large lecture they must not join every membership with the grades, so
(migration 0005) the grade rows carry the learner's role (`member_role`, PostgreSQL) and the override-aware
assignment percent (`effective_percent`), and a grade filter is counted from one index range: the graded
members in the range, or, when the range holds 0 (members without a grade row count as 0), the included
members minus the graded ones outside it. SQLite, and filters combined with each other, count with joins.

The page walks the members in name order and stops after a page, unless a single grade filter (PostgreSQL)
passes fewer than 1 in DRIVE_FROM_GRADES members: then it starts from the same index range (see
`_page_query`), since a walk in name order would visit the whole lecture to find the few.

Names (migration 0006): on PostgreSQL the memberships carry the username and its lower() (kept by
triggers), so neither the page nor a username count joins the users: the page walks the index
(lecture_id, username) and stops after a page; a 1–2 character `username_contains` is counted in one scan
of the lecture's members, 3+ characters from a trigram index on `username_lower` when pg_trgm is
installed. SQLite joins the users.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, true, union_all
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
        (direction, name), = data.items()
        if direction in ("after", "before") and isinstance(name, str) and (counts is None or (
                isinstance(counts, list) and len(counts) == 4
                and all(type(n) is int and n >= 0 for n in counts))):
            return direction, name, None if counts is None else tuple(counts)
    except (ValueError, binascii.Error, TypeError, AttributeError, UnicodeDecodeError):
        pass
    raise BadRequest("cursor is not a cursor this gradebook gave out (use the next/previous links)",
                     field="cursor")


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


def _name_column(session: Session) -> Any:
    """The learner's name the page orders by: the membership's copy on PostgreSQL, the user's on SQLite."""
    return LectureMember.username if is_postgres(session) else User.name


#: a `username_contains` this long or longer can use the trigram index (pg_trgm needs 3 characters)
TRIGRAM_LENGTH = 3


def _name_matches(session: Session, part: str) -> ColumnElement[bool]:
    """Case-insensitive `part` of the username, `%` and `_` taken literally.

    PostgreSQL compares the membership's stored lower(name) with lower(part), which is what ILIKE does in a
    multi-byte encoding, without case-folding every name on every read (an ASCII `part` is lowered here, to
    the same result, so the planner sees a constant). From TRIGRAM_LENGTH characters: LIKE, which the
    trigram index serves; shorter: strpos(), the same test, which no index serves either but which costs
    less than LIKE per name (16 against 27 ms over 100,000 names here), and a short part is checked against
    every member for the count. SQLite: lower() LIKE lower() on the users."""
    if not is_postgres(session):
        return User.name.icontains(part, autoescape=True)
    if len(part) < TRIGRAM_LENGTH:
        lowered: Any = part.lower() if part.isascii() else func.lower(part)
        return func.strpos(LectureMember.username_lower, lowered) > 0
    escaped = part.replace("/", "//").replace("%", "/%").replace("_", "/_")
    if escaped.isascii():
        return LectureMember.username_lower.like(f"%{escaped.lower()}%", escape="/")
    return LectureMember.username_lower.like(func.lower(f"%{escaped}%"), escape="/")


def _filtered(session: Session, lecture_id: int, filters: GradebookFilters, *columns: Any,
              with_names: bool = True) -> Select[Any]:
    """The filtered learners (`columns` of them), all filters applied with joins. The users table is joined
    only on SQLite, and there only when names are needed (PostgreSQL reads the memberships' copies)."""
    stmt = select(*columns).select_from(LectureMember).where(LectureMember.lecture_id == lecture_id)
    if (with_names or filters.username_contains) and not is_postgres(session):
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


class GradeIndex(NamedTuple):
    """One grade filter as a range over the grade rows' gradebook index: the rows of `table` that `wanted`
    selects (the lecture's, or the assignment's), compared on `value` with the bounds `low`..`high`."""

    table: Any
    value: Any
    wanted: ColumnElement[bool]
    low: float | None
    high: float | None


def _grade_index(lecture_id: int, filters: GradebookFilters, table: Any = None) -> GradeIndex:
    """The single grade filter of `filters` (the course one if both are set), over `table` (an alias of the
    grade model) or the model itself."""
    if _course_filtered(filters):
        t = table if table is not None else LectureGrade
        return GradeIndex(t, t.percent_grade, t.lecture_id == lecture_id, *_course_bounds(filters))
    t = table if table is not None else AssignmentGrade
    # the assignment's rows only (it belongs to the lecture: the service checks), so the range stays within
    # the index (assignment_id, member_role, effective_percent) and is counted index-only
    return GradeIndex(t, t.effective_percent, t.assignment_id == filters.assignment_id, *_assignment_bounds(filters))


def _graded_counts(lecture_id: int, filters: GradebookFilters, included: list[Role]) -> tuple[Any, Any, bool]:
    """PostgreSQL, one grade filter: counts over index ranges of the grade rows of included members: (the
    rows inside the range, the rows outside it or None, whether the range holds 0). When it holds 0 the
    filtered learners are the included members minus the graded ones outside, and the page needs to know
    whether any included member has no grade row at all (members − outside − inside)."""
    grade = _grade_index(lecture_id, filters)
    roles = grade.table.member_role.in_([r.value for r in included])

    def count(where: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(grade.table).where(grade.wanted, roles, where).scalar_subquery()

    inside = count(_in_range(grade.value, grade.low, grade.high))
    if not _holds_zero(grade.low, grade.high):
        return inside, None, False
    return inside, count(_outside(grade.value, grade.low, grade.high)), True


class GradebookCounts(NamedTuple):
    total: int
    filtered: int
    #: included members in all (all roles but the excluded ones)
    members: int
    #: PostgreSQL, one grade filter: whether the page may be driven from the grade index (see `_page_query`)
    driven: bool = False
    #: ... and then whether included members without a grade row pass the filter (the range holds 0)
    ungraded: bool = False


def _short_name_counts(session: Session, lecture_id: int, filters: GradebookFilters) -> GradebookCounts:
    """PostgreSQL, a username filter alone shorter than TRIGRAM_LENGTH: no index narrows it, so every
    member's name is checked; one scan of the lecture's members counts them all and the matching ones
    (checking the role on every row as well made that scan half as dear again), and the excluded roles,
    usually the few staff, are subtracted from their own index range, matches included."""
    M = LectureMember
    match = _name_matches(session, filters.username_contains or "")

    def counts(*where: ColumnElement[bool]) -> Any:
        return (select(func.count().label("n"), func.count().filter(match).label("matching"))
                .where(M.lecture_id == lecture_id, *where).subquery())

    everyone = counts()
    excluded = sorted(filters.excluded_roles, key=lambda r: r.value)
    if excluded:
        staff = counts(M.role.in_(excluded))
        stmt = (select(everyone.c.n, everyone.c.matching, staff.c.n, staff.c.matching)
                .select_from(everyone.join(staff, true())))
    else:
        stmt = select(everyone.c.n, everyone.c.matching, literal(0), literal(0))
    total, matching, excluded_n, excluded_matching = session.execute(stmt).one()
    return GradebookCounts(total, matching - excluded_matching, total - excluded_n)


def _single_grade(session: Session, filters: GradebookFilters) -> bool:
    """PostgreSQL, one grade filter and nothing else: counted (and maybe paged) from the grade index."""
    kinds = [bool(filters.username_contains), _course_filtered(filters), _assignment_filtered(filters)]
    return sum(kinds) == 1 and not kinds[0] and is_postgres(session)


def _counts(session: Session, lecture_id: int, filters: GradebookFilters) -> GradebookCounts:
    M = LectureMember
    included = _included_roles(filters)
    total_q = select(func.count()).select_from(M).where(M.lecture_id == lecture_id).scalar_subquery()
    excluded = sorted(filters.excluded_roles, key=lambda r: r.value)
    excluded_q: Any = (select(func.count()).select_from(M).where(M.lecture_id == lecture_id, M.role.in_(excluded))
                       .scalar_subquery() if excluded else literal(0))
    kinds = [bool(filters.username_contains), _course_filtered(filters), _assignment_filtered(filters)]
    if (kinds == [True, False, False] and included and is_postgres(session)
            and len(filters.username_contains or "") < TRIGRAM_LENGTH):
        return _short_name_counts(session, lecture_id, filters)
    single_grade = _single_grade(session, filters)
    inside_q: Any = literal(0)
    outside_q: Any = literal(0)
    holds_zero = False
    if included and any(kinds):
        if single_grade:
            inside_q, outside, holds_zero = _graded_counts(lecture_id, filters, included)
            if outside is not None:
                outside_q = outside
        else:
            inside_q = _filtered(session, lecture_id, filters, func.count(), with_names=False).scalar_subquery()
    total, excluded_n, inside, outside = session.execute(select(total_q, excluded_q, inside_q, outside_q)).one()
    members = total - excluded_n
    if not included:
        return GradebookCounts(total, 0, 0)
    if not any(kinds):
        return GradebookCounts(total, members, members)
    if not single_grade:
        return GradebookCounts(total, inside, members)
    if holds_zero:
        return GradebookCounts(total, members - outside, members, True, members - outside - inside > 0)
    return GradebookCounts(total, inside, members, True)


def gradebook_counts(session: Session, lecture_id: int, filters: GradebookFilters) -> tuple[int, int]:
    """(total_users_count, filtered_users_count) in one query; exact.

    The included members are all members minus those of an excluded role (an index range: usually the
    few staff). A single grade filter on PostgreSQL is counted from its index (see the module docstring), a
    username filter alone from the memberships' stored names (one scan for 1–2 characters, the trigram index
    for more); combined filters, and SQLite, count the filtered join. The assignment must belong to the
    lecture (the service checks it).
    """
    counts = _counts(session, lecture_id, filters)
    return counts.total, counts.filtered


#: drive the page from the grade index when fewer than 1 in this many included members pass the filter
#: (at 1 in 50 a walk in name order visits ~5,000 members for a page; the index range is ≤ 2,000 rows)
DRIVE_FROM_GRADES = 50


def _page_query(session: Session, lecture_id: int, filters: GradebookFilters, counts: GradebookCounts
                ) -> tuple[Select[Any], Any]:
    """The filtered learners as (id, name), to be ordered by name and cut at the page; and the name column.

    In general: the members in name order, each checked against the filters (the join of `_filtered`); that
    stops after a page when many learners pass, but walks the whole lecture when few do (a grade filter
    that 213 of 100,000 pass took 250 ms). So on PostgreSQL a single grade filter that fewer than
    1/DRIVE_FROM_GRADES of the members pass starts from the grade index instead: the included members'
    grade rows in the range (the index range the count used), plus, only when the range holds 0 and the
    counts found any, the included members without a grade row (an anti-join over the members); the ids
    are materialised, then joined with the users and sorted by name.
    """
    if not (counts.driven and counts.filtered * DRIVE_FROM_GRADES < counts.members):
        name = _name_column(session)
        return _filtered(session, lecture_id, filters, LectureMember.user_id, name), name
    included = [r.value for r in _included_roles(filters)]
    grade = _grade_index(lecture_id, filters)
    ids: Any = select(grade.table.user_id.label("user_id")).where(
        grade.wanted, grade.table.member_role.in_(included), _in_range(grade.value, grade.low, grade.high))
    if counts.ungraded:
        M = LectureMember
        row = _grade_index(lecture_id, filters, aliased(grade.table))
        ungraded = select(M.user_id).where(
            M.lecture_id == lecture_id, M.role.in_(included),
            ~select(row.table.id).where(row.wanted, row.table.lecture_id == lecture_id,
                                        row.table.user_id == M.user_id).exists())
        ids = union_all(ids, ungraded)
    found = ids.cte("gradebook_ids").prefix_with("MATERIALIZED")
    return select(User.id, User.name).join(found, found.c.user_id == User.id), User.name


def assignment_grade_views(session: Session, lecture_id: int, user_ids: Sequence[int]
                           ) -> dict[int, dict[int, AssignmentGradeView]]:
    """user id → assignment id → the grade as shown (overrides applied field by field)."""
    if not user_ids:
        return {}
    G, O = AssignmentGrade, AssignmentGradeOverride
    # whether first_attempted is set, not the datetime itself: converting 2,000 of them per page cost ~5 ms;
    # run on the connection: the ORM's row processing of 2,000 plain rows cost ~5 ms more
    rows = session.connection().execute(
        select(G.user_id, G.assignment_id, func.coalesce(O.earned_graded_override, G.earned_graded),
               func.coalesce(O.possible_graded_override, G.possible_graded), G.first_attempted.is_not(None),
               O.id)
        .outerjoin(O, O.grade_id == G.id)
        .where(G.lecture_id == lecture_id, G.user_id.in_(list(user_ids)))).all()  # one fetch, not 2,000
    out: dict[int, dict[int, AssignmentGradeView]] = {}
    for uid, aid, earned, possible, first_attempted, override_id in rows:
        attempted = bool(first_attempted) or override_id is not None
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
    """One page of the gradebook: `results`, `next`/`previous` cursors (None at the ends), and counts.

    The counts are taken with the first page and carried in the cursors it hands out, so paging on costs
    no count (the slowest query of a filtered page); a page reached by a cursor shows the counts as they
    were when the paging started."""
    direction, boundary, carried = decode_page_cursor(cursor) if cursor else ("after", None, None)
    infos = infos_of(counted_assignments(session, lecture.id))
    grader = grader_for(lecture, infos)
    if carried is None:
        counts = _counts(session, lecture.id, filters)
    else:  # a later page: the counts of the first page, carried in the cursor, not counted again
        total, filtered, members, ungraded = carried
        counts = GradebookCounts(total, filtered, members, _single_grade(session, filters), bool(ungraded))
    carry = (counts.total, counts.filtered, counts.members, int(counts.ungraded))
    stmt, name = _page_query(session, lecture.id, filters, counts)
    if direction == "after":
        if boundary is not None:
            stmt = stmt.where(name > boundary)
        rows = session.execute(stmt.order_by(name).limit(page_size + 1)).all()
        more = len(rows) > page_size
        rows = rows[:page_size]
        has_next, has_previous = more, boundary is not None
    else:
        rows = session.execute(stmt.where(name < boundary).order_by(name.desc())
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
        "next": encode_cursor("after", rows[-1][1], carry) if rows and has_next else None,
        "previous": encode_cursor("before", rows[0][1], carry) if rows and has_previous else None,
        "results": [learner_entry(uid, name, grades.get(uid), views.get(uid, {}), infos, labels, template)
                    for uid, name in rows],
        "total_users_count": counts.total,
        "filtered_users_count": counts.filtered,
    }


def gradebook_learner(session: Session, lecture: Lecture, user_id: int, username: str) -> dict[str, Any]:
    infos = infos_of(counted_assignments(session, lecture.id))
    grader = grader_for(lecture, infos)
    grade = fresh_lecture_grades(session, lecture.id, grader, [user_id]).get(user_id)
    views = assignment_grade_views(session, lecture.id, [user_id]).get(user_id, {})
    return learner_entry(user_id, username, grade, views, infos, assignment_labels(grader, infos))


__all__ = ["GradebookFilters", "assignment_grade_views", "gradebook_counts", "assignment_labels", "decode_cursor", "encode_cursor",
           "fresh_lecture_grades", "gradebook_learner", "gradebook_page", "grading_info", "learner_entry"]

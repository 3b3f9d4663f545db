"""The gradebook's filtered learners as SQL: the counts, the page of learners, and the plan of that page.

The counts are exact. Over a large lecture they must not join every membership with the grades, nor count
every member: on PostgreSQL the members per role, and the grade rows of included members, are tallied
(migration 0007, `grades.tallies`), and the grade rows carry the learner's role (`member_role`, migration
0005) and the override-aware assignment percent (`effective_percent`), so a single grade filter is counted
from one index range: the graded members in the range (or the tallied graded ones minus those below and
above it, whichever walk is shorter), plus, when the range holds 0 (members without a grade row count as
0), the tallied members without a grade row. SQLite, and filters combined with each other, count joins.

The page walks the members in name order and stops after a page, checking each against the filters. A
single grade filter (PostgreSQL) has two more plans (`PagePlan`, chosen by `_choose`): the same walk
against a hash of the passing ids when a few percent pass, or, when fewer than 1 in DRIVE_FROM_GRADES
pass, starting from the filter's index range (`page_query`). A first page is planned without its counts
(`plan_ahead`), so they can be taken alongside it on a connection of their own.

Names (migration 0006): on PostgreSQL the memberships carry the username and its lower() (kept by
triggers), so neither the page nor a username count joins the users: the page walks the index
(lecture_id, username) and stops after a page; a 1–2 character `username_contains` is counted in one scan
of the lecture's members, 3+ characters from a trigram index on `username_lower` when pg_trgm is
installed. SQLite joins the users.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, text, true, union_all
from sqlalchemy.orm import Session, aliased

from grader_service.grades.dialect import is_postgres
from grader_service.grades.tallies import tallies
from grader_service.orm.grades import TALLY_LECTURE_GRADES, TALLY_MEMBERS, AssignmentGrade, LectureGrade
from grader_service.orm.models import LectureMember, Role, User


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


def _included_roles(filters: GradebookFilters) -> list[Role]:
    return [r for r in Role if r not in filters.excluded_roles]


def _course_filtered(filters: GradebookFilters) -> bool:
    return filters.course_grade_min is not None or filters.course_grade_max is not None


def _assignment_filtered(filters: GradebookFilters) -> bool:
    return filters.assignment_id is not None and (
        filters.assignment_grade_min is not None or filters.assignment_grade_max is not None
    )


def _course_bounds(filters: GradebookFilters) -> tuple[float | None, float | None]:
    """The course bounds as stored fractions: percent_grade ≥ 40/100 holds exactly for a stored 0.40, where
    percent_grade × 100 ≥ 40 may not (0.29 × 100 = 28.999…)."""
    low, high = filters.course_grade_min, filters.course_grade_max
    return (None if low is None else low / 100, None if high is None else high / 100)


def _assignment_bounds(filters: GradebookFilters) -> tuple[float | None, float | None]:
    return filters.assignment_grade_min, filters.assignment_grade_max


def _in_range(column: Any, low: float | None, high: float | None) -> ColumnElement[bool]:
    return and_(
        *([column >= low] if low is not None else []), *([column <= high] if high is not None else [])
    )


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


def _filtered(
    session: Session, lecture_id: int, filters: GradebookFilters, *columns: Any, with_names: bool = True
) -> Select[Any]:
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
        on = (
            (g.lecture_id == lecture_id)
            & (g.user_id == LectureMember.user_id)
            & (g.assignment_id == filters.assignment_id)
        )
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
    return GradeIndex(
        t, t.effective_percent, t.assignment_id == filters.assignment_id, *_assignment_bounds(filters)
    )


class GradebookCounts(NamedTuple):
    total: int
    filtered: int
    #: included members in all (all roles but the excluded ones)
    members: int
    #: PostgreSQL, one grade filter: whether the page may be driven from the grade index (see `page_query`)
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
        return (
            select(func.count().label("n"), func.count().filter(match).label("matching"))
            .where(M.lecture_id == lecture_id, *where)
            .subquery()
        )

    everyone = counts()
    excluded = sorted(filters.excluded_roles, key=lambda r: r.value)
    if excluded:
        staff = counts(M.role.in_(excluded))
        stmt = select(everyone.c.n, everyone.c.matching, staff.c.n, staff.c.matching).select_from(
            everyone.join(staff, true())
        )
    else:
        stmt = select(everyone.c.n, everyone.c.matching, literal(0), literal(0))
    total, matching, excluded_n, excluded_matching = session.execute(stmt).one()
    return GradebookCounts(total, matching - excluded_matching, total - excluded_n)


def single_grade(session: Session, filters: GradebookFilters) -> bool:
    """PostgreSQL, one grade filter and nothing else: counted (and maybe paged) from the grade index."""
    kinds = [bool(filters.username_contains), _course_filtered(filters), _assignment_filtered(filters)]
    return sum(kinds) == 1 and not kinds[0] and is_postgres(session)


def _counts(session: Session, lecture_id: int, filters: GradebookFilters) -> GradebookCounts:
    return (_tallied_counts if is_postgres(session) else _joined_counts)(session, lecture_id, filters)


def _tallied_counts(session: Session, lecture_id: int, filters: GradebookFilters) -> GradebookCounts:
    """PostgreSQL: the members per role from the tallies; a single grade filter counts the rows of its
    index range, and, when the range holds 0, adds the included members without a grade row (the members
    minus the grade rows of included members, both tallied); other filters count their join."""
    included = _included_roles(filters)
    kinds = [bool(filters.username_contains), _course_filtered(filters), _assignment_filtered(filters)]
    if kinds == [True, False, False] and included and len(filters.username_contains or "") < TRIGRAM_LENGTH:
        return _short_name_counts(session, lecture_id, filters)
    one_grade = single_grade(session, filters) and bool(included)
    scope = None
    if one_grade:
        scope = TALLY_LECTURE_GRADES if _course_filtered(filters) else filters.assignment_id
    tallied = tallies(session, lecture_id, [TALLY_MEMBERS] if scope is None else [TALLY_MEMBERS, scope])
    roles = [r.value for r in included]
    total = sum(tallied[TALLY_MEMBERS].values())
    members = sum(tallied[TALLY_MEMBERS].get(role, 0) for role in roles)
    if not included:
        return GradebookCounts(total, 0, 0)
    if not any(kinds):
        return GradebookCounts(total, members, members)
    if scope is None:
        joined = _filtered(session, lecture_id, filters, func.count(), with_names=False)
        inside = session.execute(joined).scalar_one()
        return GradebookCounts(total, inside, members)
    grade = _grade_index(lecture_id, filters)
    graded = sum(tallied[scope].get(role, 0) for role in roles)
    inside = _rows_in_range(session, grade, roles, graded)
    if not _holds_zero(grade.low, grade.high):
        return GradebookCounts(total, inside, members, True)
    ungraded = members - graded
    return GradebookCounts(total, ungraded + inside, members, True, ungraded > 0)


#: below this many grade rows a range is counted as it is, without asking the planner which side is smaller
COUNT_AS_IS = 10_000


def _rows_in_range(session: Session, grade: GradeIndex, roles: list[str], graded: int) -> int:
    """The grade rows of included members in the filter's range, exactly: counted in the range, or, when the
    planner expects most of the `graded` rows there, as `graded` minus the rows outside it, the shorter walk
    of the index (course 40–60 holds 77,000 of 100,000: ~7 ms against ~2 ms). The planner's estimate
    (EXPLAIN, ~0.3 ms) only picks the side; both give the same number."""
    of_included = (grade.wanted, grade.table.member_role.in_(roles))
    in_range = (
        select(literal(1))
        .select_from(grade.table)
        .where(*of_included, _in_range(grade.value, grade.low, grade.high))
    )
    if graded > COUNT_AS_IS and 2 * _estimated_rows(session, in_range) > graded:
        # below and above as two index ranges (one OR of both is planned as a scan of every row)
        sides = [grade.value < grade.low] if grade.low is not None else []
        sides += [grade.value > grade.high] if grade.high is not None else []
        counts = [
            select(func.count()).select_from(grade.table).where(*of_included, side).scalar_subquery()
            for side in sides
        ]
        return graded - (sum(session.execute(select(*counts)).one()) if counts else 0)
    return session.execute(select(func.count()).select_from(in_range.subquery())).scalar_one()


def _estimated_rows(session: Session, query: Select[Any]) -> float:
    """PostgreSQL's estimate of the rows `query` returns (its values are numbers and role names: inlined)."""
    sql = str(query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    plan = session.execute(text("EXPLAIN (FORMAT JSON) " + sql)).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


def _joined_counts(session: Session, lecture_id: int, filters: GradebookFilters) -> GradebookCounts:
    """SQLite: the members and the filtered learners counted with joins, in one query."""
    M = LectureMember
    included = _included_roles(filters)
    total_q = select(func.count()).select_from(M).where(M.lecture_id == lecture_id).scalar_subquery()
    excluded = sorted(filters.excluded_roles, key=lambda r: r.value)
    excluded_q: Any = (
        select(func.count())
        .select_from(M)
        .where(M.lecture_id == lecture_id, M.role.in_(excluded))
        .scalar_subquery()
        if excluded
        else literal(0)
    )
    filtered = bool(filters.username_contains) or _course_filtered(filters) or _assignment_filtered(filters)
    inside_q: Any = literal(0)
    if included and filtered:
        inside_q = _filtered(session, lecture_id, filters, func.count(), with_names=False).scalar_subquery()
    total, excluded_n, inside = session.execute(select(total_q, excluded_q, inside_q)).one()
    members = total - excluded_n
    if not included:
        return GradebookCounts(total, 0, 0)
    return GradebookCounts(total, inside if filtered else members, members)


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


#: drive the page from the grade index when fewer than 1 in this many included members pass the filter.
#: Measured at 100,000 members (no parallel workers): a walk in name order costs ~1.6 µs per member it
#: visits (members/filtered per learner shown), the grade index ~5 µs per row in the range; they meet near
#: 1,800 passing, 1 in 56. (3,057 passing: walk 5.3 ms, from the index 14–21 ms.)
DRIVE_FROM_GRADES = 50
#: the hashed walk (see `page_query`) when passing² < HASHED_WALK × members × page size: it hashes every
#: passing row once (~0.25 µs each, index-only) and checks each member it visits in the hash (~0.3 µs)
#: instead of probing the grade index (~1.7 µs). (3,057 of 100,000 passing: 2.6 ms against 8.5 ms.)
HASHED_WALK = 7


class PagePlan(NamedTuple):
    """How `page_query` finds the page's learners: `walk` the members in name order checking each against
    the filters, the same walk checking them against a hash of the passing ids (`hashed`), or start from the
    grade index range of the single grade filter (`driven`)."""

    mode: str = "walk"
    #: driven: the included members without a grade row pass too (they show 0, and the range holds 0)
    ungraded: bool = False


def serial_plans(session: Session) -> None:
    """No parallel workers for the rest of this transaction (PostgreSQL): starting them took 10–15 ms here,
    three times what the gradebook's page walk costs alone (3,057 of 100,000 passing: 20.5 against 5.3 ms)."""
    if is_postgres(session):
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def _hashed_limit(members: int, page_size: int) -> int:
    """The most passing learners a hashed walk is chosen for."""
    return math.isqrt(HASHED_WALK * members * page_size)


def _choose(members: int, passing: int, ungraded: bool, page_size: int) -> PagePlan:
    """A single grade filter's plan: `passing` learners (with the members without a grade row, if they
    pass: `ungraded`) of `members`."""
    if passing * DRIVE_FROM_GRADES < members:
        return PagePlan("driven", ungraded)
    if not ungraded and passing <= _hashed_limit(members, page_size):
        return PagePlan("hashed")
    return PagePlan()


def plan_of(counts: GradebookCounts, page_size: int) -> PagePlan:
    """The page's plan from its counts (carried in a cursor)."""
    if not counts.driven:
        return PagePlan()
    return _choose(counts.members, counts.filtered, counts.ungraded, page_size)


def plan_ahead(session: Session, lecture_id: int, filters: GradebookFilters, page_size: int) -> PagePlan:
    """The first page's plan without its counts, so they can be taken alongside the page (`run_aside`).

    Only a single grade filter (PostgreSQL) is planned from numbers. The members, and the grade rows of
    included members, are tallied (so, when the range holds 0, how many members have no grade row); the
    passing rows are counted from the filter's index range, stopping where no plan depends on more (the
    hashed walk's limit: ≤ 8,400 index entries at 100,000 members and pages of 100, ~1 ms).
    """
    if not single_grade(session, filters):
        return PagePlan()
    roles = [r.value for r in _included_roles(filters)]
    grade = _grade_index(lecture_id, filters)
    holds_zero = _holds_zero(grade.low, grade.high)
    scope = TALLY_LECTURE_GRADES if _course_filtered(filters) else filters.assignment_id
    assert scope is not None  # a single grade filter names its assignment
    tallied = tallies(session, lecture_id, [TALLY_MEMBERS, scope] if holds_zero else [TALLY_MEMBERS])
    members = sum(tallied[TALLY_MEMBERS].get(role, 0) for role in roles)
    ungraded = members - sum(tallied[scope].get(role, 0) for role in roles) if holds_zero else 0
    in_range = _in_range(grade.value, grade.low, grade.high)
    passing = (
        select(literal(1))
        .select_from(grade.table)
        .where(grade.wanted, grade.table.member_role.in_(roles), in_range)
        .limit(_hashed_limit(members, page_size) + 1)
        .subquery()
    )
    inside = session.execute(select(func.count()).select_from(passing)).scalar_one()
    return _choose(members, inside + ungraded, ungraded > 0, page_size)


def counted(session: Session, lecture_id: int, filters: GradebookFilters) -> GradebookCounts:
    """`_counts` in a transaction of its own (`run_aside`)."""
    serial_plans(session)
    return _counts(session, lecture_id, filters)


def page_query(
    session: Session, lecture_id: int, filters: GradebookFilters, plan: PagePlan
) -> tuple[Select[*tuple[Any, ...]], Any]:
    """The filtered learners as (id, name), to be ordered by name and cut at the page; and the name column.

    In general (`walk`): the members in name order, each checked against the filters (the join of
    `_filtered`); that stops after a page when many learners pass, but walks far when few do (a grade filter
    that 213 of 100,000 pass took 250 ms). A single grade filter on PostgreSQL has two more plans (see
    `_choose`):
    - `hashed`: the same walk, each member looked up in a hash of the passing ids, which PostgreSQL builds
      once from the filter's index range (a hashed SubPlan). `(user_id IN (...)) IS TRUE` keeps it one: a
      bare IN becomes a semi-join, which PostgreSQL plans as a sort of every passing member.
    - `driven`: start from the grade index range: the included members' grade rows in the range, plus, when
      the range holds 0 and some included member has no grade row (`plan.ungraded`), those members (an
      anti-join over the members); the ids are materialised, then joined with the users and sorted by name.
    """
    if plan.mode == "walk":
        name = _name_column(session)
        return _filtered(session, lecture_id, filters, LectureMember.user_id, name), name
    included = [r.value for r in _included_roles(filters)]
    grade = _grade_index(lecture_id, filters)
    passing: Any = select(grade.table.user_id.label("user_id")).where(
        grade.wanted, grade.table.member_role.in_(included), _in_range(grade.value, grade.low, grade.high)
    )
    M = LectureMember
    if plan.mode == "hashed":
        return select(M.user_id, M.username).where(
            M.lecture_id == lecture_id, M.role.in_(included), M.user_id.in_(passing).is_(True)
        ), M.username
    if plan.ungraded:
        row = _grade_index(lecture_id, filters, aliased(grade.table))
        ungraded = select(M.user_id).where(
            M.lecture_id == lecture_id,
            M.role.in_(included),
            ~select(row.table.id)
            .where(row.wanted, row.table.lecture_id == lecture_id, row.table.user_id == M.user_id)
            .exists(),
        )
        passing = union_all(passing, ungraded)
    found = passing.cte("gradebook_ids").prefix_with("MATERIALIZED")
    return select(User.id, User.name).join(found, found.c.user_id == User.id), User.name


__all__ = [
    "DRIVE_FROM_GRADES",
    "HASHED_WALK",
    "GradebookCounts",
    "GradebookFilters",
    "PagePlan",
    "counted",
    "gradebook_counts",
    "page_query",
    "plan_ahead",
    "plan_of",
    "serial_plans",
    "single_grade",
]

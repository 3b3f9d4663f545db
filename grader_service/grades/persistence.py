"""Persistent grades: assignment grades from submissions (set-based SQL), lecture grades, learner locks.

Every function takes a session and works in the caller's transaction. Writers of a learner's grades
first lock the learner (`lock_learners`, `lock_learner_chunk`), so a stream update, a bulk override, a
stale read and the batch never overwrite each other's newer result with an older one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    String,
    any_,
    bindparam,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from grader_service.grades.dialect import id_in, is_postgres, upsert_insert
from grader_service.grades.setwise import AssignmentInfo, LectureGrader, effective_policy
from grader_service.grades.snapshots import Snapshot, ensure_snapshots
from grader_service.orm.base import UtcDateTime, utcnow
from grader_service.orm.grades import AssignmentGrade, AssignmentGradeOverride, LectureGrade
from grader_service.orm.models import Assignment, AssignmentStatus, Lecture, LectureMember, Submission


class StoredLectureGrade(NamedTuple):
    percent: float
    letter: str
    passed: bool
    passed_timestamp: datetime | None
    policy_hash: str


# -- which assignments count --
def counted_assignments(session: Session, lecture_id: int) -> list[Assignment]:
    """Released and closed assignments of the lecture in gradebook order (unreleased ones never count)."""
    return list(
        session.scalars(
            select(Assignment)
            .where(
                Assignment.lecture_id == lecture_id,
                Assignment.deleted_at.is_(None),
                Assignment.status != AssignmentStatus.created,
            )
            .order_by(Assignment.position, Assignment.id)
        )
    )


def counted_infos(session: Session, lecture_id: int) -> list[AssignmentInfo]:
    """`infos_of(counted_assignments(...))` without loading the assignments (their notebook gradebooks)."""
    A = Assignment
    rows = session.execute(
        select(A.id, A.name, A.assignment_type, A.points, A.position, A.grading_basis)
        .where(A.lecture_id == lecture_id, A.deleted_at.is_(None), A.status != AssignmentStatus.created)
        .order_by(A.position, A.id)
    )
    return [
        AssignmentInfo(aid, name, kind, float(points), position, getattr(basis, "value", basis))
        for aid, name, kind, points, position, basis in rows
    ]


def infos_of(assignments: Sequence[Assignment]) -> list[AssignmentInfo]:
    return [
        AssignmentInfo(
            a.id,
            a.name,
            a.assignment_type,
            float(a.points),
            a.position,
            getattr(a.grading_basis, "value", a.grading_basis),
        )
        for a in assignments
    ]


def grader_for(lecture: Lecture, assignments: Sequence[AssignmentInfo]) -> LectureGrader:
    return LectureGrader(effective_policy(lecture.grading_policy), assignments)


# -- locks --
def lock_learners(session: Session, lecture_id: int, user_ids: Sequence[int]) -> list[int]:
    """Lock these learners' membership rows (in id order, so lockers never deadlock); returns the members.

    PostgreSQL takes row locks. SQLite has one writer at a time: a no-op write takes the database's write
    lock before anything is read, so what is read next is the newest committed data and stays so.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return []
    where = (LectureMember.lecture_id == lecture_id, LectureMember.user_id.in_(ids))
    if is_postgres(session):
        return list(
            session.scalars(
                select(LectureMember.user_id).where(*where).order_by(LectureMember.user_id).with_for_update()
            )
        )
    session.execute(
        update(LectureMember)
        .where(*where)
        .values(role=LectureMember.role)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(select(LectureMember.user_id).where(*where).order_by(LectureMember.user_id)))


def lock_learner_chunk(session: Session, lecture_id: int, after_user_id: int, size: int) -> list[int]:
    """Lock the next `size` members of the lecture after `after_user_id` (keyset order); their ids."""
    stmt = (
        select(LectureMember.user_id)
        .where(LectureMember.lecture_id == lecture_id, LectureMember.user_id > after_user_id)
        .order_by(LectureMember.user_id)
        .limit(size)
    )
    if is_postgres(session):
        return list(session.scalars(stmt.with_for_update()))
    ids = list(session.scalars(stmt))
    if ids:
        session.execute(
            update(LectureMember)
            .where(LectureMember.lecture_id == lecture_id, LectureMember.user_id.between(ids[0], ids[-1]))
            .values(role=LectureMember.role)
            .execution_options(synchronize_session=False)
        )
    return ids


def _user_filter(session: Session, column: Any, user_ids: Sequence[int], contiguous: bool = False) -> Any:
    """`user_ids` as a condition; a keyset chunk of members (`contiguous`) selects its id range instead,
    which is cheaper than a long IN list (rows of other users in the range belong to other lectures)."""
    if contiguous and len(user_ids) > 1:
        return column.between(min(user_ids), max(user_ids))
    return id_in(session, column, user_ids)


# -- the override-aware percent stored on each grade (assignment_grades.effective_percent) --
def percent_of(earned: Any, possible: Any) -> ColumnElement[float]:
    """earned * 100 / possible in SQL, 0 when possible is 0 (the float operations of `percent_value`).
    Typed Float throughout, so SQLAlchemy does not cast the divisor to NUMERIC (which would round it)."""
    scaled = type_coerce(earned, Float) * literal(100.0, Float)
    return func.coalesce(
        scaled / func.nullif(type_coerce(possible, Float), literal(0.0, Float), type_=Float),
        literal(0.0, Float),
        type_=Float,
    )


def percent_value(earned: float, possible: float) -> float:
    """`percent_of` in Python, bit for bit (IEEE doubles on both sides)."""
    return earned * 100 / possible if possible != 0 else 0.0


def effective_percent_of(grade: Any, earned: Any, possible: Any) -> ColumnElement[float]:
    """The effective percent of the grade row `grade` (a table or alias) once its graded scores are
    `earned`/`possible`: the override's fields, where set, replace them. For UPDATE ... SET."""
    Ov = AssignmentGradeOverride
    overridden = (
        select(
            percent_of(
                func.coalesce(Ov.earned_graded_override, earned),
                func.coalesce(Ov.possible_graded_override, possible),
            )
        )
        .where(Ov.grade_id == grade.id)
        .correlate_except(Ov)
        .scalar_subquery()
    )
    return func.coalesce(overridden, percent_of(earned, possible))


def _upserted_effective_percent(possible: str) -> ColumnElement[float]:
    """`effective_percent_of` for ON CONFLICT DO UPDATE SET, in SQL text: SQLAlchemy cannot correlate a
    subquery with the target row there. The same expression on PostgreSQL and SQLite."""
    return literal_column(
        "COALESCE((SELECT COALESCE(COALESCE(o.earned_graded_override, excluded.earned_graded) * 100.0"
        f" / NULLIF(COALESCE(o.possible_graded_override, {possible}), 0.0), 0.0)"
        " FROM assignment_grade_overrides o WHERE o.grade_id = assignment_grades.id),"
        f" COALESCE(excluded.earned_graded * 100.0 / NULLIF({possible}, 0.0), 0.0))",
        Float,
    )


@lru_cache(maxsize=256)
def _upsert_statement(
    postgres: bool, ids: tuple[int, ...], best: tuple[int, ...], users: str, regrade: bool
) -> Any:
    """The statement of `upsert_assignment_grades` for a lecture's counted assignments (`ids`, `best`: those
    graded by their best submission), built once and run with bound values: building and compiling it took
    ~5 ms of a one-learner recompute's 15. Parameters: lecture_id, now; the learners (`users`): user_ids
    ("list"), first_user/last_user ("range") or none ("all"); each assignment's snapshot: snap_ids,
    snap_points, snap_keys (PostgreSQL) or points_<i>, key_<i> (SQLite, i = position in `ids`)."""
    S = Submission
    in_ids = (
        S.assignment_id == any_(literal(list(ids), postgresql.ARRAY(Integer)))
        if postgres
        else S.assignment_id.in_(ids)
    )
    in_best = (
        S.assignment_id == any_(literal(list(best), postgresql.ARRAY(Integer)))
        if postgres
        else S.assignment_id.in_(best)
    )
    order = (
        case((S.final_score.is_(None), 1), else_=0),
        case((in_best, S.final_score), else_=literal(0.0)).desc(),
        S.submitted_at.desc(),
        S.id.desc(),
    )
    inner = select(
        S.id,
        S.user_id,
        S.assignment_id,
        S.final_score,
        func.min(S.submitted_at).over(partition_by=(S.user_id, S.assignment_id)).label("first_at"),
        func.row_number().over(partition_by=(S.user_id, S.assignment_id), order_by=order).label("rn"),
    ).where(in_ids)
    if users == "range":
        inner = inner.where(
            S.user_id.between(bindparam("first_user", type_=Integer), bindparam("last_user", type_=Integer))
        )
    elif users == "list":
        inner = inner.where(
            S.user_id == any_(bindparam("user_ids", type_=postgresql.ARRAY(Integer)))
            if postgres
            else S.user_id.in_(bindparam("user_ids", expanding=True))
        )
    sub: Any = inner.subquery()
    source: Any = sub
    if postgres:
        # each assignment's snapshot as three arrays, unnested and joined: the statement's text stays the
        # same for any snapshots (2 kB, which psycopg caches and prepares; with a CASE of literals per
        # assignment it was 7.5 kB and parsed anew every time)
        snap = (
            func.unnest(
                bindparam("snap_ids", type_=postgresql.ARRAY(Integer)),
                bindparam("snap_points", type_=postgresql.ARRAY(Float)),
                bindparam("snap_keys", type_=postgresql.ARRAY(String)),
            )
            .table_valued(
                column("assignment_id", Integer), column("points", Float), column("key", String), name="snap"
            )
            .render_derived()
        )
        source = sub.join(snap, snap.c.assignment_id == sub.c.assignment_id)
        points: Any = snap.c.points
        key: Any = snap.c.key
    else:
        points = case(
            {aid: bindparam(f"points_{i}", type_=Float) for i, aid in enumerate(ids)},
            value=sub.c.assignment_id,
        )
        key = case(
            {aid: bindparam(f"key_{i}", type_=String) for i, aid in enumerate(ids)}, value=sub.c.assignment_id
        )
    stamp = bindparam("now", type_=UtcDateTime())
    # a new row has no override yet: its effective percent is its own
    chosen = (
        select(
            bindparam("lecture_id", type_=Integer),
            sub.c.user_id,
            sub.c.assignment_id,
            sub.c.final_score,
            points,
            sub.c.final_score,
            points,
            percent_of(sub.c.final_score, points),
            sub.c.first_at,
            sub.c.id,
            key,
            stamp,
            stamp,
        )
        .select_from(source)
        .where(sub.c.rn == 1, sub.c.final_score.is_not(None))
    )
    G = AssignmentGrade
    columns = [
        "lecture_id",
        "user_id",
        "assignment_id",
        "earned_all",
        "possible_all",
        "earned_graded",
        "possible_graded",
        "effective_percent",
        "first_attempted",
        "submission_id",
        "snapshot_key",
        "created",
        "modified",
    ]
    stmt = (postgresql.insert(G) if postgres else sqlite.insert(G)).from_select(columns, chosen)
    new = stmt.excluded
    values: dict[str, Any] = {
        "earned_all": new.earned_all,
        "earned_graded": new.earned_graded,
        "submission_id": new.submission_id,
        "first_attempted": func.coalesce(G.first_attempted, new.first_attempted),
        "modified": new.modified,
        "effective_percent": _upserted_effective_percent(
            "excluded.possible_graded" if regrade else "assignment_grades.possible_graded"
        ),
    }
    changed = [
        G.earned_graded != new.earned_graded,
        G.earned_all != new.earned_all,
        G.submission_id.is_distinct_from(new.submission_id),
        G.first_attempted.is_(None),
    ]
    if regrade:
        values.update(
            possible_all=new.possible_all, possible_graded=new.possible_graded, snapshot_key=new.snapshot_key
        )
        changed.append(G.snapshot_key.is_distinct_from(new.snapshot_key))
    return stmt.on_conflict_do_update(
        index_elements=["lecture_id", "user_id", "assignment_id"], set_=values, where=or_(*changed)
    )


# -- assignment grades from submissions --
def upsert_assignment_grades(
    session: Session,
    lecture_id: int,
    assignments: Sequence[AssignmentInfo],
    snapshots: dict[int, Snapshot],
    user_ids: Sequence[int] | None = None,
    *,
    regrade: bool = False,
    contiguous: bool = False,
    now: datetime | None = None,
) -> None:
    """Write the assignment grades of these learners (all when None) from their counted submissions.

    One INSERT ... SELECT ... ON CONFLICT for every learner and assignment: per (learner, assignment)
    the best or the latest scored submission (the assignment's grading basis), late penalty included
    (final_score). A grade keeps the possible score of the snapshot it was first computed against unless
    `regrade` moves it to the current snapshot; `first_attempted` is set once. `effective_percent` follows
    (with the grade's override, if any, applied).
    """
    if not assignments:
        return
    now = now or utcnow()
    ids = tuple(a.id for a in assignments)
    best = tuple(a.id for a in assignments if a.basis == "best")
    users = "all" if user_ids is None else "range" if contiguous and len(user_ids) > 1 else "list"
    postgres = is_postgres(session)
    params: dict[str, Any] = {"lecture_id": lecture_id, "now": now}
    if users == "range":
        params.update(first_user=min(user_ids or ()), last_user=max(user_ids or ()))
    elif users == "list":
        params["user_ids"] = list(user_ids or ())
    if postgres:
        params.update(
            snap_ids=list(ids),
            snap_points=[snapshots[aid].points for aid in ids],
            snap_keys=[snapshots[aid].key for aid in ids],
        )
    else:
        params.update({f"points_{i}": snapshots[aid].points for i, aid in enumerate(ids)})
        params.update({f"key_{i}": snapshots[aid].key for i, aid in enumerate(ids)})
    session.flush()  # on the connection (an ORM execute with parameters would be a bulk insert): flush first
    session.connection().execute(_upsert_statement(postgres, ids, best, users, regrade), params)
    if regrade:
        # Grades without a counted submission (created by an override) move to the current snapshot too.
        G = AssignmentGrade
        for aid in ids:
            session.execute(
                update(G)
                .where(
                    G.lecture_id == lecture_id,
                    G.assignment_id == aid,
                    G.submission_id.is_(None),
                    G.snapshot_key.is_distinct_from(snapshots[aid].key),
                    *(
                        [_user_filter(session, G.user_id, user_ids, contiguous)]
                        if user_ids is not None
                        else []
                    ),
                )
                .values(
                    possible_all=snapshots[aid].points,
                    possible_graded=snapshots[aid].points,
                    snapshot_key=snapshots[aid].key,
                    modified=now,
                    effective_percent=effective_percent_of(
                        G, G.earned_graded, literal(snapshots[aid].points)
                    ),
                )
                .execution_options(synchronize_session=False)
            )


# -- effective (override-aware) assignment grades --
def effective_grades(
    session: Session, lecture_id: int, user_ids: Sequence[int], contiguous: bool = False
) -> dict[int, dict[int, tuple[float, float]]]:
    """user id → assignment id → (earned_graded, possible_graded) with overrides applied field by field."""
    G, Ov = AssignmentGrade, AssignmentGradeOverride
    rows = session.execute(
        select(
            G.user_id,
            G.assignment_id,
            func.coalesce(Ov.earned_graded_override, G.earned_graded),
            func.coalesce(Ov.possible_graded_override, G.possible_graded),
        )
        .outerjoin(Ov, Ov.grade_id == G.id)
        .where(G.lecture_id == lecture_id, _user_filter(session, G.user_id, user_ids, contiguous))
    )
    wanted = set(user_ids)
    out: dict[int, dict[int, tuple[float, float]]] = {}
    for uid, aid, earned, possible in rows:
        if uid in wanted:
            out.setdefault(uid, {})[aid] = (earned, possible)
    return out


# -- lecture grades --
def stored_lecture_grades(
    session: Session, lecture_id: int, user_ids: Sequence[int], contiguous: bool = False
) -> dict[int, tuple[Any, ...]]:
    L = LectureGrade
    rows = session.execute(
        select(L.user_id, L.percent_grade, L.letter_grade, L.passed_timestamp, L.grading_policy_hash).where(
            L.lecture_id == lecture_id, _user_filter(session, L.user_id, user_ids, contiguous)
        )
    )
    wanted = set(user_ids)
    return {r[0]: tuple(r[1:]) for r in rows if r[0] in wanted}


def grade_learners(
    session: Session,
    lecture_id: int,
    grader: LectureGrader,
    user_ids: Sequence[int],
    *,
    contiguous: bool = False,
    now: datetime | None = None,
) -> dict[int, StoredLectureGrade]:
    """Recompute and store the lecture grades of these (locked) learners in a constant number of queries.

    Rows whose result did not change are not written; `passed_timestamp` is set the first time a
    learner passes and kept when they later drop below passing.
    """
    now = now or utcnow()
    if not user_ids:
        return {}
    grades = effective_grades(session, lecture_id, user_ids, contiguous)
    stored = stored_lecture_grades(session, lecture_id, user_ids, contiguous)
    writes: list[dict[str, Any]] = []
    out: dict[int, StoredLectureGrade] = {}
    empty: dict[int, tuple[float, float]] = {}
    for uid in user_ids:
        result = grader.grade(grades.get(uid, empty))
        percent = float(result.percent)
        old = stored.get(uid)
        passed_at = old[2] if old is not None and old[2] is not None else (now if result.passed else None)
        out[uid] = StoredLectureGrade(percent, result.letter, result.passed, passed_at, grader.hash)
        if old is None or (old[0], old[1], old[2], old[3]) != (
            percent,
            result.letter,
            passed_at,
            grader.hash,
        ):
            writes.append(
                {
                    "lecture_id": lecture_id,
                    "user_id": uid,
                    "percent_grade": percent,
                    "letter_grade": result.letter,
                    "passed_timestamp": passed_at,
                    "grading_policy_hash": grader.hash,
                    "created": now,
                    "modified": now,
                }
            )
    if writes and is_postgres(session):
        session.flush()
        session.connection().execute(
            _LECTURE_GRADES_UPSERT,
            {
                "lecture_id": lecture_id,
                "hash": grader.hash,
                "now": now,
                "user_ids": [w["user_id"] for w in writes],
                "percents": [w["percent_grade"] for w in writes],
                "letters": [w["letter_grade"] for w in writes],
                "passed": [w["passed_timestamp"] for w in writes],
            },
        )
    elif writes:
        stmt = upsert_insert(session, LectureGrade)
        new = stmt.excluded
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["lecture_id", "user_id"],
                set_={
                    "percent_grade": new.percent_grade,
                    "letter_grade": new.letter_grade,
                    "passed_timestamp": func.coalesce(LectureGrade.passed_timestamp, new.passed_timestamp),
                    "grading_policy_hash": new.grading_policy_hash,
                    "modified": new.modified,
                },
            ),
            writes,
        )
    return out


#: grade_learners' write on PostgreSQL: one statement for all the changed lecture grades, as arrays. The
#: ORM's executemany sent one INSERT per row (in batches of whatever keys the rows shared), each firing the
#: tally triggers' statement trigger once: a 100,000-learner policy change spent ~6 s of 41 on that.
_LECTURE_GRADES_UPSERT = text("""
INSERT INTO lecture_grades (lecture_id, user_id, percent_grade, letter_grade, passed_timestamp,
                            grading_policy_hash, created, modified)
SELECT :lecture_id, w.user_id, w.percent, w.letter, w.passed, :hash, :now, :now
  FROM unnest(CAST(:user_ids AS integer[]), CAST(:percents AS double precision[]), CAST(:letters AS text[]),
              CAST(:passed AS timestamptz[])) AS w(user_id, percent, letter, passed)
ON CONFLICT (lecture_id, user_id) DO UPDATE
   SET percent_grade = excluded.percent_grade, letter_grade = excluded.letter_grade,
       passed_timestamp = COALESCE(lecture_grades.passed_timestamp, excluded.passed_timestamp),
       grading_policy_hash = excluded.grading_policy_hash, modified = excluded.modified
""")


def stale_or_missing(
    stored: dict[int, tuple[Any, ...]], user_ids: Sequence[int], policy_hash: str
) -> list[int]:
    return [uid for uid in user_ids if uid not in stored or stored[uid][3] != policy_hash]


__all__ = [
    "AssignmentInfo",
    "StoredLectureGrade",
    "counted_assignments",
    "counted_infos",
    "effective_grades",
    "effective_percent_of",
    "ensure_snapshots",
    "grade_learners",
    "grader_for",
    "infos_of",
    "lock_learner_chunk",
    "lock_learners",
    "percent_of",
    "percent_value",
    "stale_or_missing",
    "stored_lecture_grades",
    "upsert_assignment_grades",
]

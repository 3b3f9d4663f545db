"""Gradebook use cases: read the gradebook and grades, override in bulk, grading policy and settings, reports.

Access rules live here (who sees which lecture, learner and assignment); the grades package does the
queries and the math.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Forbidden, NotFound
from grader_service.grades.api import (
    OVERRIDE_FIELDS,
    RECOMPUTE_JOB_KIND,
    GradebookFilters,
    PolicyError,
    ReportContext,
    counted_infos,
    create_recompute_job,
    decode_cursor,
    effective_policy,
    encode_cursor,
    ensure_snapshots,
    fresh_lecture_grades,
    get_or_create_grade,
    gradebook_learner,
    gradebook_page,
    grader_for,
    grading_info,
    lock_learners,
    override_history,
    parse_policy,
    policy_hash,
    recompute_learners,
    report_csv_chunk,
    report_csv_header,
    set_override,
)
from grader_service.orm.grades import AssignmentGrade, LectureGrade
from grader_service.orm.models import (
    Assignment,
    FeedbackStatus,
    Job,
    LectureMember,
    Role,
    ScoreVisibility,
    Submission,
    User,
)
from grader_service.schemas.requests import GradebookSettings, GradebookUpdateItem, RegradeRequest
from grader_service.schemas.responses import gradebook as out
from grader_service.services.access import get_assignment, get_lecture
from grader_service.services.dispatch import Task, enqueue

DEFAULT_PAGE_SIZE = 50
MAX_BULK_ITEMS = 1000
GRADEBOOK_QUERY = (
    "username",
    "cursor",
    "page_size",
    "username_contains",
    "assignment",
    "assignment_grade_min",
    "assignment_grade_max",
    "course_grade_min",
    "course_grade_max",
    "excluded_roles",
)
WRITABLE_OFF = "the writable gradebook is disabled for this lecture"


@dataclass(frozen=True)
class GradebookRequest:
    username: str | None
    cursor: str | None
    page_size: int
    filters: GradebookFilters


# -- query parsing --
def _number(args: Mapping[str, str | None], name: str, low: float, high: float, integer: bool = False) -> Any:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise BadRequest(f"{name} must be {kind}, got {raw!r}", field=name) from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be within {low:g}..{high:g}, got {raw}", field=name)
    return value


def parse_gradebook_query(args: Mapping[str, str | None], max_page_size: int) -> GradebookRequest:
    """The gradebook's query parameters, checked; BadRequest naming the parameter otherwise."""
    page_size = _number(args, "page_size", 1, max_page_size, integer=True) or DEFAULT_PAGE_SIZE
    contains = args.get("username_contains") or None
    if contains is not None and len(contains) > 64:
        raise BadRequest("username_contains must be at most 64 characters", field="username_contains")
    assignment = _number(args, "assignment", 1, 10**18, integer=True)
    a_min = _number(args, "assignment_grade_min", 0, 100)
    a_max = _number(args, "assignment_grade_max", 0, 100)
    if (a_min is not None or a_max is not None) and assignment is None:
        raise BadRequest("assignment_grade_min/max need the assignment parameter", field="assignment")
    c_min = _number(args, "course_grade_min", 0, 100)
    c_max = _number(args, "course_grade_max", 0, 100)
    for low, high, name in ((a_min, a_max, "assignment_grade_max"), (c_min, c_max, "course_grade_max")):
        if low is not None and high is not None and high < low:
            raise BadRequest(f"{name} must not be below the minimum", field=name)
    excluded: frozenset[Role] = GradebookFilters().excluded_roles
    raw_roles = args.get("excluded_roles")
    if raw_roles is not None:
        names = [r.strip() for r in raw_roles.split(",") if r.strip()]
        bad = [r for r in names if r not in Role.__members__]
        if bad:
            raise BadRequest(
                f"excluded_roles: unknown role {bad[0]!r} (roles: student, tutor, instructor)",
                field="excluded_roles",
            )
        excluded = frozenset(Role(r) for r in names)
    cursor = args.get("cursor") or None
    if cursor is not None:
        decode_cursor(cursor)
    filters = GradebookFilters(
        username_contains=contains,
        assignment_id=assignment,
        assignment_grade_min=a_min,
        assignment_grade_max=a_max,
        course_grade_min=c_min,
        course_grade_max=c_max,
        excluded_roles=excluded,
    )
    return GradebookRequest(args.get("username") or None, cursor, page_size, filters)


# -- reads --
def _member(session: Session, lecture_id: int, username: str) -> tuple[int, str, Role]:
    row = session.execute(
        select(User.id, User.name, LectureMember.role)
        .join(LectureMember, LectureMember.user_id == User.id)
        .where(LectureMember.lecture_id == lecture_id, User.name == username)
    ).first()
    if row is None:
        raise NotFound(f"user {username!r} is not a member of lecture {lecture_id}")
    return row[0], row[1], row[2]


def read_gradebook(
    session: Session, actor: Actor, lecture_id: int, request: GradebookRequest
) -> out.GradebookEntry | out.GradebookPage:
    lecture = get_lecture(session, actor, lecture_id)
    if request.username is not None:
        user_id, name, _ = _member(session, lecture_id, request.username)
        return gradebook_learner(session, lecture, user_id, name)
    if request.filters.assignment_id is not None:
        found = session.scalar(
            select(Assignment.id).where(
                Assignment.id == request.filters.assignment_id,
                Assignment.lecture_id == lecture_id,
                Assignment.deleted_at.is_(None),
            )
        )
        if found is None:
            raise BadRequest(
                f"assignment {request.filters.assignment_id} is not in this lecture", field="assignment"
            )
    return gradebook_page(session, lecture, request.filters, request.cursor, request.page_size)


def read_grading_info(session: Session, actor: Actor, lecture_id: int) -> out.GradingInfo:
    lecture = get_lecture(session, actor, lecture_id)
    return grading_info(lecture, counted_infos(session, lecture_id))


def _scores_withheld(session: Session, lecture_id: int, user_id: int) -> bool:
    """Whether the learner has a submission whose score they may not see yet: on an assignment with
    `score_visibility = after_feedback`, its feedback not released."""
    hidden = (
        select(Submission.id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(
            Assignment.lecture_id == lecture_id,
            Assignment.score_visibility == ScoreVisibility.after_feedback,
            Submission.user_id == user_id,
            Submission.feedback_status != FeedbackStatus.released,
        )
        .limit(1)
    )
    return session.execute(hidden).first() is not None


def list_lecture_grades(
    session: Session, actor: Actor, lecture_id: int, cursor: str | None, page_size: int
) -> out.LectureGradesPage:
    """Lecture grades. A student gets their own, recomputed when stale (the progress read); staff get the
    students' grades as stored, marked `stale` when computed under another policy (the dashboard read)."""
    lecture = get_lecture(session, actor, lecture_id)
    infos = counted_infos(session, lecture_id)
    grader = grader_for(lecture, infos)
    if not actor.is_staff(lecture_id):
        if _scores_withheld(session, lecture_id, actor.user_id):
            # a score the student may not see yet (score_visibility after_feedback) would show through the
            # lecture grade: withhold the whole grade until that feedback is released
            entry: out.LectureGradeEntry = {
                "user_id": actor.user_id,
                "username": actor.name,
                "percent": None,
                "letter": None,
                "passed": None,
                "passed_timestamp": None,
                "stale": False,
                "scores_visible": False,
            }
            return {"next": None, "results": [entry]}
        grade = fresh_lecture_grades(session, lecture_id, grader, [actor.user_id]).get(actor.user_id)
        entry = {
            "user_id": actor.user_id,
            "username": actor.name,
            "percent": grade.percent if grade else 0.0,
            "letter": grade.letter if grade else "",
            "passed": bool(grade and grade.passed),
            "passed_timestamp": grade.passed_timestamp if grade else None,
            "stale": False,
            "scores_visible": True,
        }
        return {"next": None, "results": [entry]}
    after = None
    if cursor:
        direction, after = decode_cursor(cursor)
        if direction != "after":
            raise BadRequest("cursor is not a cursor of this list", field="cursor")
    L = LectureGrade
    stmt = (
        select(User.id, User.name, L.percent_grade, L.letter_grade, L.passed_timestamp, L.grading_policy_hash)
        .join(LectureMember, LectureMember.user_id == User.id)
        .outerjoin(L, (L.lecture_id == lecture_id) & (L.user_id == User.id))
        .where(LectureMember.lecture_id == lecture_id, LectureMember.role == Role.student)
        .order_by(User.name)
        .limit(page_size + 1)
    )
    if after is not None:
        stmt = stmt.where(User.name > after)
    rows = session.execute(stmt).all()
    results: list[out.LectureGradeEntry] = [
        {
            "user_id": uid,
            "username": name,
            "percent": percent,
            "letter": letter,
            "passed": percent is not None and grader.passed(percent),
            "passed_timestamp": passed_at,
            "stale": percent is None or hash_ != grader.hash,
        }
        for uid, name, percent, letter, passed_at, hash_ in rows[:page_size]
    ]
    more = len(rows) > page_size
    return {"next": encode_cursor("after", rows[page_size - 1][1]) if more else None, "results": results}


def read_override_history(
    session: Session, actor: Actor, lecture_id: int, assignment_id: int, username: str
) -> out.OverrideHistory:
    get_assignment(session, actor, lecture_id, assignment_id)
    user_id, name, _ = _member(session, lecture_id, username)
    grade_id = session.scalar(
        select(AssignmentGrade.id).where(
            AssignmentGrade.lecture_id == lecture_id,
            AssignmentGrade.user_id == user_id,
            AssignmentGrade.assignment_id == assignment_id,
        )
    )
    history = (
        override_history(session, grade_id) if grade_id is not None else {"override": None, "history": []}
    )
    return out.OverrideHistory.model_validate(
        {"user_id": user_id, "username": name, "assignment_id": assignment_id, **history}
    )


# -- bulk update --
def _item_error(index: int, exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
    return f"{field or 'item'}: {message}"


def bulk_update(
    session: Session, actor: Actor, lecture_id: int, items: list[Any]
) -> tuple[int, list[out.BulkUpdateResult]]:
    """Create or change overrides item by item (one bad item never blocks the others), then recompute the
    affected lecture grades. (202, results) when every item succeeded, else (422, results)."""
    lecture = get_lecture(session, actor, lecture_id)
    if not items:
        raise BadRequest("the body is an empty list: send at least one item")
    if len(items) > MAX_BULK_ITEMS:
        raise BadRequest(f"at most {MAX_BULK_ITEMS} items per request, got {len(items)}")
    if not lecture.gradebook_writable:
        raise Forbidden(WRITABLE_OFF)
    assignments = {
        a.id: a
        for a in session.scalars(
            select(Assignment).where(Assignment.lecture_id == lecture_id, Assignment.deleted_at.is_(None))
        )
    }
    members = {
        uid: name
        for uid, name in session.execute(
            select(User.id, User.name)
            .join(LectureMember, LectureMember.user_id == User.id)
            .where(LectureMember.lecture_id == lecture_id)
        )
    }
    by_name = {name: uid for uid, name in members.items()}
    # Lock the named learners first (in id order), as every writer of a learner's grades does: a grade row
    # created here then agrees with the membership (PostgreSQL copies the role onto it), and concurrent
    # bulk updates of the same learners queue instead of deadlocking.
    named = {
        raw.get("user_id") if isinstance(raw.get("user_id"), int) else by_name.get(str(raw.get("username")))
        for raw in items
        if isinstance(raw, dict)
    }
    lock_learners(session, lecture_id, sorted(uid for uid in named if uid in members))
    snapshots = ensure_snapshots(session, assignments.values())
    results: list[dict[str, Any]] = []
    affected: set[int] = set()
    for index, raw in enumerate(items):
        result: dict[str, Any] = {"user_id": None, "assignment_id": None, "success": False, "reason": None}
        results.append(result)
        if isinstance(raw, dict):
            for key in ("user_id", "assignment_id"):
                if isinstance(raw.get(key), int) and not isinstance(raw.get(key), bool):
                    result[key] = raw[key]
        try:
            item = GradebookUpdateItem.model_validate(raw)
        except ValidationError as exc:
            result["reason"] = _item_error(index, exc)
            continue
        if (item.user_id is None) == (item.username is None):
            result["reason"] = "give either user_id or username"
            continue
        user_id = item.user_id if item.user_id is not None else by_name.get(item.username or "")
        if user_id is None or user_id not in members:
            who = item.username if item.username is not None else f"user {item.user_id}"
            result["reason"] = f"{who!s} is not a member of this lecture"
            continue
        result["user_id"] = user_id
        if item.assignment_id not in assignments:
            result["reason"] = f"assignment {item.assignment_id} is not in this lecture"
            continue
        changes = {name: getattr(item.grade, name) for name in item.grade.model_fields_set}
        if not changes:
            result["reason"] = f"grade: give at least one of {', '.join(OVERRIDE_FIELDS)} or a comment"
            continue
        try:
            with session.begin_nested():
                grade = get_or_create_grade(
                    session, lecture_id, user_id, item.assignment_id, snapshots[item.assignment_id]
                )
                set_override(session, grade, changes, actor_id=actor.user_id, system="gradebook")
        except SQLAlchemyError as exc:
            result["reason"] = f"could not store the override: {type(exc).__name__}"
            continue
        result.update(success=True, reason=None)
        affected.add(user_id)
    if affected:
        recompute_learners(session, lecture, sorted(affected))
    status = 422 if any(not r["success"] for r in results) else 202
    return status, [out.BulkUpdateResult(**r) for r in results]


# -- policy, settings, recompute jobs --
def job_view(job: Job) -> out.RecomputeJob:
    return out.RecomputeJob(
        id=job.id,
        kind=job.kind,
        state=job.state,
        lecture_id=job.lecture_id,
        attempts=job.attempts,
        queued_at=job.queued_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
        payload=job.payload,
        result=job.result,
    )


def enqueue_lecture_recompute(
    session: Session,
    lecture_id: int,
    *,
    reason: str,
    assignment_ids: list[int] | None = None,
    regrade: bool = False,
) -> Job:
    """Create a batch recompute job of the lecture and send it after the transaction commits."""
    job = create_recompute_job(
        session, lecture_id, reason=reason, assignment_ids=assignment_ids, regrade=regrade
    )
    enqueue(session, Task.RECOMPUTE_LECTURE, job_id=job.id)
    return job


def _latest_recompute(session: Session, lecture_id: int) -> Job | None:
    return session.scalars(
        select(Job)
        .where(Job.lecture_id == lecture_id, Job.kind == RECOMPUTE_JOB_KIND)
        .order_by(Job.id.desc())
        .limit(1)
    ).first()


def get_policy(session: Session, actor: Actor, lecture_id: int) -> out.Policy:
    lecture = get_lecture(session, actor, lecture_id)
    policy = effective_policy(lecture.grading_policy)
    view = out.Policy(policy=policy, policy_hash=policy_hash(policy), is_default=not lecture.grading_policy)
    if actor.is_staff(lecture_id):
        latest = _latest_recompute(session, lecture_id)
        view.recompute_job = None if latest is None else job_view(latest)
    return view


def put_policy(session: Session, actor: Actor, lecture_id: int, policy: dict[str, Any]) -> out.Policy:
    """Validate and store the policy, then enqueue the recompute of every grade of the lecture."""
    lecture = get_lecture(session, actor, lecture_id)
    try:
        parse_policy(policy)
    except PolicyError as exc:
        raise BadRequest(f"invalid grading policy: {exc}", field=exc.errors[0]["field"]) from None
    lecture.grading_policy = policy
    job = enqueue_lecture_recompute(session, lecture_id, reason="policy")
    return out.Policy(policy=policy, policy_hash=policy_hash(policy), is_default=False, job=job_view(job))


def get_settings(session: Session, actor: Actor, lecture_id: int) -> out.GradebookSettingsView:
    return out.GradebookSettingsView(writable=get_lecture(session, actor, lecture_id).gradebook_writable)


def put_settings(
    session: Session, actor: Actor, lecture_id: int, body: GradebookSettings
) -> out.GradebookSettingsView:
    lecture = get_lecture(session, actor, lecture_id)
    lecture.gradebook_writable = body.writable
    return out.GradebookSettingsView(writable=lecture.gradebook_writable)


def regrade(session: Session, actor: Actor, lecture_id: int, body: RegradeRequest) -> out.RegradeQueued:
    """Explicit regrade: rebuild these assignments' grades from the submissions against their current
    version (snapshot), then every lecture grade; a batch job."""
    get_lecture(session, actor, lecture_id)
    known = set(
        session.scalars(
            select(Assignment.id).where(
                Assignment.lecture_id == lecture_id,
                Assignment.deleted_at.is_(None),
                Assignment.id.in_(body.assignment_ids),
            )
        )
    )
    for index, aid in enumerate(body.assignment_ids):
        if aid not in known:
            raise BadRequest(
                f"assignment_ids[{index}]: assignment {aid} is not in this lecture",
                field=f"assignment_ids[{index}]",
            )
    job = enqueue_lecture_recompute(
        session, lecture_id, reason="regrade", assignment_ids=sorted(known), regrade=True
    )
    return out.RegradeQueued(job=job_view(job))


# -- the CSV report --
def report_context(session: Session, actor: Actor, lecture_id: int) -> ReportContext:
    lecture = get_lecture(session, actor, lecture_id)
    infos = counted_infos(session, lecture_id)
    return ReportContext(lecture_id, tuple(infos), grader_for(lecture, infos))


def report_header(ctx: ReportContext) -> str:
    """The CSV report's header row (assignment names in the report's order)."""
    return report_csv_header(ctx)


def report_chunk(
    session: Session, actor: Actor, ctx: ReportContext, after: str | None
) -> tuple[str, str | None]:
    return report_csv_chunk(session, ctx, after)

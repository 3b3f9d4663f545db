"""Task bodies of the two recompute queues: one learner (stream, `grades`) and a whole lecture (`batch`).

Both are plain functions taking ids, re-fetching everything and idempotent, so a task runner (Celery in
production, InlineDispatcher in tests) can deliver them more than once. `register_tasks` wires them into a
dispatcher under the names services enqueue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from grader_service.grades.persistence import (
    StoredLectureGrade,
    counted_assignments,
    counted_infos,
    ensure_snapshots,
    grade_learners,
    grader_for,
    infos_of,
    lock_learner_chunk,
    lock_learners,
    upsert_assignment_grades,
)
from grader_service.grades.setwise import LectureGrader, effective_policy
from grader_service.orm.base import utcnow
from grader_service.orm.models import Job, JobState, Lecture, LectureMember
from grader_service.task_names import Task

log = logging.getLogger(__name__)

JOB_KIND = "recompute"
#: learners per transaction of the batch (each chunk is locked, computed and committed on its own)
CHUNK_SIZE = 5000
#: a batch over at least this many learners ends with VACUUM (ANALYZE) of the grade tables it rewrote
VACUUM_AFTER = 10_000

SessionSource = Session | Callable[[], Session]


def recompute_learner(target: SessionSource, lecture_id: int, user_id: int) -> StoredLectureGrade | None:
    """Recompute one learner's assignment grades from their submissions and their lecture grade.

    `target` is a session (the caller commits) or a session factory (this commits). The learner is
    locked first, so concurrent recomputes of the same learner run one after the other and the last one
    reads everything the others wrote. None when the lecture or the membership does not exist.
    """
    if isinstance(target, Session):
        return _recompute_learner(target, lecture_id, user_id)
    with target() as session:
        result = _recompute_learner(session, lecture_id, user_id)
        session.commit()
        return result


def _recompute_learner(session: Session, lecture_id: int, user_id: int) -> StoredLectureGrade | None:
    lecture = session.get(Lecture, lecture_id)
    if lecture is None or lecture.deleted_at is not None:
        return None
    if not lock_learners(session, lecture_id, [user_id]):
        return None
    assignments = counted_assignments(session, lecture_id)
    infos = infos_of(assignments)
    upsert_assignment_grades(session, lecture_id, infos, ensure_snapshots(session, assignments), [user_id])
    return grade_learners(session, lecture_id, grader_for(lecture, infos), [user_id])[user_id]


def recompute_learners(
    session: Session, lecture: Lecture, user_ids: list[int]
) -> dict[int, StoredLectureGrade]:
    """Lecture grades only (assignment grades unchanged, e.g. after an override) of several learners."""
    members = lock_learners(session, lecture.id, user_ids)
    infos = counted_infos(session, lecture.id)
    return grade_learners(session, lecture.id, grader_for(lecture, infos), members)


def create_recompute_job(
    session: Session,
    lecture_id: int,
    *,
    reason: str,
    assignment_ids: list[int] | None = None,
    regrade: bool = False,
) -> Job:
    """A queued batch recompute of the lecture. `assignment_ids`: whose assignment grades to rebuild from
    the submissions too (a policy change needs none); `regrade`: move them to the current snapshot."""
    job = Job(
        kind=JOB_KIND,
        state=JobState.queued,
        lecture_id=lecture_id,
        attempts=0,
        payload={"reason": reason, "assignment_ids": sorted(assignment_ids or []), "regrade": regrade},
        result={"progress": {"done": 0, "total": None}},
    )
    session.add(job)
    session.flush()
    return job


def run_lecture_recompute(
    session_factory: Callable[[], Session], job_id: int, chunk_size: int = CHUNK_SIZE
) -> None:
    """Batch recompute (the `batch` queue): every learner of the lecture, chunk by chunk, set-based.

    Each chunk of learners is locked, its assignment grades rebuilt (when the job names assignments) in
    one INSERT ... SELECT, its lecture grades computed and written in one statement, and committed with
    the job's progress, so progress is visible while it runs and a crash loses at most one chunk. A job
    that is already finished is left alone (a duplicate delivery).
    """
    started = time.monotonic()
    with session_factory() as session:
        job = session.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()
        if job is None or job.kind != JOB_KIND or job.state not in (JobState.queued, JobState.running):
            return
        lecture_id = job.lecture_id
        lecture = session.get(Lecture, lecture_id) if lecture_id is not None else None
        alive = lecture is not None and lecture.deleted_at is None
        policy = lecture.grading_policy if lecture is not None else None
        total = (
            session.scalar(
                select(func.count()).select_from(LectureMember).where(LectureMember.lecture_id == lecture_id)
            )
            or 0
        )
        job.state, job.started_at, job.finished_at, job.error = JobState.running, utcnow(), None, None
        job.attempts += 1
        job.result = {"progress": {"done": 0, "total": total}}
        payload = dict(job.payload or {})
        session.commit()
    try:
        if not alive or lecture_id is None:
            raise LookupError(f"lecture {lecture_id} no longer exists")
        done = _run_chunks(session_factory, job_id, lecture_id, policy, payload, total, chunk_size)
    except Exception as exc:
        log.exception("recompute job %s failed", job_id)
        with session_factory() as session:
            failed = session.get(Job, job_id)
            if failed is not None:
                failed.state, failed.finished_at, failed.error = JobState.failed, utcnow(), str(exc)[:2000]
                session.commit()
        return
    if done >= VACUUM_AFTER:
        vacuum_grades(session_factory, assignments=bool(payload.get("assignment_ids")))
    with session_factory() as session:
        finished = session.get(Job, job_id)
        if finished is not None:
            finished.state, finished.finished_at = JobState.succeeded, utcnow()
            finished.result = {
                "progress": {"done": done, "total": total},
                "learners": done,
                "seconds": round(time.monotonic() - started, 3),
            }
            session.commit()


def vacuum_grades(session_factory: Callable[[], Session], *, assignments: bool) -> None:
    """PostgreSQL, after a batch rewrote a large lecture's grades: VACUUM (ANALYZE) the rewritten tables.

    Every rewritten row leaves a dead version and clears its page's all-visible bit, so until autovacuum
    comes round the gradebook's counts (index-only scans of the grade indexes) read the heap again, and
    the planner's statistics lag. Best effort: a failure (say, the role does not own the table) is logged.
    """
    with session_factory() as session:
        bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    tables = ["lecture_grades", *(["assignment_grades"] if assignments else [])]
    try:
        with bind.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
    except SQLAlchemyError as exc:
        log.warning("VACUUM after the batch recompute failed (autovacuum will catch up): %s", exc)


def _run_chunks(
    session_factory: Callable[[], Session],
    job_id: int,
    lecture_id: int,
    policy: dict[str, Any] | None,
    payload: dict[str, Any],
    total: int,
    chunk_size: int,
) -> int:
    with session_factory() as session:
        assignments = counted_assignments(session, lecture_id)
        infos = infos_of(assignments)
        rebuild = set(payload.get("assignment_ids") or [])
        snapshots = ensure_snapshots(session, [a for a in assignments if a.id in rebuild])
        session.commit()
    grader = LectureGrader(effective_policy(policy), infos)
    rebuilt = [a for a in infos if a.id in rebuild]
    regrade = bool(payload.get("regrade"))
    after, done = 0, 0
    while True:
        with session_factory() as session:
            ids = lock_learner_chunk(session, lecture_id, after, chunk_size)
            if not ids:
                break
            if rebuilt:
                upsert_assignment_grades(
                    session, lecture_id, rebuilt, snapshots, ids, regrade=regrade, contiguous=True
                )
            grade_learners(session, lecture_id, grader, ids, contiguous=True)
            done += len(ids)
            after = ids[-1]
            job = session.get(Job, job_id)
            if job is not None:
                job.result = {"progress": {"done": done, "total": max(total, done)}}
            session.commit()
    return done


def register_tasks(dispatcher: Any, session_factory: sessionmaker[Session]) -> None:
    """Register the task bodies on a dispatcher with a `register(name, fn)` method (InlineDispatcher)."""
    dispatcher.register(
        Task.RECOMPUTE_LEARNER,
        lambda lecture_id, user_id: recompute_learner(session_factory, lecture_id, user_id),
    )
    dispatcher.register(Task.RECOMPUTE_LECTURE, lambda job_id: run_lecture_recompute(session_factory, job_id))

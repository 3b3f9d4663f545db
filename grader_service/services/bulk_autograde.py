"""Bulk autograde: one job that re-runs autograde on a selection of an assignment's submissions.

The bulk job fans out one ordinary autograde job per submission (so every worker can take a part, and each
part keeps its own attempts, log and result); each part counts itself into the bulk job's
`result.progress` when it finishes (services/jobs.count_finished_part), and the bulk job succeeds when the
last part has. A second identical request while the first runs is refused with that job (409).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Conflict
from grader_service.orm.base import utcnow
from grader_service.orm.models import AutoStatus, Job, JobState, Submission
from grader_service.schemas.bulk import BulkAutograde, BulkAutogradeJob
from grader_service.services import jobs
from grader_service.services.access import get_assignment
from grader_service.services.grading import ACTIVE, active_job, queue_autograde
from grader_service.services.guards import require
from grader_service.services.settings import Limits

JOB_KIND = "bulk_autograde"


def _selection_key(body: BulkAutograde) -> str | list[int]:
    return body.submissions if isinstance(body.submissions, str) else sorted(set(body.submissions))


def _selected(session: Session, assignment_id: int, key: str | list[int]) -> list[Submission]:
    stmt = select(Submission).where(Submission.assignment_id == assignment_id)
    if key == "failed":
        stmt = stmt.where(Submission.auto_status == AutoStatus.grading_failed)
    elif key == "latest":
        newest = (
            select(
                Submission.id,
                func.row_number()
                .over(
                    partition_by=Submission.user_id,
                    order_by=(Submission.submitted_at.desc(), Submission.id.desc()),
                )
                .label("rank"),
            )
            .where(Submission.assignment_id == assignment_id)
            .subquery()
        )
        stmt = stmt.join(newest, newest.c.id == Submission.id).where(newest.c.rank == 1)
    elif isinstance(key, list):
        stmt = stmt.where(Submission.id.in_(key))
    found = list(session.scalars(stmt.order_by(Submission.id)))
    if isinstance(key, list):
        have = {s.id for s in found}
        for index, sid in enumerate(key):
            if sid not in have:
                raise BadRequest(
                    f"submissions[{index}]: submission {sid} is not a submission of this assignment",
                    field=f"submissions[{index}]",
                )
    return found


def bulk_view(job: Job) -> BulkAutogradeJob:
    """The bulk job as the API shows it, checked against its response model."""
    return jobs.job_view(
        job, with_log=False, model=BulkAutogradeJob, assignment_id=job.assignment_id, result=job.result
    )


def request_bulk_autograde(
    session: Session, actor: Actor, lid: int, aid: int, body: BulkAutograde, limits: Limits
) -> Job:
    assignment = get_assignment(session, actor, lid, aid, for_update=True)  # serialises identical requests
    jobs.serialise_bulk_requests(session, assignment.id)
    require(session, assignment, "grade")
    key = _selection_key(body)
    running = session.scalars(
        select(Job)
        .where(Job.kind == JOB_KIND, Job.assignment_id == assignment.id, Job.state.in_(ACTIVE))
        .order_by(Job.id)
    ).all()
    for other in running:
        if (other.payload or {}).get("selection") == key:
            raise Conflict(
                f"the same bulk autograde is still running (job {other.id}); follow its progress there",
                details={"job": bulk_view(other)},
            )
    submissions = _selected(session, assignment.id, key)
    now = utcnow()
    parent = jobs.create_job(
        session,
        JOB_KIND,
        lecture_id=lid,
        assignment_id=assignment.id,
        payload={"selection": key, "requested_by": actor.name},
    )
    parent.state, parent.started_at, parent.attempts = JobState.running, now, 1
    parts, skipped = [], []
    for sub in submissions:
        if active_job(session, "autograde", submission_id=sub.id):
            skipped.append(sub.id)  # already queued or being graded: that job's result stands
            continue
        parts.append(queue_autograde(session, sub, limits, payload={jobs.PARENT_KEY: parent.id}).id)
    parent.payload = {**parent.payload, "job_ids": parts, "submission_ids": [s.id for s in submissions]}
    parent.result = {
        "progress": {"done": 0, "total": len(parts)},
        "succeeded": 0,
        "failed": 0,
        "cancelled": 0,
        "skipped": skipped,
    }
    if not parts:
        jobs.finish(parent, JobState.succeeded, now=now)
    session.flush()
    return parent

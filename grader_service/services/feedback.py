"""Feedback use cases: generate or release one submission's feedback, bulk jobs, list and read pages."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Conflict, NotFound
from grader_service.git.names import RepoRef
from grader_service.git.store import RepoStore, StoreError, safe_relative_path
from grader_service.orm.grading import SubmissionGrading
from grader_service.orm.models import FeedbackStatus, Job, JobState, Submission
from grader_service.schemas.grading_record import BulkFeedbackRequest
from grader_service.schemas.responses import grading as out
from grader_service.schemas.responses.jobs import Job as JobView
from grader_service.services import jobs
from grader_service.services.access import get_assignment, get_submission
from grader_service.services.dispatch import enqueue
from grader_service.services.feedback_state import feedback_state, queue_feedback
from grader_service.services.guards import require

BULK_KIND = "feedback_bulk"
ACTIVE = (JobState.queued, JobState.running)
MAX_PAGE_PATH = 512


def feedback_branch(submission_id: int) -> str:
    """Generated (unreleased) pages live on this branch of the staff-only `autograde` repo."""
    return f"feedback-{submission_id}"


def request_feedback(
    session: Session, actor: Actor, lid: int, aid: int, sid: int, *, release: bool
) -> JobView:
    submission = get_submission(session, actor, lid, aid, sid)
    require(session, submission.assignment, "feedback")
    if session.get(SubmissionGrading, submission.id) is None:
        raise Conflict("this submission has no grading record yet: feedback follows autograde")
    return jobs.job_view(queue_feedback(session, submission, release=release), with_log=False)


def _page_path(path: str) -> str:
    if len(path) > MAX_PAGE_PATH or not path.endswith(".html"):
        raise NotFound(f"no feedback page {path!r}")
    try:
        safe_relative_path(path)
    except StoreError:
        raise NotFound(f"no feedback page {path!r}") from None
    return path


def listing(
    session: Session, actor: Actor, lid: int, aid: int, sid: int
) -> out.StaffFeedback | out.StudentFeedback:
    """Status and pages: staff see the newest generated pages; a student only released ones."""
    submission = get_submission(session, actor, lid, aid, sid)
    record = session.get(SubmissionGrading, submission.id)
    base = f"/api/lectures/{lid}/assignments/{aid}/submissions/{sid}/feedback/"
    if actor.is_staff(lid):
        pages = list(record.feedback_pages or []) if record and record.feedback_commit else []
        job = jobs.latest_job(session, "feedback", submission_id=submission.id)
        return out.StaffFeedback(
            **feedback_state(submission, record).model_dump(),
            submission_id=submission.id,
            job=None if job is None else jobs.job_view(job, with_log=False),
            pages=[out.FeedbackPage(path=p, url=base + p) for p in pages],
        )
    released = submission.feedback_status == FeedbackStatus.released and bool(
        record and record.feedback_released_commit
    )
    pages = list(record.feedback_pages or []) if released and record else []
    view = out.StudentFeedback(
        submission_id=submission.id,
        status="released" if released else "not_released",
        pages=[out.FeedbackPage(path=p, url=base + p) for p in pages],
    )
    if released and record:
        view.released_at = record.feedback_released_at
    return view


def read_page(
    session: Session, actor: Actor, lid: int, aid: int, sid: int, path: str, store: RepoStore
) -> bytes:
    """One page's HTML. Staff: the newest generated; students: the released one, else 404."""
    submission = get_submission(session, actor, lid, aid, sid)
    path = _page_path(path)
    record = session.get(SubmissionGrading, submission.id)
    code, username = submission.assignment.lecture.code, submission.user.name
    if actor.is_staff(lid):
        if record is None or not record.feedback_commit:
            raise NotFound("no feedback has been generated for this submission")
        ref, commit, where = RepoRef(code, str(aid), "autograde", username), record.feedback_commit, path
    else:
        if (
            submission.feedback_status != FeedbackStatus.released
            or not record
            or not record.feedback_released_commit
        ):
            raise NotFound(f"no feedback page {path!r}")
        ref = RepoRef(code, str(aid), "feedback", username)
        commit, where = record.feedback_released_commit, f"{submission.id}/{path}"
    try:
        return store.read_file(ref, commit, where)
    except StoreError:
        raise NotFound(f"no feedback page {path!r}") from None


def _selected(session: Session, aid: int, selection: Any) -> list[int]:
    if isinstance(selection, list):
        ids = sorted(set(selection))
        found = set(
            session.scalars(
                select(Submission.id).where(Submission.assignment_id == aid, Submission.id.in_(ids))
            )
        )
        for i, sid in enumerate(selection):
            if sid not in found:
                raise BadRequest(
                    f"submissions[{i}]: submission {sid} is not a submission of this assignment",
                    field=f"submissions[{i}]",
                )
        return ids
    stmt = select(Submission.id).where(Submission.assignment_id == aid)
    if selection == "failed":
        stmt = stmt.where(Submission.feedback_status == FeedbackStatus.generation_failed)
    elif selection == "latest":
        newest = (
            select(func.max(Submission.id))
            .where(Submission.assignment_id == aid)
            .group_by(Submission.user_id)
            .scalar_subquery()
        )
        stmt = stmt.where(Submission.id.in_(newest))
    return sorted(session.scalars(stmt))


def request_bulk(session: Session, actor: Actor, lid: int, aid: int, body: BulkFeedbackRequest) -> JobView:
    """One job for many submissions; an identical request while one runs answers 409 with that job."""
    assignment = get_assignment(session, actor, lid, aid, for_update=True)  # serialises identical requests
    jobs.serialise_bulk_requests(session, assignment.id)
    require(session, assignment, "feedback")
    key = json.dumps({"action": body.action, "submissions": body.submissions}, sort_keys=True)
    for job in session.scalars(
        select(Job).where(Job.kind == BULK_KIND, Job.assignment_id == assignment.id, Job.state.in_(ACTIVE))
    ):
        if (job.payload or {}).get("key") == key:
            view = jobs.job_view(job, with_log=False, result=job.result)
            raise Conflict(
                "the same bulk feedback request is already queued or running", details={"job": view}
            )
    ids = _selected(session, assignment.id, body.submissions)
    job = jobs.create_job(
        session,
        BULK_KIND,
        lecture_id=lid,
        assignment_id=assignment.id,
        payload={"action": body.action, "submissions": body.submissions, "ids": ids, "key": key},
    )
    job.result = {"progress": {"done": 0, "total": len(ids)}}
    enqueue(session, "feedback.bulk", job_id=job.id)
    return jobs.job_view(job, with_log=False, result=job.result)

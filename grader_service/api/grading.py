"""Grading actions: generate an assignment's release, re-run or cancel autograde, and read jobs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from grader_service.api.assignments import AID
from grader_service.api.base import ApiHandler
from grader_service.api.lectures import LID
from grader_service.api.submissions import BASE, SID
from grader_service.auth.decorators import requires
from grader_service.auth.roles import Actor
from grader_service.git.store import RepoStore
from grader_service.schemas.bulk import BulkAutograde, BulkAutogradeJob
from grader_service.schemas.grading_record import AutogradeRequest
from grader_service.schemas.responses.jobs import Job as JobView
from grader_service.services import bulk_autograde as bulk
from grader_service.services import grading as svc
from grader_service.services import jobs
from grader_service.services.settings import Limits

JOB_ID = r"(?P<job_id>\d{1,18})"


def _generate(session: Session, actor: Actor, lid: int, aid: int, force: bool) -> JobView:
    return jobs.job_view(svc.request_generate(session, actor, lid, aid, force), with_log=False)


def _rerun(
    session: Session,
    actor: Actor,
    lid: int,
    aid: int,
    sid: int,
    limits: Limits,
    body: AutogradeRequest,
    store: RepoStore,
) -> JobView:
    job = svc.rerun_autograde(session, actor, lid, aid, sid, limits, body, store)
    return jobs.job_view(job, with_log=False, payload=job.payload or {})


def _cancel(session: Session, actor: Actor, lid: int, aid: int, sid: int) -> JobView:
    return jobs.job_view(svc.cancel_autograde(session, actor, lid, aid, sid), with_log=False)


class GenerateHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "Generate the student version from the newest `source` commit (a job): "
            "commits it to `release` and stores the gradebook. Returns the job; once released, "
            "regenerating needs force=true and the job's `result.changes` lists what changed (cells "
            "added/removed, points, test sources, max score)",
            "query": {"force": "regenerate a released or closed assignment (true/false)"},
            "response": JobView,
            "responses": {
                "202": "queued",
                "409": "already being generated, released without force, or the lecture is archived",
            },
        }
    }

    @requires("assignments:write")
    async def post(self, lecture_id: str, assignment_id: str) -> None:
        self.no_body()
        force = self.query_bool("force")
        self.write_json(
            await self.call(_generate, self.actor, int(lecture_id), int(assignment_id), force), status=202
        )


class AutogradeHandler(ApiHandler):
    docs = {
        "post": {
            "summary": 'Re-run autograde on this submission (a new job). No body or {"version": '
            '"original"}: the student\'s commit; {"version": "edit"[, "commit"]}: a tutor\'s '
            "corrected version pushed to the submission's `edit` repo (its newest commit by default); the "
            "student's commit stays untouched and the grading record names the version graded",
            "body": AutogradeRequest,
            "response": JobView,
            "responses": {
                "202": "queued",
                "409": "a job of this submission is still queued or running, or the edit repo is empty",
            },
        },
        "delete": {
            "summary": "Cancel the queued or running autograde job of this submission",
            "response": JobView,
            "responses": {"200": "the cancelled job", "409": "nothing to cancel"},
        },
    }

    @requires("submissions:grade")
    async def post(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        body = self.parse_body(AutogradeRequest) if self.request.body.strip() else AutogradeRequest()
        self.write_json(
            await self.call(
                _rerun,
                self.actor,
                int(lecture_id),
                int(assignment_id),
                int(submission_id),
                self.settings["limits"],
                body,
                self.settings["git_store"],
            ),
            status=202,
        )

    @requires("submissions:grade")
    async def delete(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        self.no_body()
        self.write_json(
            await self.call(_cancel, self.actor, int(lecture_id), int(assignment_id), int(submission_id))
        )


def _bulk(
    session: Session, actor: Actor, lid: int, aid: int, body: BulkAutograde, limits: Limits
) -> BulkAutogradeJob:
    return bulk.bulk_view(bulk.request_bulk_autograde(session, actor, lid, aid, body, limits))


class BulkAutogradeHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "Autograde a selection of the assignment's submissions again, as one job whose "
            "`result.progress` is {done, total} (follow it at GET .../jobs/{id}); submissions already "
            "queued or being graded are skipped (`result.skipped`)",
            "body": BulkAutograde,
            "response": BulkAutogradeJob,
            "responses": {
                "202": "queued: the bulk job",
                "409": "the same selection is still being graded (the answer's `job` is that job), or "
                "the assignment's state refuses grading",
            },
        }
    }

    @requires("submissions:grade")
    async def post(self, lecture_id: str, assignment_id: str) -> None:
        body = self.parse_body(BulkAutograde)
        self.write_json(
            await self.call(
                _bulk, self.actor, int(lecture_id), int(assignment_id), body, self.settings["limits"]
            ),
            status=202,
        )


class JobHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "A job of this lecture: state, attempts, timings, error, log and result",
            "response": JobView,
        }
    }

    @requires("jobs:read")
    async def get(self, lecture_id: str, job_id: str) -> None:
        self.write_json(await self.call(svc.get_job, self.actor, int(lecture_id), int(job_id)))


default_handlers = [
    (rf"/api/lectures/{LID}/assignments/{AID}/generate", GenerateHandler),
    (rf"{BASE}/{SID}/autograde", AutogradeHandler),
    (rf"/api/lectures/{LID}/assignments/{AID}/autograde", BulkAutogradeHandler),
    (rf"/api/lectures/{LID}/jobs/{JOB_ID}", JobHandler),
]

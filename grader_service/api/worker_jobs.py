"""/api/worker/...: what a remote grader-worker (only the service URL and a worker token) calls to claim an
autograde attempt and to report how it ended when its pod could not. Worker tokens only (403 for users)."""

from __future__ import annotations

import functools
from typing import Any

from grader_service.api.base import ApiHandler
from grader_service.auth.decorators import requires
from grader_service.schemas.responses import service as out
from grader_service.schemas.worker import WorkerClaim, WorkerFailure, WorkerGiveUp, WorkerRequeue
from grader_service.services import remote_jobs as svc

JOB = r"/api/worker/jobs/(?P<job_id>\d{1,18})"


class WorkerHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "The worker token's account (a remote worker checks its token at start)",
            "response": out.WorkerAccount,
        }
    }

    @requires("worker")
    async def get(self) -> None:
        self.write_json(out.WorkerAccount(worker=self.actor.name))


class WorkerClaimHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "Start an attempt at an autograde job (compare-and-set: a finished or cancelled "
            "job is not started again). Returns the job spec: attempt, gradebook, timeouts, "
            "limits, executor options (pod image, resources), a fresh job token and the "
            "input/result URLs; or `claimed: false` with the reason",
            "body": WorkerClaim,
            "response": out.Claimed | out.NotClaimed,
            "responses": {"404": "no such autograde job"},
        }
    }

    @requires("worker")
    async def post(self, job_id: str) -> None:
        body = self.parse_body(WorkerClaim)
        settings: dict[str, Any] = self.settings
        claim = functools.partial(
            svc.worker_claim,
            service_url=settings["public_url"],
            limits=settings["limits"],
            grading_limits=settings.get("grading_limits", {}),
            job_options=settings.get("executor_job_options"),
        )
        self.write_json(await self.call(claim, int(job_id), body.worker))


class WorkerFailHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "The attempt ended without its pod posting a result (pod failed, deadline, "
            "deleted): fail the job, the submission shows grading_failed with the error. "
            "Ignored (`recorded: false`) if the pod did post or the attempt is not current",
            "body": WorkerFailure,
            "response": out.ResultRecorded,
            "responses": {"404": "no such autograde job"},
        }
    }

    @requires("worker")
    async def post(self, job_id: str) -> None:
        body = self.parse_body(WorkerFailure)
        self.write_json(
            await self.call(
                svc.worker_fail, self.settings["git_store"], int(job_id), body.attempt, body.error, body.log
            )
        )


class WorkerRequeueHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "An infrastructure error: put the attempt's job back to queued (the worker "
            "retries with backoff). `requeued: false` if the attempt is not current",
            "body": WorkerRequeue,
            "response": out.Requeued,
            "responses": {"404": "no such autograde job"},
        }
    }

    @requires("worker")
    async def post(self, job_id: str) -> None:
        body = self.parse_body(WorkerRequeue)
        self.write_json(await self.call(svc.worker_requeue, int(job_id), body.attempt, body.error))


class WorkerGiveUpHandler(ApiHandler):
    docs = {
        "post": {
            "summary": "The retries are used up: fail the job with the infrastructure error unless it "
            "finished meanwhile or a newer attempt owns it",
            "body": WorkerGiveUp,
            "response": out.GaveUp,
            "responses": {"404": "no such autograde job"},
        }
    }

    @requires("worker")
    async def post(self, job_id: str) -> None:
        body = self.parse_body(WorkerGiveUp)
        self.write_json(await self.call(svc.worker_give_up, int(job_id), body.attempt, body.error))


default_handlers = [
    (r"/api/worker", WorkerHandler),
    (rf"{JOB}/claim", WorkerClaimHandler),
    (rf"{JOB}/fail", WorkerFailHandler),
    (rf"{JOB}/requeue", WorkerRequeueHandler),
    (rf"{JOB}/give-up", WorkerGiveUpHandler),
]

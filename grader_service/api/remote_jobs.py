"""/api/jobs/{id}/input and /result: where a grading pod fetches its submission and posts its result."""

from __future__ import annotations

from grader_service.api.base import ApiHandler
from grader_service.auth.decorators import requires
from grader_service.auth.tokens import parse_authorization
from grader_service.schemas.requests import RemoteJobResult
from grader_service.schemas.responses import service as out
from grader_service.services import remote_jobs as svc

JOB = r"/api/jobs/(?P<job_id>\d{1,18})"


class JobTokenHandler(ApiHandler):
    async def prepare(self) -> None:
        """No user lookup: these routes accept only the job's token."""
        self.job_token = parse_authorization(self.request.headers.get("Authorization"))


class JobInputHandler(JobTokenHandler):
    docs = {
        "get": {
            "summary": "The running job's submission files (base64), gradebook and time limits",
            "response": out.JobInput,
            "responses": {"401": "no valid job token", "404": "the job is not running"},
        }
    }

    @requires("job")
    async def get(self, job_id: str) -> None:
        self.write_json(
            await self.call(
                svc.job_input,
                self.settings["git_store"],
                int(job_id),
                self.job_token,
                self.settings["limits"],
            )
        )


class JobResultHandler(JobTokenHandler):
    docs = {
        "post": {
            "summary": "Record the job's result once (a repeated post is acknowledged and ignored)",
            "body": RemoteJobResult,
            "response": out.ResultRecorded,
            "responses": {"401": "no valid job token"},
        }
    }

    @requires("job")
    async def post(self, job_id: str) -> None:
        body = self.parse_body(RemoteJobResult)
        self.write_json(
            await self.call(svc.post_result, self.settings["git_store"], int(job_id), self.job_token, body)
        )


default_handlers = [
    (rf"{JOB}/input", JobInputHandler),
    (rf"{JOB}/result", JobResultHandler),
]

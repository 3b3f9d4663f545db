"""Response models of the service's own routes (health, version, the OpenAPI document), of the caller's
account and passwords, and of the routes remote workers and grading pods call."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader_service.schemas.responses import Answer
from grader_service.schemas.states import Role


class Health(Answer):
    """Liveness and readiness (a 503 answers the same shape with `unhealthy`/`unreachable`)."""

    status: Literal["ok", "unhealthy"]
    database: Literal["ok", "unreachable"]


class Version(Answer):
    """The running service's version (the package version, PEP 440)."""

    version: str


class OpenApiDocument(BaseModel):
    """This OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


class MyLecture(Answer):
    """A lecture the caller belongs to, and their role in it."""

    id: int
    code: str
    name: str
    role: Role


class Me(Answer):
    """The calling user."""

    id: int
    name: str
    display_name: str | None
    admin: bool
    lectures: list[MyLecture]


class PasswordChanged(Answer):
    """A password was set for `username` (the user is created on first mention)."""

    username: str
    created: bool = Field(description="false when an existing password was replaced (its sessions end)")


class JobInput(Answer):
    """What a grading pod needs: the submission's files (provided files put back), gradebook and limits."""

    job_id: int
    submission_id: int
    gradebook: dict[str, Any] | None = Field(description="the assignment's gradebook: cells and points")
    cell_timeout: float
    timeout: float = Field(description="seconds the whole grading may take")
    files: dict[str, str] = Field(description="path → base64 content")


class ResultRecorded(Answer):
    """Whether a reported result was recorded; `reason` says why not (the job finished already)."""

    recorded: bool
    reason: str | None = None


class WorkerAccount(Answer):
    """The account a worker token belongs to: what a remote worker checks at start."""

    worker: str = Field(description="the worker token's account name")


class Claimed(Answer):
    """The job spec of a started attempt; `job_token` is its only credential, shown this once."""

    claimed: Literal[True]
    job_id: int
    attempt: int
    submission_id: int
    gradebook: dict[str, Any]
    cell_timeout: float
    timeout: float
    limits: dict[str, int] = Field(description="the executor's resource limits (CPU seconds, memory, ...)")
    labels: dict[str, str] = Field(description="names of the job for pod labels: lecture, assignment, ...")
    executor_options: dict[str, Any] = Field(description="per-lecture pod options: image, resources")
    job_token: str
    service_url: str
    input_url: str
    result_url: str


class NotClaimed(Answer):
    """No attempt was started: a duplicate delivery of a finished or cancelled job, or a job that cannot
    run."""

    claimed: Literal[False]
    job_id: int
    reason: str


class Requeued(Answer):
    """Whether the attempt's job was put back to queued after an infrastructure error."""

    requeued: bool = Field(description="false when the attempt is no longer current")


class GaveUp(Answer):
    """Whether giving up failed the job."""

    failed: bool = Field(description="whether the job was failed (not when it finished meanwhile)")

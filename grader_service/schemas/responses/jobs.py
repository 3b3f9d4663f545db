"""Response models of background jobs (generate, autograde, feedback, bulk actions, grade recomputes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from grader_service.schemas.responses import Answer
from grader_service.schemas.states import JobState


class JobCore(Answer):
    """What every view of a job shows."""

    id: int
    kind: str = Field(
        description="generate, autograde, feedback, bulk_autograde, bulk_feedback, or a grade recompute"
    )
    state: JobState
    attempts: int = Field(description="runs started so far (retries included)")
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = Field(description="why it failed, in a sentence")


class Job(JobCore):
    """A job as the API shows it; the optional fields appear where the route says so."""

    worker: str | None = Field(description="the worker that ran it last")
    duration: float | None = Field(description="seconds from start to finish")
    log: str = Field("", description="the job's log (staff reading one job)")
    assignment_id: int | None = Field(None, description="the assignment it works on")
    submission_id: int | None = Field(None, description="the submission it works on")
    payload: dict[str, Any] = Field(
        default_factory=dict, description="what was asked: an autograde's version and commit"
    )
    result: dict[str, Any] | None = Field(
        None,
        description="what it produced; its shape depends on `kind`: generate {release_commit, "
        "source_commit, max_score, notebooks, regenerated, changes}; autograde {score, max_score, "
        "needs_manual, notebooks, timings, autograde_commit, version, graded_commit}; feedback "
        "{submission_id, pages, released, seconds}; bulk jobs and grade recomputes {progress: {done, "
        "total}, ...} with their counts",
    )

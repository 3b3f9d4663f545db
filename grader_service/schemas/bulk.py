"""Request models of bulk actions on an assignment's submissions."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from grader_service.schemas.requests import Strict
from grader_service.schemas.responses.jobs import Job

NAMED = ("latest", "all", "failed")
MAX_IDS = 10_000


def _selection(value: Any) -> str | list[int]:
    # one validator instead of a pydantic union, so an error names `submissions` (or `submissions[i]`)
    # and says what is accepted, instead of listing every member of the union
    if isinstance(value, str):
        if value not in NAMED:
            raise ValueError(f"must be one of {', '.join(NAMED)} or a list of submission ids, got {value!r}")
        return value
    if not isinstance(value, list) or not value:
        raise ValueError("must be 'latest', 'all', 'failed' or a non-empty list of submission ids")
    if len(value) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} submission ids, got {len(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= 2**62:
            raise ValueError(f"[{index}] must be a submission id (a positive integer), got {item!r}")
    return value


Selection = Annotated[
    Any,
    AfterValidator(_selection),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "string", "enum": list(NAMED)},
                {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1},
                    "minItems": 1,
                    "maxItems": MAX_IDS,
                },
            ]
        }
    ),
]


class BulkAutograde(Strict):
    """Which submissions to autograde again, in one job."""

    submissions: Selection = Field(
        description="`latest`: each student's newest submission; `all`: every submission; `failed`: those "
        "whose autograding failed; or a list of submission ids of this assignment"
    )


class Progress(BaseModel):
    done: int = Field(description="parts finished (however they ended)")
    total: int = Field(description="parts the bulk job started")


class BulkAutogradeResult(BaseModel):
    progress: Progress
    succeeded: int = Field(description="parts graded")
    failed: int = Field(description="parts whose grading failed")
    cancelled: int = Field(description="parts cancelled")
    skipped: list[int] = Field(
        default_factory=list, description="submissions left out: already queued or being graded"
    )


class BulkAutogradeJob(Job):
    """The bulk job: one autograde job per selected submission, counted into `result.progress`."""

    assignment_id: int | None
    result: BulkAutogradeResult  # type: ignore[assignment]

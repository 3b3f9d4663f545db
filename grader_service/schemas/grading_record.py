"""Request bodies of the grading record, feedback and student-results routes (strict, like requests.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from grader_service.schemas.requests import Strict
from grader_service.schemas.states import GradedVersion
from grader_service.schemas.text import LineText, MultilineText

Points = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]
MAX_COMMENT = 10_000
CellKey = Annotated[
    LineText,
    Field(
        min_length=1,
        max_length=600,
        description="a grade_id, or `<notebook>#<grade_id>` when two notebooks use the same grade_id",
    ),
]


class CellGradeUpdate(Strict):
    """What a tutor sets on one cell; a field left out keeps its value, null clears it."""

    manual_score: Points | None = Field(None, description="wins over the automatic score; at most max_points")
    extra_credit: Points | None = Field(None, description="added on top of the cell's score")
    comment: Annotated[MultilineText, Field(max_length=MAX_COMMENT)] | None = Field(
        None, description="only on solution and task cells"
    )


class GradingUpdate(Strict):
    """Partial update of a submission's grading record, cell by cell; all or nothing."""

    cells: Annotated[dict[CellKey, CellGradeUpdate], Field(min_length=1, max_length=2000)]


class AutogradeRequest(Strict):
    """Which version of the submission to grade: the student's commit or the tutor's `edit` repo."""

    version: GradedVersion = GradedVersion.original
    commit: Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")] | None = Field(
        None, description="a commit of the `edit` repo (default: its newest); only with version=edit"
    )


SELECTIONS = ("latest", "all", "failed")
MAX_SELECTED = 10_000


def _selection(value: object) -> object:
    # one clear message for the whole field (a plain union would report each member's error)
    if isinstance(value, str):
        if value not in SELECTIONS:
            raise ValueError(f"must be one of {', '.join(SELECTIONS)} or a list of submission ids")
        return value
    if isinstance(value, list):
        if not 1 <= len(value) <= MAX_SELECTED:
            raise ValueError(f"a list of 1 to {MAX_SELECTED} submission ids")
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int) or item < 1:
                raise ValueError(f"item {i} ({item!r}) is not a submission id")
        return value
    raise ValueError(f"must be one of {', '.join(SELECTIONS)} or a list of submission ids")


SubmissionSelection = Annotated[
    Literal["latest", "all", "failed"] | list[Annotated[int, Field(ge=1)]], BeforeValidator(_selection)
]


class BulkFeedbackRequest(Strict):
    """Generate or release the feedback of many submissions of an assignment, as one job."""

    action: Literal["generate", "release"]
    submissions: SubmissionSelection = Field(
        description="latest: each student's newest submission; all; failed: those whose feedback "
        "generation failed; or a list of submission ids"
    )

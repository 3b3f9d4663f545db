"""Request bodies: strict JSON models that reject unknown fields, wrong types and out-of-range values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from grader_service.schemas.states import (
    AssignmentStatus,
    AutoStatus,
    FeedbackRelease,
    GradingBasis,
    LectureStatus,
    ManualStatus,
    Role,
    ScoreVisibility,
)
from grader_service.schemas.text import LineText, MultilineText

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$"
COMMIT_PATTERN = r"^[0-9a-f]{40}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _not_dotdot(value: str) -> str:
    if ".." in value:
        raise ValueError("must not contain '..'")
    return value


Code = Annotated[
    str,
    Field(pattern=NAME_PATTERN, description="short name used in URLs; letters, digits, . _ -"),
    AfterValidator(_not_dotdot),
]
# the patterns already exclude every control character (pydantic-core regexes: `$` is the very end)
Username = Annotated[str, Field(pattern=USERNAME_PATTERN), AfterValidator(_not_dotdot)]
Title = Annotated[LineText, Field(min_length=1, max_length=255)]


class LectureCreate(Strict):
    code: Code
    name: Title


class LectureUpdate(Strict):
    name: Title | None = None
    status: LectureStatus | None = None


class MemberItem(Strict):
    username: Username
    role: Role
    display_name: Annotated[LineText, Field(max_length=255)] | None = None


class MemberRemoval(Strict):
    username: Username


class LatePeriod(Strict):
    period: Annotated[LineText, Field(description="ISO-8601 duration after the deadline, e.g. P1D or PT12H")]
    scaling: Annotated[float, Field(ge=0.0, le=1.0)]


def _glob_list(values: list[str]) -> list[str]:
    for i, pattern in enumerate(values):
        if not pattern or pattern.startswith("/") or ".." in pattern.split("/"):
            raise ValueError(f"item {i} ({pattern!r}) must be a relative glob without '..'")
    return values


AllowedFiles = Annotated[
    list[Annotated[LineText, Field(max_length=255)]], Field(max_length=100), AfterValidator(_glob_list)
]


class AssignmentFields(Strict):
    assignment_type: Annotated[LineText, Field(min_length=1, max_length=64)] | None = None
    points: Annotated[float, Field(ge=0.0, le=1e6)] | None = None
    deadline: AwareDatetime | None = None
    late_periods: Annotated[list[LatePeriod], Field(max_length=20)] | None = None
    max_submissions: Annotated[int, Field(ge=1, le=10_000)] | None = None
    cell_timeout: Annotated[int, Field(ge=1, le=86_400)] | None = None
    allowed_files: AllowedFiles | None = None
    position: Annotated[int, Field(ge=0, le=100_000)] | None = None
    grading_basis: GradingBasis | None = None
    feedback_release: FeedbackRelease | None = Field(
        None,
        description="when feedback reaches students: released by staff (manual), as soon as a submission "
        "is fully graded (on_grading), or once fully graded and past the deadline (after_deadline)",
    )
    score_visibility: ScoreVisibility | None = Field(
        None, description="whether students see scores at once or only with released feedback"
    )


class AssignmentCreate(AssignmentFields):
    name: Title


class AssignmentUpdate(AssignmentFields):
    name: Title | None = None
    status: AssignmentStatus | None = None


class SubmissionCreate(Strict):
    commit: Annotated[str, Field(pattern=COMMIT_PATTERN, description="40-hex commit id")] | None = None


class SubmissionUpdate(Strict):
    """Statuses a tutor may set. Scores come from the per-cell grading record (PATCH .../grading) and
    `feedback_status` only from the system, so neither is accepted here."""

    auto_status: AutoStatus | None = None
    manual_status: ManualStatus | None = None


Score = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]


ENTERS = "Enters the grade: replaces the grade's {} wherever grades are computed and shown (assignment "
RECORD_ONLY = (
    "Recorded only (Open edX's score over all problems, graded or not): kept with the override and its "
    "history, but no assignment or lecture grade here reads it."
)


class GradeOverrideFields(Strict):
    """Override fields of one assignment grade; a field left out keeps its value, null clears it.

    Only `earned_graded_override` and `possible_graded_override` enter the grade (as in Open edX, whose
    course grade reads the graded totals); the `*_all_override` fields and `comment` are recorded with the
    override's history."""

    earned_all_override: Score | None = Field(None, description=RECORD_ONLY)
    possible_all_override: Score | None = Field(None, description=RECORD_ONLY)
    earned_graded_override: Score | None = Field(
        None,
        description=ENTERS.format("earned points")
        + "percent, gradebook filters, lecture grade, letter and pass).",
    )
    possible_graded_override: Score | None = Field(
        None,
        description=ENTERS.format("possible points")
        + "percent, gradebook filters, lecture grade, letter and pass).",
    )
    comment: Annotated[MultilineText, Field(max_length=2000)] | None = Field(
        None, description="Why the grade was overridden; recorded in the history, not part of the grade."
    )


class GradebookUpdateItem(Strict):
    """One item of a gradebook bulk update: the learner (user_id or username), the assignment, the grade."""

    user_id: Annotated[int, Field(ge=1)] | None = None
    username: Username | None = None
    assignment_id: Annotated[int, Field(ge=1)]
    grade: GradeOverrideFields


class GradebookSettings(Strict):
    writable: bool


class RegradeRequest(Strict):
    assignment_ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=200)]


def datetime_or_none(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class RemoteJobResult(Strict):
    """What a remote executor (a grading pod) posts back for its job."""

    ok: bool
    result: dict[str, object] | None = None
    files: dict[str, LineText] = Field(
        default_factory=dict, description="path: base64 content of graded files"
    )
    log: Annotated[MultilineText, Field(max_length=4 << 20)] = ""
    error: Annotated[MultilineText, Field(max_length=10_000)] | None = None

"""Response models of the gradebook, lecture grades, grading policy, overrides and bulk updates.

The rows of the gradebook and of the lecture-grade list are TypedDicts, not models: a gradebook page of
100 learners × 20 assignments is built and written in ~0.9 ms as dicts and ~8.4 ms as pydantic models (one
model per learner and per breakdown entry), which would have been most of the page's time. pydantic
documents and (with `check_responses`) validates TypedDicts like models, and mypy checks their builders in
the grades package. Everything else here is a model."""

from __future__ import annotations

from datetime import datetime
from typing import (
    Any,
    Literal,
    NotRequired,  # pydantic needs this TypedDict before Python 3.12
)

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

from grader_service.schemas.responses import Answer
from grader_service.schemas.responses.jobs import JobCore
from grader_service.schemas.states import GradingBasis

FORBID = ConfigDict(extra="forbid")


@with_config(FORBID)
class SectionBreakdownEntry(TypedDict):
    """One assignment of a learner's gradebook row (overrides applied; zeros when not attempted)."""

    assignment_id: int
    name: str
    category: str
    label: str
    attempted: bool
    percent: float
    score_earned: float
    score_possible: float
    overridden: bool


@with_config(FORBID)
class GradebookEntry(TypedDict):
    """One learner: their lecture grade and a breakdown per counted assignment."""

    user_id: int
    username: str
    percent: float
    letter: str
    passed: bool
    passed_timestamp: datetime | None
    section_breakdown: list[SectionBreakdownEntry]


@with_config(FORBID)
class GradebookPage(TypedDict):
    """A cursor page of the gradebook; the counts are those of the paging's first page."""

    next: str | None
    previous: str | None
    results: list[GradebookEntry]
    total_users_count: int
    filtered_users_count: int


@with_config(FORBID)
class LectureGradeEntry(TypedDict):
    """A learner's lecture grade. While a student's scores are withheld (score_visibility after_feedback),
    the grade fields are null and `scores_visible` false; `scores_visible` is sent to students only."""

    user_id: int
    username: str
    percent: float | None
    letter: str | None
    passed: bool | None
    passed_timestamp: datetime | None
    stale: bool
    scores_visible: NotRequired[bool]


@with_config(FORBID)
class LectureGradesPage(TypedDict):
    """A cursor page of lecture grades (a student's own: one entry, no next)."""

    next: str | None
    results: list[LectureGradeEntry]


class PolicyCategory(Answer):
    """One rule of the grading policy: a category of assignments and its weight."""

    type: str
    category: str
    short_label: str
    weight: float
    min_count: int
    drop_count: int


class CountedAssignment(Answer):
    """An assignment the lecture grade counts, with the label the policy gives it."""

    id: int
    name: str
    type: str
    category: str
    label: str
    points: float
    grading_basis: GradingBasis


class GradingInfo(Answer):
    """The grading policy as it applies: categories, cut-offs and the counted assignments."""

    policy: dict[str, Any] = Field(description="the policy as stored (Open edX's GRADER/GRADE_CUTOFFS)")
    policy_hash: str
    gradebook_writable: bool
    categories: list[PolicyCategory]
    grade_cutoffs: dict[str, float] = Field(description="letter → lowest percent (0-1) that earns it")
    assignments: list[CountedAssignment]


class RecomputeJob(JobCore):
    """A batch job recomputing the lecture's grades (after a policy change or an explicit regrade)."""

    lecture_id: int | None
    payload: dict[str, Any] | None = Field(description="why it runs and which assignments it regrades")
    result: dict[str, Any] | None = Field(description="counts of the grades it recomputed")


class Policy(Answer):
    """The lecture's grading policy; `recompute_job` (staff) is the latest recompute, `job` the one a
    change queued."""

    policy: dict[str, Any] = Field(description="Open edX's GRADER and GRADE_CUTOFFS")
    policy_hash: str = Field(
        description="base64 SHA-1 of the policy's compact JSON: grades name the one used"
    )
    is_default: bool
    recompute_job: RecomputeJob | None = None
    job: RecomputeJob | None = None


class GradebookSettingsView(Answer):
    writable: bool = Field(description="whether bulk overrides are enabled for the lecture")


class RegradeQueued(Answer):
    job: RecomputeJob


class BulkUpdateResult(Answer):
    """The outcome of one item of a bulk update, in the order sent."""

    user_id: int | None
    assignment_id: int | None
    success: bool
    reason: str | None = Field(description="why the item was not applied")


class OverrideValues(Answer):
    earned_all_override: float | None
    possible_all_override: float | None
    earned_graded_override: float | None
    possible_graded_override: float | None
    comment: str | None


class CurrentOverride(OverrideValues):
    system: str = Field(description="where the override was made: gradebook, ...")
    created: datetime
    modified: datetime


class OverrideChange(Answer):
    id: int
    created: datetime
    changed_by: str | None
    action: Literal["create", "update"]
    system: str
    reason: str | None
    old: OverrideValues
    new: OverrideValues


class OverrideHistory(Answer):
    """A learner's override of one assignment grade and every change of it, oldest first."""

    user_id: int
    username: str
    assignment_id: int
    override: CurrentOverride | None
    history: list[OverrideChange]

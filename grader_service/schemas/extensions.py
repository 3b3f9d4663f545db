"""Request and response models of per-student deadline extensions."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from grader_service.schemas.requests import Strict


class ExtensionPut(Strict):
    """A student's own deadline for one assignment; it must be later than the assignment's deadline."""

    deadline: AwareDatetime = Field(
        description="the student's deadline (ISO 8601 with a UTC offset); the assignment's late periods "
        "count from it"
    )


class ExtensionView(BaseModel):
    """One student's extension, with the assignment's own deadline for comparison."""

    username: str
    deadline: datetime = Field(description="the student's own deadline")
    assignment_deadline: datetime | None = Field(description="the assignment's deadline, for everyone else")
    effective_deadline: datetime | None = Field(
        description="what counts for this student: the later of the two (None without an assignment deadline)"
    )
    granted_by: str | None = None
    created_at: datetime
    updated_at: datetime

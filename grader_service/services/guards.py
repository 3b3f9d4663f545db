"""The state machine of lectures and assignments: which actions each state allows (docs/states.md).

Lecture: active → archived (→ active again). Assignment: created → released → closed (released → created
only without submissions, closed → released to reopen); TRANSITIONS in services/assignments.py.

| action      | what it covers                                   | created | released      | closed        |
|-------------|--------------------------------------------------|---------|---------------|---------------|
| fetch       | read the assignment, clone release / own repo    | staff   | everyone      | everyone      |
| submit      | hand in                                          | -       | yes           | -             |
| grade       | autograde (one or in bulk), manual grading       | -       | yes           | yes           |
| feedback    | generate and release feedback                    | -       | yes           | yes           |
| regenerate  | generate the release again from `source`         | yes     | with `force`  | with `force`  |
| edit        | settings, status, extensions, delete             | yes     | yes           | yes           |

An archived lecture is read-only: fetching works, every other action answers 409 (git pushes 403)
until an instructor makes it active again. Roles come on top (auth/roles.py): students fetch and
submit; tutors also grade and give feedback; instructors also regenerate and edit. A role's refusal
is 403 (404 for what the caller may not see), a state's refusal is 409 with a message saying which
state refuses it and what to do.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from grader_service.errors import Conflict
from grader_service.orm.models import Assignment, AssignmentStatus, Lecture, LectureStatus

Action = Literal["fetch", "submit", "grade", "feedback", "regenerate", "edit"]
ACTIONS: tuple[Action, ...] = ("fetch", "submit", "grade", "feedback", "regenerate", "edit")

CREATED, RELEASED, CLOSED = AssignmentStatus.created, AssignmentStatus.released, AssignmentStatus.closed

#: action → assignment states that allow it (in an active lecture); "force" marks states needing force=true
ALLOWED: dict[str, dict[AssignmentStatus, str]] = {
    "fetch": {CREATED: "yes", RELEASED: "yes", CLOSED: "yes"},  # students: visibility hides `created`
    "submit": {RELEASED: "yes"},
    "grade": {RELEASED: "yes", CLOSED: "yes"},
    "feedback": {RELEASED: "yes", CLOSED: "yes"},
    "regenerate": {CREATED: "yes", RELEASED: "force", CLOSED: "force"},
    "edit": {CREATED: "yes", RELEASED: "yes", CLOSED: "yes"},
}
#: actions an archived lecture still allows
ARCHIVED_ALLOWS = frozenset({"fetch"})

_WHY = {
    (CREATED, "submit"): "the assignment is not released yet",
    (CLOSED, "submit"): "the assignment is closed and takes no more submissions",
    (CREATED, "grade"): "the assignment is not released yet: there is nothing handed in to grade",
    (CREATED, "feedback"): "the assignment is not released yet: there is nothing to give feedback on",
}


def refusal(
    lecture: LectureStatus, assignment: AssignmentStatus, action: str, *, force: bool = False
) -> str | None:
    """Why the state refuses `action` (None: allowed). Pure, so the table is tested as a table."""
    if action not in ALLOWED:
        raise ValueError(f"unknown action {action!r}")
    if lecture == LectureStatus.archived and action not in ARCHIVED_ALLOWS:
        return "the lecture is archived and read-only; an instructor can make it active again"
    rule = ALLOWED[action].get(assignment)
    if rule is None:
        why = _WHY.get((assignment, action), f"a {assignment.value} assignment does not allow {action}")
        return why if assignment.value in why else f"{why} (status: {assignment.value})"
    if rule == "force" and not force:
        return (
            f"the assignment is {assignment.value}: students already have the student version, and "
            "regenerating changes what they work on and what is graded; repeat with force=true (the "
            "job's result lists what changed)"
        )
    return None


def require_active(lecture: Lecture) -> None:
    """Raise Conflict (409) when the lecture is archived (creating assignments needs an active one)."""
    if lecture.status == LectureStatus.archived:
        raise Conflict("the lecture is archived and read-only; an instructor can make it active again")


def require(session: Session, assignment: Assignment, action: Action, *, force: bool = False) -> None:
    """Raise Conflict (409) when the lecture's or the assignment's state refuses `action`."""
    lecture = session.get(Lecture, assignment.lecture_id)
    assert lecture is not None
    why = refusal(lecture.status, assignment.status, action, force=force)
    if why is not None:
        raise Conflict(why, field="force" if "force=true" in why else None)

"""Assignment grade overrides: create or change the newest override of a grade, with a full audit trail.

Overrides never touch the grade's scores; readers apply them field by field (a null field keeps the
grade's value). The one derived column, `effective_percent` (what the gradebook's assignment filter
compares), is brought up to date with every change. Every change appends a history row: who, when, from
which system, why, and the values before and after. Write overrides only through `set_override`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grader_service.grades.dialect import upsert_insert
from grader_service.grades.persistence import effective_percent_of, percent_value
from grader_service.grades.snapshots import Snapshot
from grader_service.orm.base import utcnow
from grader_service.orm.grades import (
    OVERRIDE_SYSTEMS,
    AssignmentGrade,
    AssignmentGradeOverride,
    AssignmentGradeOverrideHistory,
)
from grader_service.orm.models import User

OVERRIDE_FIELDS = (
    "earned_all_override",
    "possible_all_override",
    "earned_graded_override",
    "possible_graded_override",
)
RECORDED = (*OVERRIDE_FIELDS, "comment")


def get_or_create_grade(
    session: Session,
    lecture_id: int,
    user_id: int,
    assignment_id: int,
    snapshot: Snapshot,
    now: datetime | None = None,
) -> AssignmentGrade:
    """The learner's assignment grade; an empty one (0 of the snapshot's points, not attempted) if none.
    The caller holds the learner's lock (`lock_learners`), like every writer of a learner's grades."""
    where = (
        AssignmentGrade.lecture_id == lecture_id,
        AssignmentGrade.user_id == user_id,
        AssignmentGrade.assignment_id == assignment_id,
    )
    grade = session.scalars(select(AssignmentGrade).where(*where)).first()
    if grade is not None:
        return grade
    now = now or utcnow()
    # ON CONFLICT DO NOTHING: a stream recompute may create the same grade concurrently.
    session.execute(
        upsert_insert(session, AssignmentGrade)
        .values(
            lecture_id=lecture_id,
            user_id=user_id,
            assignment_id=assignment_id,
            earned_all=0.0,
            possible_all=snapshot.points,
            earned_graded=0.0,
            possible_graded=snapshot.points,
            effective_percent=percent_value(0.0, snapshot.points),
            first_attempted=None,
            submission_id=None,
            snapshot_key=snapshot.key,
            created=now,
            modified=now,
        )
        .on_conflict_do_nothing()
    )
    return session.scalars(select(AssignmentGrade).where(*where)).one()


def _values(override: AssignmentGradeOverride | None) -> dict[str, Any]:
    return {name: (getattr(override, name) if override is not None else None) for name in RECORDED}


def set_override(
    session: Session,
    grade: AssignmentGrade,
    changes: Mapping[str, Any],
    *,
    actor_id: int | None,
    system: str,
    now: datetime | None = None,
) -> AssignmentGradeOverride:
    """Apply `changes` (a subset of the override fields and `comment`; None clears a field) to the grade's
    override, creating it if needed, and record the change in the history. Fields not named keep their
    value. The comment is the change's reason."""
    if system not in OVERRIDE_SYSTEMS:
        raise ValueError(f"system must be one of {', '.join(OVERRIDE_SYSTEMS)}, got {system!r}")
    unknown = set(changes) - set(RECORDED)
    if unknown:
        raise ValueError(f"unknown override fields: {', '.join(sorted(unknown))}")
    now = now or utcnow()
    override = session.scalars(
        select(AssignmentGradeOverride).where(AssignmentGradeOverride.grade_id == grade.id).with_for_update()
    ).first()
    old = _values(override)
    action = "update"
    if override is None:
        action = "create"
        override = AssignmentGradeOverride(grade_id=grade.id, system=system, created=now)
        session.add(override)
    for name, value in changes.items():
        setattr(override, name, value)
    override.system = system
    override.modified = now
    session.flush()
    G = AssignmentGrade
    session.execute(
        update(G)
        .where(G.id == grade.id)
        .values(effective_percent=effective_percent_of(G, G.earned_graded, G.possible_graded))
        .execution_options(synchronize_session=False)
    )
    session.expire(grade, ["effective_percent"])
    session.add(
        AssignmentGradeOverrideHistory(
            override_id=override.id,
            user_id=actor_id,
            action=action,
            system=system,
            reason=changes.get("comment"),
            old=old,
            new=_values(override),
            created=now,
        )
    )
    return override


def override_history(session: Session, grade_id: int) -> dict[str, Any]:
    """The current override of a grade and every change of it, oldest first."""
    override = session.scalars(
        select(AssignmentGradeOverride).where(AssignmentGradeOverride.grade_id == grade_id)
    ).first()
    if override is None:
        return {"override": None, "history": []}
    H = AssignmentGradeOverrideHistory
    rows = session.execute(
        select(H, User.name)
        .outerjoin(User, User.id == H.user_id)
        .where(H.override_id == override.id)
        .order_by(H.created, H.id)
    ).all()
    return {
        "override": {
            **_values(override),
            "system": override.system,
            "created": override.created.isoformat(),
            "modified": override.modified.isoformat(),
        },
        "history": [
            {
                "id": h.id,
                "created": h.created.isoformat(),
                "changed_by": name,
                "action": h.action,
                "system": h.system,
                "reason": h.reason,
                "old": h.old,
                "new": h.new,
            }
            for h, name in rows
        ],
    }

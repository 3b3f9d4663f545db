"""Grading snapshots: the content-addressed version of an assignment that a grade was computed against."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.grades.dialect import upsert_insert
from grader_service.orm.base import utcnow
from grader_service.orm.grades import GradingSnapshot
from grader_service.orm.models import Assignment


class Snapshot(NamedTuple):
    key: str
    points: float


def snapshot_content(assignment: Assignment) -> dict[str, Any]:
    """What a grade depends on: the release commit, the points, and the graded cells with their points.

    The commit and cells come from the generated assignment (its `release_commit` and `gradebook`) when
    it has been generated; before that the snapshot is just the assignment's points.
    """
    cells: list[dict[str, Any]] = []
    gradebook = getattr(assignment, "gradebook", None)
    if isinstance(gradebook, dict):
        for notebook, nb in sorted((gradebook.get("notebooks") or {}).items()):
            for cell in nb.get("cells", []):
                if cell.get("points"):
                    cells.append(
                        {
                            "notebook": notebook,
                            "grade_id": cell.get("grade_id"),
                            "points": float(cell["points"]),
                        }
                    )
    return {
        "assignment_id": assignment.id,
        "release_commit": getattr(assignment, "release_commit", None),
        "points": float(assignment.points),
        "cells": cells,
    }


def snapshot_key(content: dict[str, Any]) -> str:
    """SHA-1 (hex) of the content as compact JSON with sorted keys: equal versions share one row."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def ensure_snapshots(session: Session, assignments: Iterable[Assignment]) -> dict[int, Snapshot]:
    """The current snapshot of each assignment, created when it does not exist yet (assignment id → it)."""
    wanted = {a.id: snapshot_content(a) for a in assignments}
    keys = {aid: snapshot_key(content) for aid, content in wanted.items()}
    if not keys:
        return {}
    existing = set(session.scalars(select(GradingSnapshot.key).where(GradingSnapshot.key.in_(keys.values()))))
    missing = [
        {
            "key": key,
            "assignment_id": aid,
            "release_commit": wanted[aid]["release_commit"],
            "points": wanted[aid]["points"],
            "cells": wanted[aid]["cells"],
            "created": utcnow(),
        }
        for aid, key in keys.items()
        if key not in existing
    ]
    if missing:
        # Content-addressed: a row inserted concurrently under the same key is the same snapshot.
        stmt = upsert_insert(session, GradingSnapshot).on_conflict_do_nothing(index_elements=["key"])
        session.execute(stmt, missing)
    return {aid: Snapshot(key, wanted[aid]["points"]) for aid, key in keys.items()}

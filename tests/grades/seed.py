"""Fast seeding of lectures with learners, assignments and scored submissions for the grades tests."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from grader_service.orm.base import utcnow
from grader_service.orm.models import (
    Assignment,
    AssignmentStatus,
    Lecture,
    LectureMember,
    Role,
    Submission,
    User,
)


@dataclass
class Seeded:
    lecture_id: int
    user_ids: list[int]
    assignment_ids: list[int]
    names: dict[int, str] = field(default_factory=dict)


def seed_lecture(
    session: Session,
    *,
    learners: int,
    assignments: list[dict[str, Any]],
    policy: dict[str, Any] | None = None,
    rng: random.Random | None = None,
    submissions_per: tuple[int, int] = (0, 2),
    scores: list[float] | None = None,
) -> Seeded:
    """A released lecture: `learners` students, the given assignments (name, type, points, basis...) and
    random submissions whose final score is drawn from `scores` (fractions of the points) or uniform."""
    rng = rng or random.Random(0)
    tag = uuid.uuid4().hex[:8]
    lecture = Lecture(code=f"g-{tag}", name=f"Grades {tag}", grading_policy=policy)
    session.add(lecture)
    session.flush()
    names = [f"learner-{tag}-{i:05d}" for i in range(learners)]
    session.execute(insert(User), [{"name": n, "admin": False, "created_at": utcnow()} for n in names])
    ids = {name: uid for name, uid in session.execute(select(User.name, User.id).where(User.name.in_(names)))}
    user_ids = [ids[n] for n in names]
    session.execute(
        insert(LectureMember),
        [
            {"lecture_id": lecture.id, "user_id": uid, "role": Role.student, "created_at": utcnow()}
            for uid in user_ids
        ],
    )
    made = []
    for pos, spec in enumerate(assignments):
        a = Assignment(
            lecture_id=lecture.id,
            name=spec.get("name", f"A{pos}"),
            position=pos,
            assignment_type=spec.get("type", "Homework"),
            points=spec.get("points", 10.0),
            cell_timeout=30,
            late_periods=[],
            allowed_files=[],
            status=spec.get("status", AssignmentStatus.released),
            grading_basis=spec.get("basis", "best"),
        )
        session.add(a)
        made.append(a)
    session.flush()
    now = utcnow()
    rows = []
    for uid in user_ids:
        for a in made:
            for k in range(rng.randint(*submissions_per)):
                frac = rng.choice(scores) if scores else rng.randint(0, 100) / 100
                score = round(a.points * frac, 2)
                scaling = rng.choice([1.0, 1.0, 0.5])
                rows.append(
                    {
                        "assignment_id": a.id,
                        "user_id": uid,
                        "commit_hash": None,
                        "submitted_at": now - timedelta(minutes=60 - k),
                        "auto_score": score,
                        "score": score,
                        "late_scaling": scaling,
                        "final_score": score * scaling,
                        "updated_at": now,
                    }
                )
    if rows:
        session.execute(insert(Submission), rows)
    session.commit()
    return Seeded(lecture.id, user_ids, [a.id for a in made], dict(zip(user_ids, names, strict=True)))

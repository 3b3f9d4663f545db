"""ORM rows → JSON-ready dicts (the response shapes the OpenAPI document describes)."""

from __future__ import annotations

from typing import Any

from grader_service.orm.models import Assignment, Lecture, Role, Submission, User


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def lecture(lec: Lecture, role: Role | None = None) -> dict[str, Any]:
    out = {
        "id": lec.id,
        "code": lec.code,
        "name": lec.name,
        "status": lec.status.value,
        "created_at": iso(lec.created_at),
        "updated_at": iso(lec.updated_at),
    }
    if role is not None:
        out["role"] = role.value
    return out


def member(user: User, role: Role) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "display_name": user.display_name, "role": role.value}


def assignment(a: Assignment, *, staff: bool = False) -> dict[str, Any]:
    out = {
        "id": a.id,
        "lecture_id": a.lecture_id,
        "name": a.name,
        "position": a.position,
        "assignment_type": a.assignment_type,
        "points": a.points,
        "deadline": iso(a.deadline),
        "late_periods": list(a.late_periods or []),
        "max_submissions": a.max_submissions,
        "cell_timeout": a.cell_timeout,
        "allowed_files": list(a.allowed_files or []),
        "status": a.status.value,
        "grading_basis": a.grading_basis.value if a.grading_basis else "best",
        "feedback_release": a.feedback_release.value if a.feedback_release else "manual",
        "score_visibility": a.score_visibility.value if a.score_visibility else "immediate",
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
        "generated": a.release_commit is not None,
    }
    if staff:
        out.update(
            {
                "release_commit": a.release_commit,
                "source_commit": a.source_commit,
                "generated_at": iso(a.generated_at),
            }
        )
    return out


SCORE_FIELDS = ("auto_score", "manual_score", "score", "final_score")


def submission(s: Submission, username: str, lecture_id: int, *, hide_scores: bool = False) -> dict[str, Any]:
    """`hide_scores`: a student's view while the assignment shows scores only with released feedback."""
    out = {
        "id": s.id,
        "lecture_id": lecture_id,
        "assignment_id": s.assignment_id,
        "username": username,
        "commit": s.commit_hash,
        "submitted_at": iso(s.submitted_at),
        "auto_status": s.auto_status.value,
        "manual_status": s.manual_status.value,
        "feedback_status": s.feedback_status.value,
        "auto_score": s.auto_score,
        "manual_score": s.manual_score,
        "score": s.score,
        "late_scaling": s.late_scaling,
        "final_score": s.final_score,
        "updated_at": iso(s.updated_at),
        "scores_visible": not hide_scores,
    }
    if hide_scores:
        out.update(dict.fromkeys(SCORE_FIELDS))
    return out

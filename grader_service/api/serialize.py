"""ORM rows → the response models of `schemas/responses/resources.py`, which the OpenAPI document shows."""

from __future__ import annotations

from grader_service.orm.models import Assignment, Lecture, Role, Submission, User
from grader_service.schemas.responses import resources as out


def lecture(lec: Lecture, role: Role | None = None) -> out.Lecture:
    view = out.Lecture(
        id=lec.id,
        code=lec.code,
        name=lec.name,
        status=lec.status,
        created_at=lec.created_at,
        updated_at=lec.updated_at,
    )
    if role is not None:
        view.role = role
    return view


def member(user: User, role: Role) -> out.Member:
    return out.Member(id=user.id, username=user.name, display_name=user.display_name, role=role)


def assignment(a: Assignment, repos: dict[str, str], *, staff: bool = False) -> out.Assignment:
    view = out.Assignment(
        id=a.id,
        lecture_id=a.lecture_id,
        name=a.name,
        position=a.position,
        assignment_type=a.assignment_type,
        points=a.points,
        deadline=a.deadline,
        late_periods=list(a.late_periods or []),
        max_submissions=a.max_submissions,
        cell_timeout=a.cell_timeout,
        allowed_files=list(a.allowed_files or []),
        status=a.status,
        grading_basis=a.grading_basis or "best",
        feedback_release=a.feedback_release or "manual",
        score_visibility=a.score_visibility or "immediate",
        created_at=a.created_at,
        updated_at=a.updated_at,
        generated=a.release_commit is not None,
        repos=out.RepoUrls(**repos),
    )
    if staff:
        view.release_commit = a.release_commit
        view.source_commit = a.source_commit
        view.generated_at = a.generated_at
    return view


SCORE_FIELDS = ("auto_score", "manual_score", "score", "final_score")


def submission(s: Submission, username: str, lecture_id: int, *, hide_scores: bool = False) -> out.Submission:
    """`hide_scores`: a student's view while the assignment shows scores only with released feedback."""
    scores = dict.fromkeys(SCORE_FIELDS) if hide_scores else {f: getattr(s, f) for f in SCORE_FIELDS}
    return out.Submission(
        id=s.id,
        lecture_id=lecture_id,
        assignment_id=s.assignment_id,
        username=username,
        commit=s.commit_hash,
        submitted_at=s.submitted_at,
        auto_status=s.auto_status,
        manual_status=s.manual_status,
        feedback_status=s.feedback_status,
        late_scaling=s.late_scaling,
        updated_at=s.updated_at,
        scores_visible=not hide_scores,
        **scores,
    )

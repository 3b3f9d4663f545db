"""A submission's per-cell grading record: written from autograde results, derived into the submission's
score, and the rules of which cells need a human."""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, object_session

from grader_service.orm.base import utcnow
from grader_service.orm.grading import (
    COMMENTABLE,
    KIND_AUTO_ANSWER,
    KIND_AUTO_TEST,
    KIND_MANUAL_ANSWER,
    KIND_TASK,
    SCORED,
    GradingCell,
    SubmissionGrading,
)
from grader_service.orm.models import ManualStatus, Submission
from grader_service.schemas.responses.grading import StaffCell
from grader_service.schemas.states import CellKind

KIND_OF_ROLE = {
    "answer": KIND_AUTO_ANSWER,
    "tests": KIND_AUTO_TEST,
    "manual": KIND_MANUAL_ANSWER,
    "task": KIND_TASK,
}
#: autograder verdicts that mean "grading did not work", not "the answer is wrong": a human must look
FAILED_AUTO = frozenset({"timeout", "not_run", "unreadable", "grading_failed"})
MAX_ERROR_OUTPUT = 4000


def needs_manual(cell: GradingCell) -> bool:
    """A scored cell nobody has scored by hand yet whose automatic score is missing or failed."""
    if cell.kind not in SCORED or cell.manual_score is not None:
        return False
    return cell.auto_score is None or (cell.auto_status or "") in FAILED_AUTO


def needs_manual_clause() -> ColumnElement[bool]:
    """SQL: the submission has a cell that `needs_manual` (the same rule, for the submission list filter)."""
    return exists().where(
        GradingCell.submission_id == Submission.id,
        GradingCell.kind.in_(sorted(SCORED)),
        GradingCell.manual_score.is_(None),
        or_(GradingCell.auto_score.is_(None), GradingCell.auto_status.in_(sorted(FAILED_AUTO))),
    )


def effective_score(cell: GradingCell) -> float | None:
    """The cell's score: the manual one wins over the automatic one; extra credit on top."""
    if cell.kind not in SCORED and not cell.extra_credit:
        return None
    base = cell.manual_score if cell.manual_score is not None else cell.auto_score
    if base is None and not cell.extra_credit:
        return None
    return (base or 0.0) + (cell.extra_credit or 0.0)


def cells_of(session: Session, submission_id: int) -> list[GradingCell]:
    return list(
        session.scalars(
            select(GradingCell)
            .where(GradingCell.submission_id == submission_id)
            .order_by(GradingCell.notebook, GradingCell.position)
        )
    )


class Totals(TypedDict):
    """The sums `totals` returns (the fields of a staff view's totals, less late scaling)."""

    max_points: float
    auto_score: float | None
    manual_score: float | None
    extra_credit: float
    score: float | None
    needs_manual: int


def totals(cells: list[GradingCell]) -> Totals:
    """Auto, manual, extra-credit and total score of a set of cells; the total is None when nothing scored."""
    scored = [c for c in cells if c.kind in SCORED]
    auto = [c.auto_score for c in scored if c.auto_score is not None]
    manual = [c.manual_score for c in scored if c.manual_score is not None]
    effective = [s for s in (effective_score(c) for c in cells) if s is not None]
    return {
        "max_points": float(sum(c.max_points for c in scored)),
        "auto_score": float(sum(auto)) if auto else None,
        "manual_score": float(sum(manual)) if manual else None,
        "extra_credit": float(sum(c.extra_credit or 0.0 for c in cells)),
        "score": float(sum(effective)) if effective else None,
        "needs_manual": sum(1 for c in cells if needs_manual(c)),
    }


def apply_to_submission(submission: Submission, cells: list[GradingCell]) -> None:
    """The submission's scores derived from its cells, then late scaling (the grades subsystem reads these).

    A submission without a record (not graded yet) keeps its automatic score as its score.
    """
    if cells:
        sums = totals(cells)
        submission.auto_score = (
            sums["auto_score"] if sums["auto_score"] is not None else submission.auto_score
        )
        submission.manual_score = sums["manual_score"]
        submission.score = sums["score"]
        if sums["needs_manual"] == 0 and sums["manual_score"] is not None:
            submission.manual_status = ManualStatus.manually_graded
        elif sums["needs_manual"] and submission.manual_status == ManualStatus.manually_graded:
            submission.manual_status = ManualStatus.not_graded
    else:
        submission.score = submission.auto_score
    submission.final_score = None if submission.score is None else submission.score * submission.late_scaling


def recompute_from_cells(submission: Submission) -> None:
    session = object_session(submission)
    cells = cells_of(session, submission.id) if session is not None and submission.id else []
    apply_to_submission(submission, cells)


def record_for(session: Session, submission_id: int, *, create: bool = False) -> SubmissionGrading | None:
    record = session.get(SubmissionGrading, submission_id)
    if record is None and create:
        record = SubmissionGrading(submission_id=submission_id, revision=0, feedback_pages=[])
        session.add(record)
    return record


def sync_autograde(
    session: Session,
    submission: Submission,
    gradebook: dict[str, Any],
    result: dict[str, Any] | None,
    errors: dict[str, dict[str, str]],
    *,
    version: str,
    commit: str | None,
    autograde_commit: str | None,
    job_id: int,
) -> SubmissionGrading:
    """Write the automatic half of the record from an autograde result (None: grading failed).

    Manual scores, extra credit and comments of cells that still exist are kept (a re-run after a fixed test
    must not wipe a tutor's work); cells no longer in the gradebook go.
    """
    existing = {(c.notebook, c.grade_id): c for c in cells_of(session, submission.id)}
    seen: set[tuple[str, str]] = set()
    for notebook, entry in sorted(gradebook.get("notebooks", {}).items()):
        verdicts = ((result or {}).get("notebooks", {}).get(notebook) or {}) if result else {}
        scored = verdicts.get("cells", {})
        comments = verdicts.get("comments", {})
        for position, spec in enumerate(entry["cells"]):
            kind = KIND_OF_ROLE.get(spec["role"])
            if kind is None:
                continue
            key = (notebook, spec["grade_id"])
            seen.add(key)
            cell = existing.get(key)
            if cell is None:
                cell = GradingCell(submission_id=submission.id, notebook=notebook, grade_id=spec["grade_id"])
                session.add(cell)
            cell.position, cell.kind = position, kind
            cell.max_points = float(spec["points"]) if kind in SCORED else 0.0
            cell.hidden_tests = bool(spec.get("hidden_tests"))
            verdict = scored.get(spec["grade_id"], {})
            if result is None:
                cell.auto_score, cell.auto_status = None, "grading_failed"
            elif kind == KIND_AUTO_ANSWER:
                cell.auto_score = None
                cell.auto_status = "no_response" if spec["grade_id"] in comments else "answered"
            else:
                score = verdict.get("score")
                cell.auto_score = None if score is None else float(score)
                cell.auto_status = verdict.get("status")
            cell.auto_comment = comments.get(spec["grade_id"]) if result is not None else None
            error = errors.get(notebook, {}).get(spec["grade_id"])
            cell.error_output = error[:MAX_ERROR_OUTPUT] if error and not cell.hidden_tests else None
    for key, cell in existing.items():
        if key not in seen:
            session.delete(cell)
    session.flush()
    record = record_for(session, submission.id, create=True)
    assert record is not None
    record.version = version
    record.graded_commit = commit
    record.autograde_commit = autograde_commit
    record.autograde_job_id = job_id
    record.autograded_at = utcnow()
    touch(record, None)
    apply_to_submission(submission, cells_of(session, submission.id))
    return record


def touch(record: SubmissionGrading, who: str | None) -> None:
    """A change of scores or comments: feedback generated before it is now outdated."""
    record.revision = (record.revision or 0) + 1
    record.updated_at = utcnow()
    record.updated_by = who


def cell_view(cell: GradingCell) -> StaffCell:
    """One cell as staff see it."""
    return StaffCell(
        notebook=cell.notebook,
        grade_id=cell.grade_id,
        kind=CellKind(cell.kind),
        max_points=cell.max_points,
        auto_score=cell.auto_score,
        auto_status=cell.auto_status,
        auto_comment=cell.auto_comment,
        manual_score=cell.manual_score,
        extra_credit=cell.extra_credit,
        comment=cell.comment,
        score=effective_score(cell),
        needs_manual=needs_manual(cell),
        can_comment=cell.kind in COMMENTABLE,
        hidden_tests=cell.hidden_tests,
        error_output=cell.error_output,
        graded_by=cell.graded_by,
        graded_at=cell.graded_at,
    )

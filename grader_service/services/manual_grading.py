"""Reading a grading record (staff: everything; students: their own results, as far as the assignment
shows them) and tutors' per-cell updates (all or nothing)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Conflict
from grader_service.orm.base import utcnow
from grader_service.orm.grading import COMMENTABLE, SCORED, GradingCell, SubmissionGrading
from grader_service.orm.models import FeedbackStatus, ScoreVisibility, Submission
from grader_service.schemas.grading_record import CellGradeUpdate, GradingUpdate
from grader_service.schemas.responses import grading as out
from grader_service.schemas.states import CellKind, GradedVersion
from grader_service.services import grading_record as rec
from grader_service.services.access import get_submission
from grader_service.services.dispatch import enqueue
from grader_service.services.feedback_state import after_grading_change, feedback_state
from grader_service.services.guards import require

WHAT_KIND_CARRIES = {
    "autograded_answer": "an autograded answer carries no points (only a comment)",
    "autograded_test": "an autograded test carries no comment (comment the answer cell instead)",
}


def scores_visible(submission: Submission) -> bool:
    """Whether the student may see the scores of `submission` yet."""
    return (
        submission.assignment.score_visibility != ScoreVisibility.after_feedback
        or submission.feedback_status == FeedbackStatus.released
    )


def _by_notebook(cells: list[GradingCell]) -> list[tuple[str, list[GradingCell], rec.Totals]]:
    """(notebook, its cells, their totals) per notebook, in the cells' order."""
    groups: dict[str, list[GradingCell]] = {}
    for cell in cells:
        groups.setdefault(cell.notebook, []).append(cell)
    return [(name, group, rec.totals(group)) for name, group in groups.items()]


def _staff_view(
    submission: Submission, record: SubmissionGrading | None, cells: list[GradingCell]
) -> out.StaffGrading:
    sums = rec.totals(cells)
    notebooks = [
        out.StaffNotebook(
            name=name,
            cells=[rec.cell_view(c) for c in group],
            max_points=part["max_points"],
            score=part["score"],
            needs_manual=part["needs_manual"],
        )
        for name, group, part in _by_notebook(cells)
    ]
    return out.StaffGrading(
        submission_id=submission.id,
        graded=record is not None,
        version=GradedVersion(record.version) if record else None,
        original_commit=submission.commit_hash,
        graded_commit=record.graded_commit if record else None,
        autograde_commit=record.autograde_commit if record else None,
        autograde_job_id=record.autograde_job_id if record else None,
        autograded_at=record.autograded_at if record else None,
        revision=record.revision if record else 0,
        updated_at=record.updated_at if record else None,
        updated_by=record.updated_by if record else None,
        totals=out.StaffTotals(
            **sums, late_scaling=submission.late_scaling, final_score=submission.final_score
        ),
        notebooks=notebooks,
        feedback=feedback_state(submission, record),
    )


def _student_cell(cell: GradingCell, scores: bool, comments: bool) -> out.StudentCell:
    view = out.StudentCell(
        notebook=cell.notebook,
        grade_id=cell.grade_id,
        kind=CellKind(cell.kind),
        max_points=cell.max_points,
        hidden_tests=cell.hidden_tests,
    )
    if scores:
        view.score = rec.effective_score(cell)
        view.status = cell.auto_status
        if cell.kind == "autograded_test":
            view.passed = cell.auto_status == "passed"
        # hidden tests: points and pass/fail only (their output could quote the hidden lines)
        view.error_output = None if cell.hidden_tests else cell.error_output
        view.needs_manual = rec.needs_manual(cell)
    if comments:
        view.comment = cell.comment or cell.auto_comment
    return view


def _student_view(submission: Submission, cells: list[GradingCell]) -> out.StudentGrading:
    scores = scores_visible(submission)
    released = submission.feedback_status == FeedbackStatus.released
    sums = rec.totals(cells)
    notebooks = [
        out.StudentNotebook(
            name=name,
            cells=[_student_cell(c, scores, released) for c in group],
            max_points=part["max_points"],
            # while scores are withheld, a notebook's sum would give them away
            score=part["score"] if scores else None,
            needs_manual=part["needs_manual"] if scores else None,
        )
        for name, group, part in _by_notebook(cells)
    ]
    return out.StudentGrading(
        submission_id=submission.id,
        graded=bool(cells),
        scores_visible=scores,
        feedback_released=released,
        totals=out.StudentTotals(
            max_points=sums["max_points"],
            score=sums["score"] if scores else None,
            late_scaling=submission.late_scaling,
            final_score=submission.final_score if scores else None,
        ),
        notebooks=notebooks,
    )


def grading_view(
    session: Session, actor: Actor, lid: int, aid: int, sid: int
) -> out.StaffGrading | out.StudentGrading:
    submission = get_submission(session, actor, lid, aid, sid)
    cells = rec.cells_of(session, submission.id)
    if actor.is_staff(lid):
        return _staff_view(submission, rec.record_for(session, submission.id), cells)
    return _student_view(submission, cells)


def _resolve(cells: list[GradingCell], key: str) -> GradingCell:
    field = f"cells.{key}"
    if "#" in key:
        notebook, grade_id = key.rsplit("#", 1)
        found = [c for c in cells if c.notebook == notebook and c.grade_id == grade_id]
    else:
        found = [c for c in cells if c.grade_id == key]
    if not found:
        raise BadRequest(f"{field}: this submission has no graded or commentable cell {key!r}", field=field)
    if len(found) > 1:
        names = ", ".join(f"{c.notebook}#{c.grade_id}" for c in found)
        raise BadRequest(f"{field}: {key!r} is in several notebooks; name one of: {names}", field=field)
    return found[0]


def _check(cell: GradingCell, key: str, update: CellGradeUpdate) -> set[str]:
    given = set(update.model_fields_set)
    if not given:
        raise BadRequest(f"cells.{key}: nothing to change", field=f"cells.{key}")
    for name in ("manual_score", "extra_credit"):
        value = getattr(update, name)
        if name in given and value is not None and cell.kind not in SCORED:
            raise BadRequest(
                f"cells.{key}.{name}: {WHAT_KIND_CARRIES[cell.kind]}", field=f"cells.{key}.{name}"
            )
    if "manual_score" in given and update.manual_score is not None and update.manual_score > cell.max_points:
        raise BadRequest(
            f"cells.{key}.manual_score: {update.manual_score:g} is above the cell's "
            f"{cell.max_points:g} points (give extra credit for more)",
            field=f"cells.{key}.manual_score",
        )
    if "comment" in given and update.comment and cell.kind not in COMMENTABLE:
        raise BadRequest(f"cells.{key}.comment: {WHAT_KIND_CARRIES[cell.kind]}", field=f"cells.{key}.comment")
    return given


def update_grading(
    session: Session, actor: Actor, lid: int, aid: int, sid: int, body: GradingUpdate
) -> out.StaffGrading:
    """Apply every cell's update or none (every check runs before the first write)."""
    submission = get_submission(session, actor, lid, aid, sid)
    require(session, submission.assignment, "grade")
    session.refresh(submission, with_for_update=True)  # one tutor's update at a time per submission
    cells = rec.cells_of(session, submission.id)
    record = rec.record_for(session, submission.id)
    if not cells or record is None:
        raise Conflict("this submission has no grading record yet: it gets one when autograde has run")
    plan = [
        (cell, update, _check(cell, key, update))
        for key, update in body.cells.items()
        for cell in [_resolve(cells, key)]
    ]
    now = utcnow()
    for cell, update, given in plan:
        for name in given:
            value = getattr(update, name)
            setattr(cell, name, value if value != "" else None)
        cell.graded_by, cell.graded_at = actor.name, now
    rec.touch(record, actor.name)
    rec.apply_to_submission(submission, cells)
    submission.updated_at = now
    enqueue(session, "grades.recompute_learner", lecture_id=lid, user_id=submission.user_id)
    after_grading_change(session, submission, record)
    session.flush()
    return _staff_view(submission, record, cells)

"""The CSV grade report: one row per student (assignment percents, lecture percent and letter), in chunks.

The report is produced chunk by chunk in username order (keyset pagination), so the caller can stream
it with constant memory whatever the size of the lecture.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.grades.gradebook import assignment_grade_views, fresh_lecture_grades
from grader_service.grades.setwise import SCALE, AssignmentInfo, LectureGrader, percent_units
from grader_service.orm.models import LectureMember, Role, User

CHUNK_SIZE = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ReportContext:
    """What every chunk of one report shares (read once, at the start)."""

    lecture_id: int
    assignments: tuple[AssignmentInfo, ...]
    grader: LectureGrader


def _cell(text: str) -> str:
    # A spreadsheet would run a name starting like a formula; a leading quote keeps it text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def header(ctx: ReportContext) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(
        ["user_id", "username", *(_cell(a.name) for a in ctx.assignments), "percent", "letter"]
    )
    return out.getvalue()


def chunk(
    session: Session, ctx: ReportContext, after: str | None, size: int = CHUNK_SIZE
) -> tuple[str, str | None]:
    """The CSV rows of the next `size` students after username `after`, and the username to continue
    after (None when this was the last chunk)."""
    stmt = (
        select(User.id, User.name)
        .join(LectureMember, LectureMember.user_id == User.id)
        .where(LectureMember.lecture_id == ctx.lecture_id, LectureMember.role == Role.student)
        .order_by(User.name)
        .limit(size)
    )
    if after is not None:
        stmt = stmt.where(User.name > after)
    rows: Sequence[tuple[int, str]] = [(uid, name) for uid, name in session.execute(stmt)]
    if not rows:
        return "", None
    ids = [uid for uid, _ in rows]
    grades = fresh_lecture_grades(session, ctx.lecture_id, ctx.grader, ids)
    views = assignment_grade_views(session, ctx.lecture_id, ids)
    out = io.StringIO()
    writer = csv.writer(out)
    for uid, name in rows:
        mine = views.get(uid, {})
        cells: list[str] = []
        for a in ctx.assignments:
            view = mine.get(a.id)
            if view is None or not view.attempted:
                cells.append("")
            else:
                units = percent_units(view.earned, view.possible)
                cells.append(f"{units // SCALE}.{units % SCALE:04d}")
        grade = grades.get(uid)
        writer.writerow(
            [uid, name, *cells, f"{grade.percent:.2f}" if grade else "0.00", grade.letter if grade else ""]
        )
    return out.getvalue(), (rows[-1][1] if len(rows) == size else None)

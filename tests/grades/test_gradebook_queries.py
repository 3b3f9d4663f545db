"""A gradebook page costs a constant number of queries, whatever its size and with stale grades on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from grader_service.grades.gradebook import GradebookFilters, gradebook_page
from grader_service.grades.persistence import counted_infos, grader_for
from grader_service.grades.recompute import create_recompute_job, run_lecture_recompute
from grader_service.grades.reports import ReportContext, chunk
from grader_service.orm.models import Lecture
from tests.grades.seed import seed_lecture

POLICY = {
    "GRADER": [
        {"type": "Homework", "min_count": 3, "drop_count": 1, "weight": 0.6, "short_label": "HW"},
        {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 0.4},
    ],
    "GRADE_CUTOFFS": {"A": 0.8, "B": 0.5},
}
NEW_POLICY = {**POLICY, "GRADE_CUTOFFS": {"A": 0.7, "B": 0.4}}


@contextmanager
def counting(db) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The statements run meanwhile, on the request's connections and on those of `Database.aside`; not a
    fold of the tallies, which a read may start in the background (grades.tallies) whenever they pile up."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "DELETE FROM gradebook_tallies" not in statement:
            statements.append(statement)

    engines = [db.engine, db.aside_engine] if db.runs_aside else [db.engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def page_queries(db, lecture_id: int, size: int, filters: GradebookFilters) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with db.session() as s, counting(db) as statements:
        lecture = s.get(Lecture, lecture_id)
        page = gradebook_page(s, lecture, filters, None, size)
        s.commit()
    return len(statements), len(page["results"])


def test_page_queries_do_not_grow_with_the_page(grades_db):
    specs = [{"type": "Homework"}, {"type": "Homework"}, {"type": "Exam", "points": 40}, {"type": "Homework"}]
    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=60, assignments=specs, policy=POLICY)
        job = create_recompute_job(s, seeded.lecture_id, reason="seed", assignment_ids=seeded.assignment_ids)
        s.commit()
    run_lecture_recompute(grades_db.session_factory, job.id)
    filters = [
        GradebookFilters(),
        GradebookFilters(username_contains="learner"),
        GradebookFilters(
            course_grade_min=0,
            course_grade_max=100,
            assignment_id=seeded.assignment_ids[0],
            assignment_grade_min=0,
        ),
    ]
    for f in filters:
        small, n_small = page_queries(grades_db, seeded.lecture_id, 5, f)
        large, n_large = page_queries(grades_db, seeded.lecture_id, 50, f)
        assert (n_small, n_large) == (5, 50)
        assert small == large, f"{f}: {small} vs {large} queries"
        # the lecture, (SET LOCAL), the assignments, the counts (and the tallies), the page, its grades
        assert small <= 9, f
    # after a policy change every grade on the page is stale: recomputed in a constant number more
    with grades_db.session() as s:
        s.get(Lecture, seeded.lecture_id).grading_policy = NEW_POLICY
        s.commit()
    stale_small, _ = page_queries(grades_db, seeded.lecture_id, 5, GradebookFilters())
    with grades_db.session() as s:
        s.get(Lecture, seeded.lecture_id).grading_policy = POLICY
        s.commit()
    stale_large, _ = page_queries(grades_db, seeded.lecture_id, 50, GradebookFilters())
    assert stale_small == stale_large <= 14


def test_report_chunks_cost_constant_queries(grades_db):
    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=40, assignments=[{"type": "Homework"}] * 3, policy=POLICY)
    with grades_db.session() as s:
        lecture = s.get(Lecture, seeded.lecture_id)
        infos = counted_infos(s, lecture.id)
        ctx = ReportContext(lecture.id, tuple(infos), grader_for(lecture, infos))
        counts = []
        after = None
        lines = 0
        while True:
            with counting(grades_db) as statements:
                text, after = chunk(s, ctx, after, size=15)
                s.commit()
            counts.append(len(statements))
            lines += text.count("\n")
            if after is None:
                break
    assert lines == 40
    assert len(set(counts[:2])) == 1, counts  # the first full chunks (all stale: computed) cost the same


def test_later_pages_carry_the_first_pages_counts(grades_db):
    """The counts are taken once, with the first page; the cursors carry them, so a later page counts
    nothing and shows the counts as they were when the paging started."""
    import base64
    import json

    import pytest

    from grader_service.errors import BadRequest
    from grader_service.grades.gradebook import decode_page_cursor, encode_cursor
    from grader_service.orm.models import LectureMember, Role, User

    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=12, assignments=[{"type": "Homework"}] * 2, policy=POLICY)
        s.commit()
    for f in (
        GradebookFilters(),
        GradebookFilters(username_contains="learner"),
        GradebookFilters(course_grade_max=100),
    ):
        with grades_db.session() as s, counting(grades_db) as first_statements:
            first = gradebook_page(s, s.get(Lecture, seeded.lecture_id), f, None, 5)
            s.commit()
        with grades_db.session() as s:  # a learner joins while the tutor pages
            user = User(name=f"zz-late-{len(first['results'])}-{id(f)}")
            s.add(user)
            s.flush()
            s.add(LectureMember(lecture_id=seeded.lecture_id, user_id=user.id, role=Role.student))
            s.commit()
        with grades_db.session() as s, counting(grades_db) as later_statements:
            later = gradebook_page(s, s.get(Lecture, seeded.lecture_id), f, first["next"], 5)
            s.commit()
        assert (later["total_users_count"], later["filtered_users_count"]) == (
            first["total_users_count"],
            first["filtered_users_count"],
        )
        assert any("count(" in st for st in first_statements)
        assert not any("count(" in st for st in later_statements), later_statements
        assert len(later_statements) < len(first_statements)
        assert (
            later["previous"]
            and decode_page_cursor(later["previous"])[2] == decode_page_cursor(first["next"])[2]
        )
        with grades_db.session() as s:  # a new first page counts again
            fresh = gradebook_page(s, s.get(Lecture, seeded.lecture_id), f, None, 5)
        assert fresh["total_users_count"] == first["total_users_count"] + 1
    assert decode_page_cursor(encode_cursor("after", "x", (3, 2, 3, 0))) == ("after", "x", (3, 2, 3, 0))
    for forged in ([1, 2], [1, 2, 3, -4], [1, 2, 3, "4"], [1, 2, 3, True], "many"):
        cursor = base64.urlsafe_b64encode(json.dumps({"after": "x", "counts": forged}).encode()).decode()
        with grades_db.session() as s, pytest.raises(BadRequest) as err:
            gradebook_page(s, s.get(Lecture, seeded.lecture_id), GradebookFilters(), cursor, 5)
        assert err.value.field == "cursor"

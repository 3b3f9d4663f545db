"""Filtered gradebook counts are exact: against a plain-Python recount, through membership and role changes,
removed and re-added members, members without grades, overrides, regrades, on SQLite and PostgreSQL.

On PostgreSQL a single grade filter is counted from the grade rows' `member_role` (kept by triggers) and
`effective_percent` (kept by the writers); these tests change memberships through the ORM and through plain
SQL, so a missed path shows up as a wrong count.
"""

from __future__ import annotations

import itertools
import random

import pytest
from sqlalchemy import delete, insert, select, text, update

from grader_service.grades.gradebook import GradebookFilters, assignment_grade_views, gradebook_counts, gradebook_page
from grader_service.grades.overrides import get_or_create_grade, set_override
from grader_service.grades.persistence import counted_assignments, ensure_snapshots, lock_learners, percent_value
from grader_service.grades.recompute import create_recompute_job, recompute_learner, run_lecture_recompute
from grader_service.orm.base import utcnow
from grader_service.orm.grades import AssignmentGrade, LectureGrade
from grader_service.orm.models import Lecture, LectureMember, Role, Submission, User
from tests.grades.seed import seed_lecture

POLICY = {"GRADER": [{"type": "Homework", "min_count": 2, "drop_count": 0, "weight": 0.7, "short_label": "HW"},
                     {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 0.3}],
          "GRADE_CUTOFFS": {"A": 0.8, "B": 0.5}}
ROLES = [frozenset(), frozenset({Role.tutor, Role.instructor}), frozenset({Role.student}),
         frozenset({Role.tutor})]


def expected(db, lecture_id: int, f: GradebookFilters) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """The total and the filtered usernames, recomputed in Python from the rows (the API's semantics)."""
    with db.session() as s:
        members = s.execute(select(User.id, User.name, LectureMember.role)
                            .join(LectureMember, LectureMember.user_id == User.id)
                            .where(LectureMember.lecture_id == lecture_id)).all()
        course = dict(s.execute(select(LectureGrade.user_id, LectureGrade.percent_grade)
                                .where(LectureGrade.lecture_id == lecture_id)).all())
        views = assignment_grade_views(s, lecture_id, [m[0] for m in members])
    names = []
    for uid, name, role in members:
        if role in f.excluded_roles:
            continue
        if f.username_contains and f.username_contains.lower() not in name.lower():
            continue
        pct = course.get(uid, 0.0)
        if f.course_grade_min is not None and pct < f.course_grade_min / 100:
            continue
        if f.course_grade_max is not None and pct > f.course_grade_max / 100:
            continue
        if f.assignment_id is not None:
            view = views.get(uid, {}).get(f.assignment_id)
            apct = percent_value(view.earned, view.possible) if view else 0.0
            if f.assignment_grade_min is not None and apct < f.assignment_grade_min:
                continue
            if f.assignment_grade_max is not None and apct > f.assignment_grade_max:
                continue
        names.append(name)
    return len(members), sorted(names)


def filter_cases(assignment_ids: list[int]) -> list[GradebookFilters]:
    a = assignment_ids[0]
    cases = [GradebookFilters(username_contains="-0001"), GradebookFilters(username_contains="LEARNER"),
             GradebookFilters(username_contains="zz%_"),
             GradebookFilters(course_grade_min=40, course_grade_max=60), GradebookFilters(course_grade_min=50),
             GradebookFilters(course_grade_max=30), GradebookFilters(course_grade_min=0, course_grade_max=0),
             GradebookFilters(assignment_id=a, assignment_grade_min=80),
             GradebookFilters(assignment_id=a, assignment_grade_max=20),
             GradebookFilters(assignment_id=a, assignment_grade_min=0, assignment_grade_max=100),
             GradebookFilters(assignment_id=a, assignment_grade_min=30, assignment_grade_max=70,
                              course_grade_min=20),
             GradebookFilters(username_contains="1", course_grade_max=70)]
    out = [GradebookFilters(excluded_roles=r) for r in ROLES]
    for case, roles in itertools.product(cases, ROLES[:3]):
        out.append(GradebookFilters(**{**case.__dict__, "excluded_roles": roles}))
    return out


def check_all(db, seeded, label: str) -> None:  # type: ignore[no-untyped-def]
    for f in filter_cases(seeded.assignment_ids):
        total, names = expected(db, seeded.lecture_id, f)
        with db.session() as s:
            lecture = s.get(Lecture, seeded.lecture_id)
            page = gradebook_page(s, lecture, f, None, 1000)
            s.commit()
        assert (page["total_users_count"], page["filtered_users_count"]) == (total, len(names)), f"{label}: {f}"
        assert [e["username"] for e in page["results"]] == names, f"{label}: {f}"


@pytest.fixture
def world(grades_db):  # type: ignore[no-untyped-def]
    specs = [{"type": "Homework"}, {"type": "Homework", "points": 0.0}, {"type": "Exam", "points": 40}]
    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=40, assignments=specs, policy=POLICY, rng=random.Random(3),
                              submissions_per=(0, 2))
        staff = [User(name=f"staff-{seeded.lecture_id}-{i}") for i in range(3)]
        s.add_all(staff)
        s.flush()
        s.add_all([LectureMember(lecture_id=seeded.lecture_id, user_id=u.id, role=role)
                   for u, role in zip(staff, [Role.tutor, Role.instructor, Role.tutor], strict=True)])
        # staff with submissions get grades too: the default excluded_roles must leave them out
        s.add(Submission(assignment_id=seeded.assignment_ids[0], user_id=staff[0].id, submitted_at=utcnow(),
                         auto_score=9.0, score=9.0, late_scaling=1.0, final_score=9.0, updated_at=utcnow()))
        job = create_recompute_job(s, seeded.lecture_id, reason="seed", assignment_ids=seeded.assignment_ids)
        s.commit()
        seeded.user_ids.extend(u.id for u in staff)
    run_lecture_recompute(grades_db.session_factory, job.id)
    return seeded


def test_counts_follow_memberships_overrides_and_regrades(grades_db, world):  # type: ignore[no-untyped-def]
    seeded, lid = world, world.lecture_id
    check_all(grades_db, seeded, "seeded")
    learners = seeded.user_ids[:40]
    # overrides (bulk path): the effective percent follows, the grade's own scores do not change
    with grades_db.session() as s:
        lecture = s.get(Lecture, lid)
        snaps = ensure_snapshots(s, counted_assignments(s, lid))
        lock_learners(s, lid, learners[:6])
        for i, uid in enumerate(learners[:6]):
            grade = get_or_create_grade(s, lid, uid, seeded.assignment_ids[0], snaps[seeded.assignment_ids[0]])
            before = (grade.earned_graded, grade.possible_graded)
            set_override(s, grade, {"earned_graded_override": float(i * 2), "possible_graded_override": 10.0}
                         if i % 2 else {"earned_graded_override": 9.5}, actor_id=None, system="api")
            s.flush()
            s.refresh(grade)
            assert (grade.earned_graded, grade.possible_graded) == before
        s.commit()
    check_all(grades_db, seeded, "overrides")
    # a stream update of an overridden grade keeps the override in its effective percent
    with grades_db.session() as s:
        s.execute(update(Submission).where(Submission.user_id == learners[1],
                                           Submission.assignment_id == seeded.assignment_ids[0])
                  .values(final_score=1.0, score=1.0, auto_score=1.0))
        s.add(Submission(assignment_id=seeded.assignment_ids[0], user_id=learners[1], submitted_at=utcnow(),
                         auto_score=3.0, score=3.0, late_scaling=1.0, final_score=3.0, updated_at=utcnow()))
        s.commit()
    recompute_learner(grades_db.session_factory, lid, learners[1])
    check_all(grades_db, seeded, "stream")
    # memberships through the ORM: removal (grades stay), role change, re-adding
    with grades_db.session() as s:
        s.delete(s.get(LectureMember, (lid, learners[2])))
        s.get(LectureMember, (lid, learners[3])).role = Role.tutor
        s.get(LectureMember, (lid, seeded.user_ids[40])).role = Role.student
        s.commit()
    check_all(grades_db, seeded, "orm membership")
    with grades_db.session() as s:
        s.add(LectureMember(lecture_id=lid, user_id=learners[2], role=Role.instructor))
        s.commit()
    check_all(grades_db, seeded, "re-added")
    # memberships through plain SQL (a path the ORM never sees)
    with grades_db.session() as s:
        s.execute(delete(LectureMember).where(LectureMember.lecture_id == lid,
                                              LectureMember.user_id.in_(learners[4:7])))
        s.execute(update(LectureMember).where(LectureMember.lecture_id == lid, LectureMember.user_id == learners[8])
                  .values(role=Role.instructor))
        s.commit()
    check_all(grades_db, seeded, "sql membership")
    with grades_db.session() as s:
        s.execute(insert(LectureMember), [{"lecture_id": lid, "user_id": uid, "role": Role.student,
                                           "created_at": utcnow()} for uid in learners[4:6]])
        s.execute(text("UPDATE lecture_members SET role = 'student' WHERE lecture_id = :l AND user_id = :u"),
                  {"l": lid, "u": learners[8]})
        s.commit()
    check_all(grades_db, seeded, "sql re-added")
    # a regrade moves possible scores; grades created by an override move with them
    with grades_db.session() as s:
        s.get(Lecture, lid)
        for a in counted_assignments(s, lid):
            if a.id == seeded.assignment_ids[0]:
                a.points = 20.0
        job = create_recompute_job(s, lid, reason="regrade", assignment_ids=seeded.assignment_ids, regrade=True)
        s.commit()
    run_lecture_recompute(grades_db.session_factory, job.id)
    check_all(grades_db, seeded, "regrade")


def test_effective_percent_is_the_override_aware_percent(grades_db, world):  # type: ignore[no-untyped-def]
    with grades_db.session() as s:
        rows = s.execute(select(AssignmentGrade.user_id, AssignmentGrade.assignment_id,
                                AssignmentGrade.effective_percent)
                         .where(AssignmentGrade.lecture_id == world.lecture_id)).all()
        views = assignment_grade_views(s, world.lecture_id, world.user_ids)
    assert rows
    for uid, aid, stored in rows:
        view = views[uid][aid]
        assert stored == percent_value(view.earned, view.possible)


def test_member_role_is_kept_on_postgres(grades_db, world):  # type: ignore[no-untyped-def]
    """PostgreSQL's triggers keep the denormalised role; SQLite leaves it NULL (its counts join instead)."""
    lid, uid = world.lecture_id, world.user_ids[0]
    postgres = grades_db.engine.dialect.name == "postgresql"

    def roles() -> set[str | None]:
        with grades_db.session() as s:
            return (set(s.scalars(select(AssignmentGrade.member_role).where(AssignmentGrade.lecture_id == lid,
                                                                            AssignmentGrade.user_id == uid)))
                    | set(s.scalars(select(LectureGrade.member_role).where(LectureGrade.lecture_id == lid,
                                                                           LectureGrade.user_id == uid))))

    assert roles() == ({"student"} if postgres else {None})
    with grades_db.session() as s:
        s.get(LectureMember, (lid, uid)).role = Role.tutor
        s.commit()
    assert roles() == ({"tutor"} if postgres else {None})
    with grades_db.session() as s:
        s.delete(s.get(LectureMember, (lid, uid)))
        s.commit()
    assert roles() == {None}


def test_default_counts_leave_out_the_staff(grades_db, world):  # type: ignore[no-untyped-def]
    with grades_db.session() as s:
        total, filtered = gradebook_counts(s, world.lecture_id, GradebookFilters())
    assert (total, filtered) == (43, 40)

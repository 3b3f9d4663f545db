"""Filtered gradebook counts are exact: against a plain-Python recount, through membership and role changes,
removed and re-added members, members without grades, overrides, regrades, on SQLite and PostgreSQL.

On PostgreSQL a single grade filter is counted from the grade rows' `member_role` (kept by triggers) and
`effective_percent` (kept by the writers), and a username filter from the memberships' copies of the name
(kept by triggers); these tests change memberships and names through the ORM and through plain SQL, so a
missed path shows up as a wrong count.
"""

from __future__ import annotations

import itertools
import random

import pytest
from sqlalchemy import delete, event, insert, select, text, update

from grader_service.grades import gradebook as gradebook_page_module
from grader_service.grades import gradebook_query as gradebook_module
from grader_service.grades.gradebook import (
    GradebookFilters,
    assignment_grade_views,
    gradebook_counts,
    gradebook_page,
)
from grader_service.grades.overrides import get_or_create_grade, set_override
from grader_service.grades.persistence import (
    counted_assignments,
    ensure_snapshots,
    lock_learners,
    percent_value,
)
from grader_service.grades.recompute import create_recompute_job, recompute_learner, run_lecture_recompute
from grader_service.orm.base import utcnow
from grader_service.orm.grades import AssignmentGrade, LectureGrade
from grader_service.orm.models import Lecture, LectureMember, Role, Submission, User
from tests.grades.seed import seed_lecture

POLICY = {
    "GRADER": [
        {"type": "Homework", "min_count": 2, "drop_count": 0, "weight": 0.7, "short_label": "HW"},
        {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 0.3},
    ],
    "GRADE_CUTOFFS": {"A": 0.8, "B": 0.5},
}
ROLES = [
    frozenset(),
    frozenset({Role.tutor, Role.instructor}),
    frozenset({Role.student}),
    frozenset({Role.tutor}),
]


def expected(db, lecture_id: int, f: GradebookFilters) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """The total and the filtered usernames, recomputed in Python from the rows (the API's semantics)."""
    with db.session() as s:
        members = s.execute(
            select(User.id, User.name, LectureMember.role)
            .join(LectureMember, LectureMember.user_id == User.id)
            .where(LectureMember.lecture_id == lecture_id)
        ).all()
        course = dict(
            s.execute(
                select(LectureGrade.user_id, LectureGrade.percent_grade).where(
                    LectureGrade.lecture_id == lecture_id
                )
            ).all()
        )
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
    cases = [
        GradebookFilters(username_contains="-0001"),
        GradebookFilters(username_contains="LEARNER"),
        GradebookFilters(username_contains="zz%_"),
        GradebookFilters(course_grade_min=40, course_grade_max=60),
        GradebookFilters(course_grade_min=50),
        GradebookFilters(course_grade_max=30),
        GradebookFilters(course_grade_min=0, course_grade_max=0),
        GradebookFilters(assignment_id=a, assignment_grade_min=80),
        GradebookFilters(assignment_id=a, assignment_grade_max=20),
        GradebookFilters(assignment_id=a, assignment_grade_min=0, assignment_grade_max=100),
        GradebookFilters(
            assignment_id=a, assignment_grade_min=30, assignment_grade_max=70, course_grade_min=20
        ),
        GradebookFilters(username_contains="1", course_grade_max=70),
    ]
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
        assert (page["total_users_count"], page["filtered_users_count"]) == (total, len(names)), (
            f"{label}: {f}"
        )
        assert [e["username"] for e in page["results"]] == names, f"{label}: {f}"


@pytest.fixture
def world(grades_db):  # type: ignore[no-untyped-def]
    specs = [{"type": "Homework"}, {"type": "Homework", "points": 0.0}, {"type": "Exam", "points": 40}]
    with grades_db.session() as s:
        seeded = seed_lecture(
            s, learners=40, assignments=specs, policy=POLICY, rng=random.Random(3), submissions_per=(0, 2)
        )
        staff = [User(name=f"staff-{seeded.lecture_id}-{i}") for i in range(3)]
        s.add_all(staff)
        s.flush()
        s.add_all(
            [
                LectureMember(lecture_id=seeded.lecture_id, user_id=u.id, role=role)
                for u, role in zip(staff, [Role.tutor, Role.instructor, Role.tutor], strict=True)
            ]
        )
        # staff with submissions get grades too: the default excluded_roles must leave them out
        s.add(
            Submission(
                assignment_id=seeded.assignment_ids[0],
                user_id=staff[0].id,
                submitted_at=utcnow(),
                auto_score=9.0,
                score=9.0,
                late_scaling=1.0,
                final_score=9.0,
                updated_at=utcnow(),
            )
        )
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
        snaps = ensure_snapshots(s, counted_assignments(s, lid))
        lock_learners(s, lid, learners[:6])
        for i, uid in enumerate(learners[:6]):
            grade = get_or_create_grade(
                s, lid, uid, seeded.assignment_ids[0], snaps[seeded.assignment_ids[0]]
            )
            before = (grade.earned_graded, grade.possible_graded)
            set_override(
                s,
                grade,
                {"earned_graded_override": float(i * 2), "possible_graded_override": 10.0}
                if i % 2
                else {"earned_graded_override": 9.5},
                actor_id=None,
                system="api",
            )
            s.flush()
            s.refresh(grade)
            assert (grade.earned_graded, grade.possible_graded) == before
        s.commit()
    check_all(grades_db, seeded, "overrides")
    # a stream update of an overridden grade keeps the override in its effective percent
    with grades_db.session() as s:
        s.execute(
            update(Submission)
            .where(Submission.user_id == learners[1], Submission.assignment_id == seeded.assignment_ids[0])
            .values(final_score=1.0, score=1.0, auto_score=1.0)
        )
        s.add(
            Submission(
                assignment_id=seeded.assignment_ids[0],
                user_id=learners[1],
                submitted_at=utcnow(),
                auto_score=3.0,
                score=3.0,
                late_scaling=1.0,
                final_score=3.0,
                updated_at=utcnow(),
            )
        )
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
        s.execute(
            delete(LectureMember).where(
                LectureMember.lecture_id == lid, LectureMember.user_id.in_(learners[4:7])
            )
        )
        s.execute(
            update(LectureMember)
            .where(LectureMember.lecture_id == lid, LectureMember.user_id == learners[8])
            .values(role=Role.instructor)
        )
        s.commit()
    check_all(grades_db, seeded, "sql membership")
    with grades_db.session() as s:
        s.execute(
            insert(LectureMember),
            [
                {"lecture_id": lid, "user_id": uid, "role": Role.student, "created_at": utcnow()}
                for uid in learners[4:6]
            ],
        )
        s.execute(
            text("UPDATE lecture_members SET role = 'student' WHERE lecture_id = :l AND user_id = :u"),
            {"l": lid, "u": learners[8]},
        )
        s.commit()
    check_all(grades_db, seeded, "sql re-added")
    # a regrade moves possible scores; grades created by an override move with them
    with grades_db.session() as s:
        s.get(Lecture, lid)
        for a in counted_assignments(s, lid):
            if a.id == seeded.assignment_ids[0]:
                a.points = 20.0
        job = create_recompute_job(
            s, lid, reason="regrade", assignment_ids=seeded.assignment_ids, regrade=True
        )
        s.commit()
    run_lecture_recompute(grades_db.session_factory, job.id)
    check_all(grades_db, seeded, "regrade")


def test_effective_percent_is_the_override_aware_percent(grades_db, world):  # type: ignore[no-untyped-def]
    with grades_db.session() as s:
        rows = s.execute(
            select(
                AssignmentGrade.user_id, AssignmentGrade.assignment_id, AssignmentGrade.effective_percent
            ).where(AssignmentGrade.lecture_id == world.lecture_id)
        ).all()
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
            return set(
                s.scalars(
                    select(AssignmentGrade.member_role).where(
                        AssignmentGrade.lecture_id == lid, AssignmentGrade.user_id == uid
                    )
                )
            ) | set(
                s.scalars(
                    select(LectureGrade.member_role).where(
                        LectureGrade.lecture_id == lid, LectureGrade.user_id == uid
                    )
                )
            )

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


def pages(db, lecture_id: int, f: GradebookFilters, size: int) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Every page of the filtered list, following `next`, then back again following `previous`."""
    forward, cursor = [], None
    while True:
        with db.session() as s:
            page = gradebook_page(s, s.get(Lecture, lecture_id), f, cursor, size)
            s.commit()
        forward.append([e["username"] for e in page["results"]])
        if page["next"] is None:
            break
        cursor = page["next"].split("cursor=")[-1] if "cursor=" in page["next"] else page["next"]
    back = [forward[-1]]
    while page["previous"] is not None:
        with db.session() as s:
            page = gradebook_page(s, s.get(Lecture, lecture_id), f, page["previous"], size)
            s.commit()
        back.append([e["username"] for e in page["results"]])
    assert back[::-1] == forward, f
    return forward


@pytest.mark.parametrize(
    ("drive", "hashed"),
    [(0, 0), (10**9, 10**9), (10**9, 0)],
    ids=["from-grade-index", "hashed-walk", "walk-names"],
)
def test_grade_filters_holding_zero_count_learners_without_grade_rows(
    grades_db, world, monkeypatch, drive, hashed
):  # type: ignore[no-untyped-def]
    """Members with no lecture grade and no assignment grade row show 0 and pass a range that holds 0, whether
    the page walks the names, walks them against a hash of the passing ids (PostgreSQL, once every member
    has a grade row) or (PostgreSQL, few passing) starts from the grade index; pages join up."""
    monkeypatch.setattr(gradebook_module, "DRIVE_FROM_GRADES", drive)
    monkeypatch.setattr(gradebook_module, "HASHED_WALK", hashed)
    plans: list[str] = []
    real_page_query = gradebook_module.page_query

    def recording(session, lecture_id, filters, plan):  # type: ignore[no-untyped-def]
        plans.append(plan.mode)
        return real_page_query(session, lecture_id, filters, plan)

    monkeypatch.setattr(gradebook_page_module, "page_query", recording)
    lid, a = world.lecture_id, world.assignment_ids[0]
    with grades_db.session() as s:
        late = [User(name=f"late-{lid}-{i}") for i in range(5)] + [User(name=f"Late-{lid}-staff")]
        s.add_all(late)
        s.flush()
        s.add_all(
            [LectureMember(lecture_id=lid, user_id=u.id, role=Role.student) for u in late[:5]]
            + [LectureMember(lecture_id=lid, user_id=late[5].id, role=Role.tutor)]
        )
        s.commit()
        late_names = sorted(u.name for u in late[:5])
        assert not s.scalars(
            select(LectureGrade.id).where(LectureGrade.user_id.in_([u.id for u in late]))
        ).all()
    cases = [
        GradebookFilters(course_grade_max=30),
        GradebookFilters(course_grade_min=0, course_grade_max=0),
        GradebookFilters(course_grade_max=100),
        GradebookFilters(course_grade_min=60),
        GradebookFilters(assignment_id=a, assignment_grade_max=20),
        GradebookFilters(assignment_id=a, assignment_grade_min=50),
        GradebookFilters(course_grade_max=30, excluded_roles=frozenset({Role.student})),
        GradebookFilters(course_grade_max=30, excluded_roles=frozenset()),
    ]
    for f in cases:
        total, names = expected(grades_db, lid, f)
        with grades_db.session() as s:
            assert gradebook_counts(s, lid, f) == (total, len(names)), f
            counts = gradebook_module._counts(s, lid, f)
        if grades_db.engine.dialect.name == "postgresql" and f.excluded_roles != {Role.student}:
            assert counts.driven
            # (a page read grades its learners that have no lecture grade yet; assignment grade rows stay
            # absent)
            assert counts.ungraded or not (f is cases[0] or f.assignment_grade_max == 20)
        assert sum(pages(grades_db, lid, f, 3), []) == names, f
        if (
            f.course_grade_min is None
            and f.assignment_grade_min is None
            and Role.student not in f.excluded_roles
        ):
            assert set(late_names) <= set(names), f  # no grade row: counted as 0
    # once they are graded, the "no grade row" part of the range is empty (and skipped on PostgreSQL)
    with grades_db.session() as s:
        job = create_recompute_job(s, lid, reason="late members")
        s.commit()
    run_lecture_recompute(grades_db.session_factory, job.id)
    check_all(grades_db, world, f"graded late members, drive={drive}")
    if grades_db.engine.dialect.name != "postgresql":
        assert set(plans) == {"walk"}
    else:
        assert {"from-grade-index": "driven", "hashed-walk": "hashed", "walk-names": "walk"}[
            "from-grade-index" if drive == 0 else "hashed-walk" if hashed else "walk-names"
        ] in plans, plans


def test_one_and_two_character_username_filters_are_case_insensitive(grades_db, world):  # type: ignore[no-untyped-def]
    lid = world.lecture_id
    with grades_db.session() as s:
        odd = [User(name=f"Zq-{lid}"), User(name=f"zQ_{lid}"), User(name=f"x%{lid}")]
        s.add_all(odd)
        s.flush()
        s.add_all([LectureMember(lecture_id=lid, user_id=u.id, role=Role.student) for u in odd])
        s.commit()
    for part in ["zq", "ZQ", "Q", "q", "%", "_", "L", "1", "-0"]:
        f = GradebookFilters(username_contains=part)
        total, names = expected(grades_db, lid, f)
        with grades_db.session() as s:
            assert gradebook_counts(s, lid, f) == (total, len(names)), part
        assert sum(pages(grades_db, lid, f, 7), []) == names, part
    assert expected(grades_db, lid, GradebookFilters(username_contains="zq"))[1] == sorted(
        [f"Zq-{lid}", f"zQ_{lid}"]
    )


def test_member_names_are_kept_on_postgres(grades_db, world):  # type: ignore[no-untyped-def]
    """The memberships' copies of the username (migration 0006) follow added members, renamed users (ORM and
    plain SQL), role changes, removal and a direct write; SQLite leaves them NULL (its gradebook joins)."""
    lid = world.lecture_id
    postgres = grades_db.engine.dialect.name == "postgresql"

    def names() -> dict[int, tuple[str | None, str | None]]:
        with grades_db.session() as s:
            rows = s.execute(
                select(LectureMember.user_id, LectureMember.username, LectureMember.username_lower).where(
                    LectureMember.lecture_id == lid
                )
            ).all()
        return {uid: (name, lower) for uid, name, lower in rows}

    def users() -> dict[int, tuple[str | None, str | None]]:
        with grades_db.session() as s:
            rows = s.execute(
                select(User.id, User.name)
                .join(LectureMember, LectureMember.user_id == User.id)
                .where(LectureMember.lecture_id == lid)
            ).all()
        return {uid: ((name, name.lower()) if postgres else (None, None)) for uid, name in rows}

    assert names() == users()
    with grades_db.session() as s:
        new = User(name=f"Newcomer-{lid}")
        s.add(new)
        s.flush()
        s.add(LectureMember(lecture_id=lid, user_id=new.id, role=Role.student))
        s.get(User, world.user_ids[0]).name = f"RENAMED-{lid}"
        s.get(LectureMember, (lid, world.user_ids[1])).role = Role.tutor
        s.commit()
        new_id = new.id
    assert names() == users()
    assert names()[new_id] == ((f"Newcomer-{lid}", f"newcomer-{lid}") if postgres else (None, None))
    with grades_db.session() as s:
        s.execute(
            text("UPDATE users SET name = 'Sql-Renamed-' || id WHERE id = :u"), {"u": world.user_ids[2]}
        )
        if postgres:  # (SQLite never reads the copies, and has no trigger to overwrite them)
            s.execute(
                update(LectureMember)
                .where(LectureMember.lecture_id == lid, LectureMember.user_id == world.user_ids[3])
                .values(username="forged", username_lower="forged")
            )
        s.execute(
            delete(LectureMember).where(
                LectureMember.lecture_id == lid, LectureMember.user_id == world.user_ids[4]
            )
        )
        s.commit()
    assert names() == users()
    assert world.user_ids[4] not in names()
    # the gradebook sees the new names at once: counts and pages by the renamed name, old names gone
    for part in ["renamed", "Re", "newcomer", f"-{lid}", "forged"]:
        f = GradebookFilters(username_contains=part)
        total, expected_names = expected(grades_db, lid, f)
        with grades_db.session() as s:
            assert gradebook_counts(s, lid, f) == (total, len(expected_names)), part
        assert sum(pages(grades_db, lid, f, 4), []) == expected_names, part
    check_all(grades_db, world, "renamed users")


def test_username_filters_count_without_the_users(grades_db, world):  # type: ignore[no-untyped-def]
    """PostgreSQL counts a username filter (1–2 characters: strpos; more: LIKE) from the memberships' copies
    (and the tallies) in statements that never read the users; every excluded_roles case agrees with the
    recount. SQLite
    (which joins the users, and folds only ASCII case) must agree on the ASCII patterns."""
    postgres = grades_db.engine.dialect.name == "postgresql"
    parts = ["1", "R", "-0", "%", "_", "%_", "RNER-", "r%"] + (["ä", "äR", "ÄRGER"] if postgres else [])
    with grades_db.session() as s:
        accented = User(name=f"Ärger-{world.lecture_id}")
        s.add(accented)
        s.flush()
        s.add(LectureMember(lecture_id=world.lecture_id, user_id=accented.id, role=Role.student))
        s.commit()
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(grades_db.engine, "before_cursor_execute", record)
    try:
        for roles, part in itertools.product(ROLES, parts):
            f = GradebookFilters(username_contains=part, excluded_roles=roles)
            total, names = expected(grades_db, world.lecture_id, f)
            statements.clear()
            with grades_db.session() as s:
                assert gradebook_counts(s, world.lecture_id, f) == (total, len(names)), f
            if postgres:
                assert len(statements) <= 2 and not any(" users" in st for st in statements), statements
    finally:
        event.remove(grades_db.engine, "before_cursor_execute", record)
    for part in parts[8:]:  # (non-ASCII case folding is PostgreSQL's lower(), as ILIKE's)
        f = GradebookFilters(username_contains=part)
        assert sum(pages(grades_db, world.lecture_id, f, 2), []) == [f"Ärger-{world.lecture_id}"], part


def test_grade_ranges_counted_from_the_other_side_agree(grades_db, world, monkeypatch):  # type: ignore[no-untyped-def]
    """PostgreSQL counts a grade range that the planner expects to hold most grade rows as the graded rows
    (tallied) minus those below and above it. Forced for every range here (any size, any estimate), the
    counts and pages still agree with the recount, before and after overrides move rows across the bounds."""
    monkeypatch.setattr(gradebook_module, "COUNT_AS_IS", 0)
    monkeypatch.setattr(gradebook_module, "_estimated_rows", lambda session, query: float("inf"))
    check_all(grades_db, world, "counted from the other side")
    with grades_db.session() as s:  # a few overrides across the bounds
        lid, aid = world.lecture_id, world.assignment_ids[0]
        snaps = ensure_snapshots(s, counted_assignments(s, lid))
        learners = lock_learners(s, lid, world.user_ids[:6])
        for uid, earned in zip(learners, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0], strict=True):
            grade = get_or_create_grade(s, lid, uid, aid, snaps[aid])
            set_override(s, grade, {"earned_graded_override": earned}, actor_id=None, system="api")
        s.commit()
    for uid in world.user_ids[:6]:
        recompute_learner(grades_db.session_factory, lid, uid)
    check_all(grades_db, world, "counted from the other side, after overrides")

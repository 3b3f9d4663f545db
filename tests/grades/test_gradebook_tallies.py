"""The gradebook tallies (PostgreSQL triggers, migration 0007) always sum to a recount of the rows they tally,
whatever writes them: the ORM, plain SQL, COPY, role changes, removals, cascades; and folding them (also
while writers append, and two folds at once) keeps the sums."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select, text, update

from grader_service.grades.gradebook import GradebookFilters, gradebook_counts
from grader_service.grades.recompute import create_recompute_job, run_lecture_recompute
from grader_service.grades.tallies import FOLD_AT, fold, tallies
from grader_service.orm.grades import TALLY_MEMBERS, GradebookTally
from grader_service.orm.migrate import upgrade
from grader_service.orm.models import Lecture, LectureMember, Role, User
from grader_service.orm.session import Database
from tests.grades.seed import seed_lecture

POLICY = {
    "GRADER": [{"type": "Homework", "min_count": 2, "drop_count": 0, "weight": 1.0, "short_label": "HW"}],
    "GRADE_CUTOFFS": {"A": 0.8, "B": 0.5},
}
RECOUNT = text("""
SELECT lecture_id, 0, role, count(*) FROM lecture_members GROUP BY 1, 2, 3
UNION ALL SELECT lecture_id, -1, member_role, count(*) FROM lecture_grades
           WHERE member_role IS NOT NULL GROUP BY 1, 2, 3
UNION ALL SELECT lecture_id, assignment_id, member_role, count(*) FROM assignment_grades
           WHERE member_role IS NOT NULL GROUP BY 1, 2, 3
""")
SUMS = text(
    "SELECT lecture_id, scope, role, sum(n) FROM gradebook_tallies GROUP BY 1, 2, 3 HAVING sum(n) <> 0"
)


@pytest.fixture(scope="module")
def pg(make_db_url) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """PostgreSQL only: SQLite keeps no tallies (its counts join the tables)."""
    db = Database(make_db_url("postgresql"), threads=4)
    upgrade(db.engine)
    yield db
    db.close()


def assert_tallies_agree(db: Database, when: str) -> None:
    with db.session() as s:
        recount = {tuple(r[:3]): r[3] for r in s.execute(RECOUNT)}
        sums = {tuple(r[:3]): r[3] for r in s.execute(SUMS)}
    assert sums == recount, when


def seeded(db: Database, learners: int = 12) -> tuple[int, list[int], list[int]]:
    with db.session() as s:
        lecture = seed_lecture(
            s,
            learners=learners,
            assignments=[{"type": "Homework"}] * 3,
            policy=POLICY,
            submissions_per=(1, 2),
        )
        job = create_recompute_job(
            s, lecture.lecture_id, reason="seed", assignment_ids=lecture.assignment_ids
        )
        s.commit()
    run_lecture_recompute(db.session_factory, job.id)
    return lecture.lecture_id, lecture.user_ids, lecture.assignment_ids


def test_tallies_follow_every_kind_of_write(pg):  # type: ignore[no-untyped-def]
    lid, users, assignments = seeded(pg)
    other, _, _ = seeded(pg, learners=3)
    assert_tallies_agree(pg, "seeded (bulk inserts, the recompute's upserts)")
    with pg.session() as s:  # role changes through the ORM move the member and their grade rows
        for uid in users[:2]:
            s.execute(
                update(LectureMember)
                .where(LectureMember.lecture_id == lid, LectureMember.user_id == uid)
                .values(role=Role.tutor)
            )
        s.commit()
    assert_tallies_agree(pg, "two students became tutors")
    with pg.session() as s:  # a removal leaves the grade rows, no longer counted (member_role NULL)
        s.execute(
            delete(LectureMember).where(LectureMember.lecture_id == lid, LectureMember.user_id == users[2])
        )
        s.commit()
    assert_tallies_agree(pg, "a learner removed")
    with pg.session() as s:  # ... and rejoining counts them again
        s.add(LectureMember(lecture_id=lid, user_id=users[2], role=Role.student))
        s.commit()
    assert_tallies_agree(pg, "the learner rejoined")
    with pg.session() as s:  # plain SQL, and the same user in a second lecture
        s.execute(
            text(
                "INSERT INTO lecture_members (lecture_id, user_id, role, created_at) "
                "VALUES (:l, :u, 'instructor', now())"
            ),
            {"l": other, "u": users[3]},
        )
        s.execute(
            text("UPDATE lecture_members SET role = 'student' WHERE lecture_id = :l AND role = 'tutor'"),
            {"l": lid},
        )
        s.commit()
    assert_tallies_agree(pg, "plain SQL")
    with pg.session() as s:  # COPY (how the benchmark loads a lecture)
        names = [f"copied-{lid}-{i}" for i in range(4)]
        for name in names:
            s.add(User(name=name))
        s.flush()
        ids = list(s.scalars(select(User.id).where(User.name.in_(names))))
        raw = s.connection().connection.dbapi_connection
        with (
            raw.cursor() as cur,
            cur.copy("COPY lecture_members (lecture_id, user_id, role, created_at) FROM STDIN") as copy,
        ):
            for uid in ids:
                copy.write_row((lid, uid, "student", "2026-11-23T00:00:00+00:00"))
        s.commit()
    assert_tallies_agree(pg, "COPY")
    with pg.session() as s:  # an assignment deleted: its grade rows go by cascade
        s.execute(text("DELETE FROM assignments WHERE id = :a"), {"a": assignments[0]})
        s.commit()
    assert_tallies_agree(pg, "an assignment deleted")
    with pg.session() as s:  # a lecture deleted: its members, grades and tallies go by cascade
        s.execute(delete(Lecture).where(Lecture.id == other))
        s.commit()
        assert not s.scalars(select(GradebookTally.id).where(GradebookTally.lecture_id == other)).all()
    assert_tallies_agree(pg, "a lecture deleted")
    with pg.session() as s:
        assert gradebook_counts(s, lid, GradebookFilters()) == (16, 16)
        assert gradebook_counts(s, lid, GradebookFilters(excluded_roles=frozenset())) == (16, 16)


def test_folding_keeps_the_sums_alongside_writers_and_other_folds(pg):  # type: ignore[no-untyped-def]
    lid, users, _ = seeded(pg, learners=4)
    with pg.session() as s:  # many statements: a tally row each
        for uid in users:
            for role in (Role.tutor, Role.student) * 10:
                s.execute(
                    update(LectureMember)
                    .where(LectureMember.lecture_id == lid, LectureMember.user_id == uid)
                    .values(role=role)
                )
                s.commit()
        pieces = s.scalar(
            select(text("count(*)"))
            .select_from(GradebookTally)
            .where(GradebookTally.lecture_id == lid, GradebookTally.scope == TALLY_MEMBERS)
        )
    assert pieces > FOLD_AT
    errors: list[BaseException] = []

    def folder() -> None:
        try:
            for _ in range(5):
                with pg.session() as s:
                    fold(s, lid, [TALLY_MEMBERS, -1])
        except BaseException as exc:  # reported below
            errors.append(exc)

    def writer() -> None:
        try:
            for i in range(20):
                with pg.session() as s:
                    s.execute(
                        update(LectureMember)
                        .where(LectureMember.lecture_id == lid, LectureMember.user_id == users[i % 4])
                        .values(role=Role.tutor if i % 2 == 0 else Role.student)
                    )
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=folder),
        threading.Thread(target=folder),
        threading.Thread(target=writer),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert_tallies_agree(pg, "folded while writing")
    with pg.session() as s:  # a read that finds them piled up folds them aside
        for _ in range(FOLD_AT + 1):
            s.execute(
                update(LectureMember)
                .where(LectureMember.lecture_id == lid, LectureMember.user_id == users[0])
                .values(role=Role.tutor)
            )
            s.execute(
                update(LectureMember)
                .where(LectureMember.lecture_id == lid, LectureMember.user_id == users[0])
                .values(role=Role.student)
            )
        s.commit()
        roles = dict(
            s.execute(
                select(LectureMember.role, text("count(*)"))
                .where(LectureMember.lecture_id == lid)
                .group_by(LectureMember.role)
            ).all()
        )
        assert tallies(s, lid)[TALLY_MEMBERS] == {role.value: n for role, n in roles.items()}
    for _ in range(50):
        with pg.session() as s:
            rows = s.scalar(
                select(text("count(*)"))
                .select_from(GradebookTally)
                .where(GradebookTally.lecture_id == lid, GradebookTally.scope == TALLY_MEMBERS)
            )
        if rows <= 2:  # one per role
            break
        threading.Event().wait(0.1)
    assert rows <= 2, rows
    assert_tallies_agree(pg, "folded by a read")

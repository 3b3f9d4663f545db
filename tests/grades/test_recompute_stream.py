"""Stream recompute of one learner on SQLite and PostgreSQL: idempotent, first_attempted and passed_timestamp
set once, best/latest, and concurrent updates of the same learner never losing one."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select

from grader_service.grades import grade_lecture, persistence
from grader_service.grades.overrides import get_or_create_grade, set_override
from grader_service.grades.recompute import (
    create_recompute_job,
    recompute_learner,
    recompute_learners,
    run_lecture_recompute,
)
from grader_service.grades.snapshots import ensure_snapshots
from grader_service.orm.base import utcnow
from grader_service.orm.grades import AssignmentGrade, LectureGrade
from grader_service.orm.models import Assignment, Job, JobState, Lecture, Submission
from tests.grades.seed import seed_lecture

POLICY = {
    "GRADER": [{"type": "Homework", "min_count": 0, "drop_count": 0, "weight": 1.0}],
    "GRADE_CUTOFFS": {"Pass": 0.5},
}


def add_submission(db, aid: int, uid: int, score: float, minutes_ago: int = 0) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        s.add(
            Submission(
                assignment_id=aid,
                user_id=uid,
                submitted_at=utcnow() - timedelta(minutes=minutes_ago),
                auto_score=score,
                score=score,
                final_score=score,
                late_scaling=1.0,
            )
        )
        s.commit()


def rows(db, lecture_id: int, uid: int):  # type: ignore[no-untyped-def]
    with db.session() as s:
        grades = {
            g.assignment_id: g
            for g in s.scalars(
                select(AssignmentGrade).where(
                    AssignmentGrade.lecture_id == lecture_id, AssignmentGrade.user_id == uid
                )
            )
        }
        lecture = s.scalars(
            select(LectureGrade).where(LectureGrade.lecture_id == lecture_id, LectureGrade.user_id == uid)
        ).first()
        return grades, lecture


def test_idempotent_and_set_once_fields(grades_db):
    with grades_db.session() as s:
        seeded = seed_lecture(
            s, learners=1, assignments=[{"points": 10}], policy=POLICY, submissions_per=(0, 0)
        )
    uid, aid = seeded.user_ids[0], seeded.assignment_ids[0]
    assert recompute_learner(grades_db.session_factory, seeded.lecture_id, uid).percent == 0.0
    add_submission(grades_db, aid, uid, 3, minutes_ago=30)
    add_submission(grades_db, aid, uid, 8, minutes_ago=20)
    first = recompute_learner(grades_db.session_factory, seeded.lecture_id, uid)
    assert (first.percent, first.letter, first.passed) == (0.8, "Pass", True)
    grades, lecture = rows(grades_db, seeded.lecture_id, uid)
    again = recompute_learner(grades_db.session_factory, seeded.lecture_id, uid)
    grades2, lecture2 = rows(grades_db, seeded.lecture_id, uid)
    assert again == first
    assert (
        grades2[aid].modified == grades[aid].modified and lecture2.modified == lecture.modified
    )  # no rewrite
    first_attempted, passed_at = grades[aid].first_attempted, lecture.passed_timestamp
    assert first_attempted is not None and passed_at is not None
    # a later, lower score under `latest`: drops below passing; first_attempted and passed_timestamp stay
    with grades_db.session() as s:
        s.get(Assignment, aid).grading_basis = "latest"
        s.commit()
    add_submission(grades_db, aid, uid, 2)
    low = recompute_learner(grades_db.session_factory, seeded.lecture_id, uid)
    assert (low.percent, low.letter, low.passed) == (0.2, "", False)
    grades3, lecture3 = rows(grades_db, seeded.lecture_id, uid)
    assert grades3[aid].first_attempted == first_attempted and lecture3.passed_timestamp == passed_at
    assert grades3[aid].earned_graded == 2


def test_a_caller_s_unflushed_score_counts(grades_db):
    """recompute_learner on the caller's session reads what that session changed and has not flushed (the
    upsert runs on the session's connection, past the ORM's autoflush: it flushes first itself)."""
    with grades_db.session() as s:
        seeded = seed_lecture(
            s, learners=1, assignments=[{"points": 10}], policy=POLICY, submissions_per=(0, 0)
        )
    uid, aid = seeded.user_ids[0], seeded.assignment_ids[0]
    add_submission(grades_db, aid, uid, 3)
    with grades_db.session() as s:
        submission = s.scalars(select(Submission).where(Submission.user_id == uid)).one()
        submission.score = submission.auto_score = submission.final_score = 9
        assert s.dirty
        assert recompute_learner(s, seeded.lecture_id, uid).percent == 0.9
        s.commit()
    grades, _ = rows(grades_db, seeded.lecture_id, uid)
    assert grades[aid].earned_graded == 9


def test_not_a_member_or_no_lecture_is_a_no_op(grades_db):
    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=1, assignments=[{"points": 10}], submissions_per=(0, 0))
    assert recompute_learner(grades_db.session_factory, seeded.lecture_id, 999_999_999) is None
    assert recompute_learner(grades_db.session_factory, 999_999_999, seeded.user_ids[0]) is None


def test_concurrent_updates_of_one_learner_lose_nothing(grades_db, monkeypatch):
    """Each thread commits a new scored submission, then recomputes the learner. Whatever the interleaving,
    the last recompute must see every submission: the final grades equal a recompute from scratch. A pause
    between reading the assignment grades and writing the lecture grade widens the race window (without
    the learner lock this test fails)."""
    read = persistence.effective_grades

    def slow_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = read(*args, **kwargs)
        time.sleep(0.02)
        return out

    monkeypatch.setattr(persistence, "effective_grades", slow_read)
    specs = [{"points": 10, "type": "Homework"} for _ in range(8)]
    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=1, assignments=specs, policy=POLICY, submissions_per=(0, 0))
    uid = seeded.user_ids[0]
    for round_ in range(3):
        barrier = threading.Barrier(len(seeded.assignment_ids))
        errors: list[BaseException] = []

        # this round's barrier and error list, bound now (the threads all finish within the round)
        def work(
            aid: int, score: float, barrier: threading.Barrier = barrier, errors: list[BaseException] = errors
        ) -> None:
            try:
                barrier.wait()
                add_submission(grades_db, aid, uid, score)
                recompute_learner(grades_db.session_factory, seeded.lecture_id, uid)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(aid, float((i + round_) % 10 + 1)))
            for i, aid in enumerate(seeded.assignment_ids)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        grades, lecture = rows(grades_db, seeded.lecture_id, uid)
        with grades_db.session() as s:
            best = {
                aid: max(
                    sub.final_score
                    for sub in s.scalars(
                        select(Submission).where(Submission.assignment_id == aid, Submission.user_id == uid)
                    )
                )
                for aid in seeded.assignment_ids
            }
        assert {aid: g.earned_graded for aid, g in grades.items()} == best
        want = grade_lecture(
            POLICY,
            [
                {"type": "Homework", "earned": best[aid], "possible": 10, "graded": True}
                for aid in seeded.assignment_ids
            ],
        )
        assert lecture.percent_grade == want["percent"]


def test_batch_job_lifecycle_and_duplicate_delivery(grades_db):
    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=30, assignments=[{"points": 10}, {"points": 5}], policy=POLICY)
        job = create_recompute_job(
            s, seeded.lecture_id, reason="policy", assignment_ids=seeded.assignment_ids
        )
        s.commit()
        assert job.state == JobState.queued
    run_lecture_recompute(grades_db.session_factory, job.id, chunk_size=7)
    with grades_db.session() as s:
        done = s.get(Job, job.id)
        assert (
            done.state == JobState.succeeded and done.attempts == 1 and done.started_at and done.finished_at
        )
        assert done.result["progress"] == {"done": 30, "total": 30}
        finished_at = done.finished_at
        count = len(s.scalars(select(LectureGrade).where(LectureGrade.lecture_id == seeded.lecture_id)).all())
    assert count == 30
    run_lecture_recompute(grades_db.session_factory, job.id)  # delivered twice: nothing happens
    with grades_db.session() as s:
        assert s.get(Job, job.id).finished_at == finished_at and s.get(Job, job.id).attempts == 1
    # a lecture deleted meanwhile: the job fails and says why
    with grades_db.session() as s:
        s.get(Lecture, seeded.lecture_id).deleted_at = utcnow()
        gone = create_recompute_job(s, seeded.lecture_id, reason="policy")
        s.commit()
    run_lecture_recompute(grades_db.session_factory, gone.id)
    with grades_db.session() as s:
        failed = s.get(Job, gone.id)
        assert failed.state == JobState.failed and "no longer exists" in failed.error


def test_progress_is_visible_while_the_batch_runs(grades_db):
    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=40, assignments=[{"points": 10}], policy=POLICY)
        job = create_recompute_job(s, seeded.lecture_id, reason="policy")
        s.commit()
    observed: list[int] = []

    class Watching:
        """A session factory that reads the job's progress from a second connection after each chunk."""

        def __call__(self):  # type: ignore[no-untyped-def]
            session = grades_db.session()
            original = session.commit

            def commit() -> None:
                original()
                with grades_db.session() as other:
                    result = other.get(Job, job.id).result or {}
                    observed.append(result.get("progress", {}).get("done", -1))

            session.commit = commit  # type: ignore[method-assign]
            return session

    run_lecture_recompute(Watching(), job.id, chunk_size=10)
    assert [n for n in observed if n > 0][:4] == [10, 20, 30, 40]


def test_concurrent_overrides_and_recomputes_of_one_learner_lose_nothing(grades_db, monkeypatch):
    """Like a bulk update: each thread overrides a different assignment and recomputes the learner's lecture
    grade in the same transaction. Without the learner lock, the last writer on PostgreSQL would store a
    lecture grade that misses the other threads' overrides."""
    read = persistence.effective_grades

    def slow_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = read(*args, **kwargs)
        time.sleep(0.05)
        return out

    monkeypatch.setattr(persistence, "effective_grades", slow_read)
    specs = [{"points": 10, "type": "Homework"} for _ in range(6)]
    with grades_db.session() as s:
        seeded = seed_lecture(s, learners=1, assignments=specs, policy=POLICY, submissions_per=(0, 0))
        snapshots = ensure_snapshots(
            s, s.scalars(select(Assignment).where(Assignment.id.in_(seeded.assignment_ids))).all()
        )
        s.commit()
    uid = seeded.user_ids[0]
    barrier = threading.Barrier(len(specs))
    errors: list[BaseException] = []

    def work(aid: int, score: float) -> None:
        try:
            with grades_db.session() as s:
                barrier.wait()
                grade = get_or_create_grade(s, seeded.lecture_id, uid, aid, snapshots[aid])
                set_override(s, grade, {"earned_graded_override": score}, actor_id=None, system="api")
                recompute_learners(s, s.get(Lecture, seeded.lecture_id), [uid])
                s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(aid, float(i + 4))) for i, aid in enumerate(seeded.assignment_ids)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    _, lecture = rows(grades_db, seeded.lecture_id, uid)
    want = grade_lecture(
        POLICY,
        [
            {"type": "Homework", "earned": float(i + 4), "possible": 10, "graded": True}
            for i in range(len(specs))
        ],
    )
    assert lecture.percent_grade == want["percent"]

"""Work is enqueued only after the transaction commits, and dropped on rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from grader_service.orm.session import Database
from grader_service.services.dispatch import InlineDispatcher, RecordingDispatcher, enqueue


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'd.sqlite'}", threads=1)
    yield database
    database.close()


def test_sent_after_commit_only(db):
    rec = RecordingDispatcher()
    db.install_dispatcher(rec)
    with db.session() as s:
        enqueue(s, "grades.recompute_learner", lecture_id=1, user_id=2)
        assert rec.sent == []
        s.commit()
    assert rec.sent == [("grades.recompute_learner", {"lecture_id": 1, "user_id": 2})]


def test_dropped_on_rollback(db):
    rec = RecordingDispatcher()
    db.install_dispatcher(rec)
    with db.session() as s:
        s.execute(text("SELECT 1"))
        enqueue(s, "grades.recompute_learner", lecture_id=1, user_id=2)
        s.rollback()
        s.commit()
    assert rec.sent == []


def test_unknown_task_is_refused(db):
    with db.session() as s, pytest.raises(ValueError, match="unknown task"):
        enqueue(s, "grades.typo")


def test_inline_dispatcher_runs_registered_functions(db):
    inline = InlineDispatcher()
    seen = []
    inline.register("grades.recompute_lecture", lambda job_id: seen.append(job_id))
    db.install_dispatcher(inline)
    with db.session() as s:
        enqueue(s, "grades.recompute_lecture", job_id=7)
        s.commit()
    inline.drain()
    inline.close()
    assert seen == [7]

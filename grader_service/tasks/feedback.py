"""The feedback task bodies: render a submission's pages from its graded notebooks and grading record,
commit them to the staff-only `autograde` repo (branch feedback-<id>), and on release publish them to the
student's `feedback` repo (folder <submission id>/). One submission per job, or many with progress."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from grader_service.convert import ConvertError, generate_feedback
from grader_service.executors.outputs import collect_files
from grader_service.git.names import RepoRef
from grader_service.git.store import BranchMoved, StoreError
from grader_service.orm.base import utcnow
from grader_service.orm.grading import SCORED, GradingCell
from grader_service.orm.models import FeedbackStatus, Job, JobState, Submission
from grader_service.services import grading_record as rec
from grader_service.services import jobs
from grader_service.services.feedback import feedback_branch
from grader_service.services.feedback_state import outdated
from grader_service.tasks.context import WorkerContext

MAX_PAGES_BYTES = 256 << 20


class FeedbackFailed(Exception):
    """This submission's feedback cannot be made (the message says why; it is shown to staff)."""


@dataclass
class Prepared:
    """What rendering needs, read in one short transaction (rendering and git run outside it)."""

    submission_id: int
    lecture_code: str
    assignment_id: int
    username: str
    gradebook: dict[str, Any]
    revision: int
    graded: tuple[RepoRef, str]
    scores: dict[str, Any] = field(default_factory=dict)
    #: pages generated at this revision already (a release publishes them without rendering again)
    current_commit: str | None = None


def notebook_scores(cells: list[GradingCell]) -> dict[str, Any]:
    """Per notebook: totals, each scored cell's score and status, and the comments (the tutor's first)."""
    out: dict[str, Any] = {}
    for notebook in sorted({c.notebook for c in cells}):
        mine = [c for c in cells if c.notebook == notebook]
        sums = rec.totals(mine)
        verdicts = {}
        for c in mine:
            if c.kind not in SCORED:
                continue
            status = "manual" if c.manual_score is not None else c.auto_status or ""
            verdicts[c.grade_id] = {
                "score": rec.effective_score(c),
                "max_score": c.max_points,
                "status": "needs_manual" if rec.needs_manual(c) else status,
            }
        out[notebook] = {
            "score": sums["score"] if sums["score"] is not None else 0.0,
            "max_score": sums["max_points"],
            "needs_manual": sums["needs_manual"] > 0,
            "cells": verdicts,
            "comments": {
                c.grade_id: c.comment or c.auto_comment for c in mine if c.comment or c.auto_comment
            },
        }
    return out


def _prepare(session: Session, submission_id: int, *, regenerate: bool) -> Prepared:
    sub = session.get(Submission, submission_id)
    record = rec.record_for(session, submission_id)
    if sub is None or record is None:
        raise FeedbackFailed("the submission has no grading record yet (autograde has not run)")
    assignment = sub.assignment
    if not assignment.gradebook:
        raise FeedbackFailed("the assignment has no gradebook (generate it first)")
    code, aid, username = assignment.lecture.code, assignment.id, sub.user.name
    if record.autograde_commit:
        graded = (RepoRef(code, str(aid), "autograde", username), record.autograde_commit)
    else:  # grading failed: show the graded version as handed in, with the scores the tutors gave
        kind, owner = ("edit", str(sub.id)) if record.version == "edit" else ("user", username)
        graded = (RepoRef(code, str(aid), kind, owner), record.graded_commit or sub.commit_hash or "")
    current = record.feedback_commit if record.feedback_commit and not outdated(record) else None
    return Prepared(
        submission_id=sub.id,
        lecture_code=code,
        assignment_id=aid,
        username=username,
        gradebook=assignment.gradebook,
        revision=record.revision,
        graded=graded,
        scores={"notebooks": notebook_scores(rec.cells_of(session, sub.id))},
        current_commit=None if regenerate else current,
    )


def _render(ctx: WorkerContext, prep: Prepared) -> tuple[str, list[str]]:
    """Pages of every notebook → a commit of the autograde repo's feedback branch; (commit, page paths)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"feedback-{prep.submission_id}-", dir=ctx.scratch_root))
    try:
        ref, commit = prep.graded
        ctx.store.export(ref, commit, workdir / "graded")
        generate_feedback(workdir / "graded", workdir / "pages", prep.gradebook, result=prep.scores)
        files = collect_files(workdir / "pages", MAX_PAGES_BYTES) if (workdir / "pages").is_dir() else {}
    except (ConvertError, StoreError) as exc:
        raise FeedbackFailed(f"rendering the feedback failed: {exc}") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not files:
        raise FeedbackFailed("no graded notebook of the assignment is in the graded version")
    target = RepoRef(prep.lecture_code, str(prep.assignment_id), "autograde", prep.username)
    made = ctx.store.commit_tree(
        target,
        files,
        f"Feedback for submission {prep.submission_id}",
        branch=feedback_branch(prep.submission_id),
    )
    return made, sorted(files)


def _publish(ctx: WorkerContext, prep: Prepared, commit: str) -> str:
    """Put the pages of `commit` into the student's feedback repo under <submission id>/ (others kept)."""
    source = RepoRef(prep.lecture_code, str(prep.assignment_id), "autograde", prep.username)
    pages = {p: ctx.store.read_file(source, commit, p) for p in ctx.store.list_files(source, commit)}
    target = RepoRef(prep.lecture_code, str(prep.assignment_id), "feedback", prep.username)
    prefix = f"{prep.submission_id}/"
    for _ in range(5):  # another submission's release may move the branch between our read and commit
        head = ctx.store.head(target)
        files = {}
        if head:
            files = {
                p: ctx.store.read_file(target, head, p)
                for p in ctx.store.list_files(target, head)
                if not p.startswith(prefix)
            }
        files.update({prefix + p: content for p, content in pages.items()})
        try:
            return ctx.store.commit_tree(
                target, files, f"Feedback for submission {prep.submission_id}", parent=head
            )
        except BranchMoved:
            continue
    raise FeedbackFailed("the feedback repository kept moving; try again")


def produce(ctx: WorkerContext, submission_id: int, *, release: bool, regenerate: bool) -> dict[str, Any]:
    """Render (unless current pages exist and only a release is asked) and optionally release; records the
    outcome on the submission. Raises FeedbackFailed after recording the failure."""
    started = time.perf_counter()
    try:
        with ctx.db.session() as session:
            prep = _prepare(session, submission_id, regenerate=regenerate or not release)
        if prep.current_commit:
            commit = prep.current_commit
            with ctx.db.session() as session:
                record = rec.record_for(session, submission_id)
                pages = list(record.feedback_pages or []) if record else []
        else:
            commit, pages = _render(ctx, prep)
        released = _publish(ctx, prep, commit) if release else None
    except (FeedbackFailed, StoreError) as exc:
        _record_failure(ctx, submission_id, str(exc))
        raise FeedbackFailed(str(exc)) from exc
    seconds = round(time.perf_counter() - started, 3)
    with ctx.db.session() as session:
        sub = session.get(Submission, submission_id, with_for_update=True)
        record = rec.record_for(session, submission_id)
        if sub is not None and record is not None:
            now = utcnow()
            if commit != record.feedback_commit:
                record.feedback_commit, record.feedback_pages = commit, pages
                record.feedback_revision, record.feedback_generated_at = prep.revision, now
            record.feedback_error = None
            if released:
                record.feedback_released_commit, record.feedback_released_at = released, now
                sub.feedback_status = FeedbackStatus.released
            elif sub.feedback_status != FeedbackStatus.released:
                sub.feedback_status = FeedbackStatus.generated
        session.commit()
    return {"submission_id": submission_id, "pages": pages, "released": bool(released), "seconds": seconds}


def _record_failure(ctx: WorkerContext, submission_id: int, error: str) -> None:
    with ctx.db.session() as session:
        sub = session.get(Submission, submission_id)
        record = rec.record_for(session, submission_id)
        if record is not None:
            record.feedback_error = error
        if sub is not None and sub.feedback_status != FeedbackStatus.released:
            sub.feedback_status = FeedbackStatus.generation_failed
        session.commit()


def generate(ctx: WorkerContext, job_id: int) -> str:
    """One submission's feedback job (payload.release: publish it too)."""
    with ctx.db.session() as session:
        job = jobs.claim(session, job_id, ctx.name)
        if job is None:
            session.commit()
            return "skipped"
        attempt, submission_id = job.attempts, job.submission_id
        release = bool((job.payload or {}).get("release"))
        session.commit()
    assert submission_id is not None
    try:
        outcome: dict[str, Any] | None = produce(ctx, submission_id, release=release, regenerate=not release)
        error = None
    except FeedbackFailed as exc:
        outcome, error = None, str(exc)
    with ctx.db.session() as session:
        job = jobs.lock_for_finish(session, job_id, attempt)
        if job is not None:
            if error is None:
                jobs.finish(job, JobState.succeeded, result=outcome, log=_log_line(outcome))
            else:
                jobs.finish(job, JobState.failed, error=error, log=error)
        session.commit()
    return error or _log_line(outcome)


def _log_line(outcome: dict[str, Any] | None) -> str:
    if not outcome:
        return ""
    verb = "generated and released" if outcome["released"] else "generated"
    pages = len(outcome["pages"])
    return f"submission {outcome['submission_id']}: {verb} {pages} page(s) in {outcome['seconds']} s"


def bulk(ctx: WorkerContext, job_id: int) -> str:
    """Many submissions' feedback in one job, its progress committed after each submission."""
    with ctx.db.session() as session:
        job = jobs.claim(session, job_id, ctx.name)
        if job is None:
            session.commit()
            return "skipped"
        attempt = job.attempts
        payload = dict(job.payload or {})
        ids = [int(i) for i in payload.get("ids", [])]
        job.result = {"progress": {"done": 0, "total": len(ids)}}
        session.commit()
    release = payload.get("action") == "release"
    failed: list[dict[str, Any]] = []
    seconds: list[float] = []
    for done, submission_id in enumerate(ids, start=1):
        try:
            seconds.append(produce(ctx, submission_id, release=release, regenerate=not release)["seconds"])
        except FeedbackFailed as exc:
            failed.append({"submission_id": submission_id, "error": str(exc)})
        with ctx.db.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.state != JobState.running or job.attempts != attempt:
                session.rollback()
                return "discarded: the job was cancelled or re-claimed"
            job.result = {"progress": {"done": done, "total": len(ids)}, "failed": failed}
            session.commit()
    with ctx.db.session() as session:
        job = jobs.lock_for_finish(session, job_id, attempt)
        if job is not None:
            result = {
                "progress": {"done": len(ids), "total": len(ids)},
                "failed": failed,
                "succeeded": len(ids) - len(failed),
                "seconds_per_submission": round(sum(seconds) / len(seconds), 3) if seconds else None,
            }
            line = f"{payload.get('action')}: {len(ids) - len(failed)} of {len(ids)} submission(s)"
            jobs.finish(job, JobState.succeeded, result=result, log=line)
        session.commit()
    return f"bulk feedback job {job_id} done"

"""The generate task body: source repo head → student version in `release` + the assignment's gradebook."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from grader_service.convert import ConvertError, generate_assignment
from grader_service.convert.gradebook_changes import gradebook_changes
from grader_service.executors.outputs import collect_files
from grader_service.git.names import RepoRef
from grader_service.git.store import StoreError
from grader_service.orm.base import utcnow
from grader_service.orm.models import Assignment, JobState
from grader_service.services import jobs
from grader_service.tasks.context import WorkerContext


def generate(ctx: WorkerContext, job_id: int) -> str:
    with ctx.db.session() as session:
        job = jobs.claim(session, job_id, ctx.name)
        if job is None:
            session.commit()
            return "skipped"
        attempt = job.attempts
        assignment = session.get(Assignment, job.assignment_id)
        assert assignment is not None
        lecture_code, assignment_id = assignment.lecture.code, assignment.id
        session.commit()

    source = RepoRef(lecture_code, str(assignment_id), "source")
    head = ctx.store.head(source) if ctx.store.exists(source) else None
    error = book = release_commit = None
    if head is None:
        error = "the source repository has no commits yet: push the assignment's notebooks to it first"
    else:
        workdir = Path(tempfile.mkdtemp(prefix=f"generate-job{job_id}-", dir=ctx.scratch_root))
        try:
            ctx.store.export(source, head, workdir / "source")
            book = generate_assignment(workdir / "source", workdir / "release")
            files = collect_files(workdir / "release", 512 << 20)
            release_commit = ctx.store.commit_tree(
                RepoRef(lecture_code, str(assignment_id), "release"),
                files,
                f"Release generated from source {head[:12]}",
            )
        except (ConvertError, StoreError) as exc:
            error = f"generating the assignment failed: {exc}"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    with ctx.db.session() as session:
        job = jobs.lock_for_finish(session, job_id, attempt)
        if job is None:
            session.rollback()
            return "discarded"
        assignment = session.get(Assignment, assignment_id)
        assert assignment is not None
        if error is None and book is not None:
            # a regeneration says what changed for the students and the grades (None the first time)
            changes = gradebook_changes(assignment.gradebook, book) if assignment.gradebook else None
            assignment.gradebook = book
            assignment.source_commit = head
            assignment.release_commit = release_commit
            assignment.generated_at = utcnow()
            assignment.points = float(book.get("max_score") or 0.0)
            notebooks = sorted(book.get("notebooks", {}))
            jobs.finish(
                job,
                JobState.succeeded,
                log=f"generated {len(notebooks)} notebook(s): {', '.join(notebooks)}; "
                f"max score {assignment.points:g}; release commit {release_commit}",
                result={
                    "release_commit": release_commit,
                    "source_commit": head,
                    "max_score": assignment.points,
                    "notebooks": notebooks,
                    "regenerated": changes is not None,
                    "changes": changes,
                },
            )
        else:
            jobs.finish(job, JobState.failed, error=error, log=error)
        session.commit()
    return error or f"generated release {release_commit}"

"""/api/lectures/{lid}/assignments/{aid}/submissions: hand in, list, grade, read logs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from grader_service.api import serialize
from grader_service.api.assignments import AID
from grader_service.api.base import ApiHandler
from grader_service.api.lectures import LID
from grader_service.auth.decorators import requires
from grader_service.auth.roles import Actor
from grader_service.git.store import RepoStore
from grader_service.orm.models import Submission
from grader_service.schemas.requests import SubmissionCreate, SubmissionUpdate
from grader_service.schemas.responses import resources as out
from grader_service.services import submissions as svc
from grader_service.services.grading import autograde_state
from grader_service.services.manual_grading import scores_visible
from grader_service.services.settings import Limits

SID = r"(?P<submission_id>\d{1,18})"
BASE = rf"/api/lectures/{LID}/assignments/{AID}/submissions"


def _view(actor: Actor, s: Submission, name: str, lid: int) -> out.Submission:
    hide = not actor.is_staff(lid) and not scores_visible(s)
    return serialize.submission(s, name, lid, hide_scores=hide)


def _list(
    session: Session,
    actor: Actor,
    lid: int,
    aid: int,
    user: str | None,
    filter_: str | None,
    needs_manual: bool | None,
    auto_status: str | None,
) -> list[out.Submission]:
    rows = svc.list_submissions(
        session, actor, lid, aid, user, filter_, needs_manual=needs_manual, auto_status=auto_status
    )
    return [_view(actor, s, name, lid) for s, name in rows]


def _create(
    session: Session,
    actor: Actor,
    lid: int,
    aid: int,
    body: SubmissionCreate,
    limits: Limits,
    store: RepoStore,
) -> out.Submission:
    return _view(actor, svc.create_submission(session, actor, lid, aid, body, limits, store), actor.name, lid)


def _get(session: Session, actor: Actor, lid: int, aid: int, sid: int) -> out.Submission:
    submission, name = svc.get_submission_view(session, actor, lid, aid, sid)
    view = _view(actor, submission, name, lid)
    view.autograde = autograde_state(session, submission, with_log=actor.is_staff(lid))
    return view


def _update(
    session: Session, actor: Actor, lid: int, aid: int, sid: int, body: SubmissionUpdate
) -> out.Submission:
    return serialize.submission(*svc.update_submission(session, actor, lid, aid, sid, body), lid)


class SubmissionListHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "Submissions: my own (students) or everyone's (tutors, instructors)",
            "query": {
                "user": "only this user's (staff)",
                "filter": "latest or best: one per user",
                "needs_manual": "true: only submissions with a cell waiting for a human (false: none)",
                "auto_status": "pending, running, automatically_graded or grading_failed",
            },
            "response": list[out.Submission],
        },
        "post": {
            "summary": "Hand in a commit of my `user` repo (default: its newest commit); queues "
            "autograde. 400 for a commit not in the repo; 409 when not released, closed, past "
            "the deadline and late periods, or over the maximum number of submissions",
            "body": SubmissionCreate,
            "response": out.Submission,
            "responses": {"201": "recorded", "409": "refused, with the reason"},
        },
    }

    @requires("submissions:read")
    async def get(self, lecture_id: str, assignment_id: str) -> None:
        user = self.get_query_argument("user", None)
        filter_ = self.get_query_argument("filter", None)
        needs_manual = (
            self.query_bool("needs_manual") if self.get_query_argument("needs_manual", "") else None
        )
        auto_status = self.get_query_argument("auto_status", None) or None
        self.write_json(
            await self.call(
                _list,
                self.actor,
                int(lecture_id),
                int(assignment_id),
                user,
                filter_,
                needs_manual,
                auto_status,
            )
        )

    @requires("submissions:create")
    async def post(self, lecture_id: str, assignment_id: str) -> None:
        body = self.parse_body(SubmissionCreate) if self.request.body.strip() else SubmissionCreate()
        self.write_json(
            await self.call(
                _create,
                self.actor,
                int(lecture_id),
                int(assignment_id),
                body,
                self.settings["limits"],
                self.settings["git_store"],
            ),
            status=201,
        )


class SubmissionHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "One submission with its autograde job (state, error; the log for tutors and "
            "instructors). Students see only their own",
            "response": out.Submission,
        },
        "patch": {
            "summary": "Set auto_status or manual_status (tutors, instructors). Scores are set cell by "
            "cell (PATCH .../grading); feedback_status is set by the system only",
            "body": SubmissionUpdate,
            "response": out.Submission,
        },
    }

    @requires("submissions:read")
    async def get(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        self.write_json(
            await self.call(_get, self.actor, int(lecture_id), int(assignment_id), int(submission_id))
        )

    @requires("submissions:grade")
    async def patch(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        body = self.parse_body(SubmissionUpdate)
        self.write_json(
            await self.call(
                _update, self.actor, int(lecture_id), int(assignment_id), int(submission_id), body
            )
        )


class SubmissionLogsHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "The autograde log of a submission (tutors, instructors)",
            "response": out.SubmissionLogs,
        }
    }

    @requires("submissions:logs")
    async def get(self, lecture_id: str, assignment_id: str, submission_id: str) -> None:
        self.write_json(
            await self.call(
                svc.submission_logs, self.actor, int(lecture_id), int(assignment_id), int(submission_id)
            )
        )


default_handlers = [
    (BASE, SubmissionListHandler),
    (rf"{BASE}/{SID}", SubmissionHandler),
    (rf"{BASE}/{SID}/logs", SubmissionLogsHandler),
]

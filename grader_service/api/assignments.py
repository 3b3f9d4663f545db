"""/api/lectures/{lid}/assignments[/{aid}]: assignments and their settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from grader_service.api import serialize
from grader_service.api.base import ApiHandler
from grader_service.api.lectures import LID
from grader_service.auth.decorators import requires
from grader_service.auth.roles import Actor
from grader_service.orm.models import Assignment
from grader_service.schemas.requests import AssignmentCreate, AssignmentUpdate
from grader_service.schemas.responses import resources as out
from grader_service.services import assignments as svc
from grader_service.services.access import get_assignment, get_lecture
from grader_service.services.extensions import effective_deadline, own_extensions
from grader_service.services.git_access import repo_urls
from grader_service.services.settings import Limits

AID = r"(?P<assignment_id>\d{1,18})"


def _view(
    session: Session,
    actor: Actor,
    a: Assignment,
    public_url: str,
    lecture_code: str | None = None,
    own: dict[int, datetime] | None = None,
) -> out.Assignment:
    repos = repo_urls(public_url, lecture_code or a.lecture.code, a, actor)
    view = serialize.assignment(a, repos, staff=actor.is_staff(a.lecture_id))
    if own is None:
        own = own_extensions(session, actor, a.lecture_id)
    if a.id in own:  # the caller's own deadline: what their hand-in and late scaling use
        view.extended_deadline = effective_deadline(a, own[a.id])
    return view


def _list(session: Session, actor: Actor, lecture_id: int, public_url: str) -> list[out.Assignment]:
    code = get_lecture(session, actor, lecture_id).code  # one lecture for every row (no query per row)
    own = own_extensions(session, actor, lecture_id)  # and one read of the caller's extensions
    return [
        _view(session, actor, a, public_url, code, own)
        for a in svc.list_assignments(session, actor, lecture_id)
    ]


def _create(
    session: Session, actor: Actor, lecture_id: int, body: AssignmentCreate, limits: Limits, public_url: str
) -> out.Assignment:
    return _view(session, actor, svc.create_assignment(session, actor, lecture_id, body, limits), public_url)


def _get(
    session: Session, actor: Actor, lecture_id: int, assignment_id: int, public_url: str
) -> out.Assignment:
    return _view(session, actor, get_assignment(session, actor, lecture_id, assignment_id), public_url)


def _update(
    session: Session,
    actor: Actor,
    lecture_id: int,
    assignment_id: int,
    body: AssignmentUpdate,
    limits: Limits,
    public_url: str,
) -> out.Assignment:
    return _view(
        session,
        actor,
        svc.update_assignment(session, actor, lecture_id, assignment_id, body, limits),
        public_url,
    )


class AssignmentListHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "Assignments of the lecture (students never see unreleased ones)",
            "response": list[out.Assignment],
        },
        "post": {
            "summary": "Create an assignment",
            "body": AssignmentCreate,
            "response": out.Assignment,
            "responses": {"201": "created"},
        },
    }

    @requires("assignments:read")
    async def get(self, lecture_id: str) -> None:
        self.write_json(await self.call(_list, self.actor, int(lecture_id), self.settings["public_url"]))

    @requires("assignments:write")
    async def post(self, lecture_id: str) -> None:
        body = self.parse_body(AssignmentCreate)
        self.write_json(
            await self.call(
                _create,
                self.actor,
                int(lecture_id),
                body,
                self.settings["limits"],
                self.settings["public_url"],
            ),
            status=201,
        )


class AssignmentHandler(ApiHandler):
    docs = {
        "get": {"summary": "One assignment", "response": out.Assignment},
        "patch": {
            "summary": "Change settings or status (created → released → closed)",
            "body": AssignmentUpdate,
            "response": out.Assignment,
            "responses": {"409": "the status change is not allowed"},
        },
        "delete": {
            "summary": "Soft-delete; 409 while it has submissions unless an admin forces it",
            "query": {"force": "admins only"},
            "responses": {"204": "deleted"},
        },
    }

    @requires("assignments:read")
    async def get(self, lecture_id: str, assignment_id: str) -> None:
        self.write_json(
            await self.call(
                _get, self.actor, int(lecture_id), int(assignment_id), self.settings["public_url"]
            )
        )

    @requires("assignments:write")
    async def patch(self, lecture_id: str, assignment_id: str) -> None:
        body = self.parse_body(AssignmentUpdate)
        self.write_json(
            await self.call(
                _update,
                self.actor,
                int(lecture_id),
                int(assignment_id),
                body,
                self.settings["limits"],
                self.settings["public_url"],
            )
        )

    @requires("assignments:write")
    async def delete(self, lecture_id: str, assignment_id: str) -> None:
        force = self.query_bool("force")
        await self.call(svc.delete_assignment, self.actor, int(lecture_id), int(assignment_id), force)
        self.set_status(204)
        self.finish()


default_handlers = [
    (rf"/api/lectures/{LID}/assignments", AssignmentListHandler),
    (rf"/api/lectures/{LID}/assignments/{AID}", AssignmentHandler),
]

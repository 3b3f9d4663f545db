"""/api/lectures/{lid}/assignments[/{aid}]: assignments and their settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from grader_service.api import serialize
from grader_service.api.base import ApiHandler
from grader_service.api.lectures import LID
from grader_service.auth.decorators import requires
from grader_service.auth.roles import Actor
from grader_service.schemas.requests import AssignmentCreate, AssignmentUpdate
from grader_service.services import assignments as svc
from grader_service.services.access import get_assignment
from grader_service.services.settings import Limits

AID = r"(?P<assignment_id>\d{1,18})"


def _list(session: Session, actor: Actor, lecture_id: int) -> list[dict[str, Any]]:
    return [serialize.assignment(a) for a in svc.list_assignments(session, actor, lecture_id)]


def _create(session: Session, actor: Actor, lecture_id: int, body: AssignmentCreate,
            limits: Limits) -> dict[str, Any]:
    return serialize.assignment(svc.create_assignment(session, actor, lecture_id, body, limits))


def _get(session: Session, actor: Actor, lecture_id: int, assignment_id: int) -> dict[str, Any]:
    return serialize.assignment(get_assignment(session, actor, lecture_id, assignment_id))


def _update(session: Session, actor: Actor, lecture_id: int, assignment_id: int, body: AssignmentUpdate,
            limits: Limits) -> dict[str, Any]:
    return serialize.assignment(svc.update_assignment(session, actor, lecture_id, assignment_id, body, limits))


class AssignmentListHandler(ApiHandler):
    docs = {
        "get": {"summary": "Assignments of the lecture (students never see unreleased ones)"},
        "post": {"summary": "Create an assignment", "body": AssignmentCreate, "responses": {"201": "created"}},
    }

    @requires("assignments:read")
    async def get(self, lecture_id: str) -> None:
        self.write_json(await self.call(_list, self.actor, int(lecture_id)))

    @requires("assignments:write")
    async def post(self, lecture_id: str) -> None:
        body = self.parse_body(AssignmentCreate)
        self.write_json(await self.call(_create, self.actor, int(lecture_id), body, self.settings["limits"]),
                        status=201)


class AssignmentHandler(ApiHandler):
    docs = {
        "get": {"summary": "One assignment"},
        "patch": {"summary": "Change settings or status (created → released → closed)", "body": AssignmentUpdate,
                  "responses": {"409": "the status change is not allowed"}},
        "delete": {"summary": "Soft-delete; 409 while it has submissions unless an admin forces it",
                   "query": {"force": "admins only"}, "responses": {"204": "deleted"}},
    }

    @requires("assignments:read")
    async def get(self, lecture_id: str, assignment_id: str) -> None:
        self.write_json(await self.call(_get, self.actor, int(lecture_id), int(assignment_id)))

    @requires("assignments:write")
    async def patch(self, lecture_id: str, assignment_id: str) -> None:
        body = self.parse_body(AssignmentUpdate)
        self.write_json(await self.call(_update, self.actor, int(lecture_id), int(assignment_id), body,
                                        self.settings["limits"]))

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

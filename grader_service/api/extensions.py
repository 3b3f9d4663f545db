"""/api/lectures/{lid}/assignments/{aid}/extensions[/{username}]: per-student deadline extensions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from grader_service.api.assignments import AID
from grader_service.api.base import ApiHandler
from grader_service.api.lectures import LID
from grader_service.auth.decorators import requires
from grader_service.auth.roles import Actor
from grader_service.schemas.extensions import ExtensionPut, ExtensionView
from grader_service.services import extensions as svc

USERNAME = r"(?P<username>[A-Za-z0-9][A-Za-z0-9._@+-]{0,63})"
BASE = rf"/api/lectures/{LID}/assignments/{AID}/extensions"


def _list(session: Session, actor: Actor, lid: int, aid: int) -> list[dict[str, Any]]:
    return [v.model_dump() for v in svc.list_extensions(session, actor, lid, aid)]


def _get(session: Session, actor: Actor, lid: int, aid: int, username: str) -> dict[str, Any]:
    return svc.get_extension(session, actor, lid, aid, username).model_dump()


def _put(
    session: Session, actor: Actor, lid: int, aid: int, username: str, body: ExtensionPut
) -> tuple[dict[str, Any], bool]:
    view, created = svc.put_extension(session, actor, lid, aid, username, body)
    return view.model_dump(), created


class ExtensionListHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "The assignment's deadline extensions, by username",
            "response": list[ExtensionView],
        }
    }

    @requires("extensions:read")
    async def get(self, lecture_id: str, assignment_id: str) -> None:
        self.write_json(await self.call(_list, self.actor, int(lecture_id), int(assignment_id)))


class ExtensionHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "One student's extension (a student may read their own only)",
            "response": ExtensionView,
        },
        "put": {
            "summary": "Grant or change a student's own deadline; their submissions are rescaled and "
            "their grades recomputed",
            "body": ExtensionPut,
            "response": ExtensionView,
            "responses": {
                "200": "changed",
                "201": "granted",
                "409": "the assignment has no deadline to extend",
            },
        },
        "delete": {
            "summary": "Withdraw the extension; the student's submissions are rescaled to the "
            "assignment's deadline",
        },
    }

    @requires("assignments:read")
    async def get(self, lecture_id: str, assignment_id: str, username: str) -> None:
        self.write_json(await self.call(_get, self.actor, int(lecture_id), int(assignment_id), username))

    @requires("extensions:write")
    async def put(self, lecture_id: str, assignment_id: str, username: str) -> None:
        body = self.parse_body(ExtensionPut)
        view, created = await self.call(_put, self.actor, int(lecture_id), int(assignment_id), username, body)
        self.write_json(view, status=201 if created else 200)

    @requires("extensions:write")
    async def delete(self, lecture_id: str, assignment_id: str, username: str) -> None:
        self.no_body()
        await self.call(svc.delete_extension, self.actor, int(lecture_id), int(assignment_id), username)
        self.set_status(204)
        self.finish()


default_handlers = [
    (BASE, ExtensionListHandler),
    (rf"{BASE}/{USERNAME}", ExtensionHandler),
]

"""/api/lectures and /api/lectures/{id}/members: lectures and their members by role."""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from grader_service.api import serialize
from grader_service.api.base import ApiHandler
from grader_service.auth.decorators import admin_only, authenticated, requires
from grader_service.auth.roles import Actor
from grader_service.schemas.requests import LectureCreate, LectureUpdate, MemberItem, MemberRemoval
from grader_service.schemas.responses import resources as out
from grader_service.services import access
from grader_service.services import lectures as svc

LID = r"(?P<lecture_id>\d{1,18})"
MEMBER_LIST = TypeAdapter(list[MemberItem])
REMOVAL_LIST = TypeAdapter(list[MemberRemoval])


def _list(session: Session, actor: Actor, include_archived: bool) -> list[out.Lecture]:
    return [
        serialize.lecture(lec, actor.role_in(lec.id))
        for lec in svc.list_lectures(session, actor, include_archived)
    ]


def _create(session: Session, actor: Actor, body: LectureCreate) -> out.Lecture:
    return serialize.lecture(svc.create_lecture(session, actor, body))


def _get(session: Session, actor: Actor, lecture_id: int) -> out.Lecture:
    lec = access.get_lecture(session, actor, lecture_id)
    view = serialize.lecture(lec, actor.role_in(lecture_id))
    if actor.is_staff(lecture_id):
        view.member_counts = out.MemberCounts(**svc.member_counts(session, lecture_id))
    return view


def _update(session: Session, actor: Actor, lecture_id: int, body: LectureUpdate) -> out.Lecture:
    return serialize.lecture(svc.update_lecture(session, actor, lecture_id, body), actor.role_in(lecture_id))


class LectureListHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "Lectures I am a member of (all lectures for admins)",
            "query": {"include_archived": "include archived lectures (default true)"},
            "response": list[out.Lecture],
        },
        "post": {
            "summary": "Create a lecture (admins)",
            "body": LectureCreate,
            "response": out.Lecture,
            "responses": {"201": "created", "409": "the code is taken"},
        },
    }

    @authenticated
    async def get(self) -> None:
        include = self.get_query_argument("include_archived", "true") != "false"
        self.write_json(await self.call(_list, self.actor, include))

    @admin_only
    async def post(self) -> None:
        body = self.parse_body(LectureCreate)
        self.write_json(await self.call(_create, self.actor, body), status=201)


class LectureHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "One lecture (with member counts for tutors and instructors)",
            "response": out.Lecture,
        },
        "patch": {
            "summary": "Rename, archive or reactivate a lecture",
            "body": LectureUpdate,
            "response": out.Lecture,
        },
        "delete": {
            "summary": "Soft-delete a lecture; 409 while it has submissions unless an admin forces it",
            "query": {"force": "admins only: delete even with submissions"},
            "responses": {"204": "deleted", "409": "it has submissions"},
        },
    }

    @requires("lecture:read")
    async def get(self, lecture_id: str) -> None:
        self.write_json(await self.call(_get, self.actor, int(lecture_id)))

    @requires("lecture:write")
    async def patch(self, lecture_id: str) -> None:
        body = self.parse_body(LectureUpdate)
        self.write_json(await self.call(_update, self.actor, int(lecture_id), body))

    @requires("lecture:delete")
    async def delete(self, lecture_id: str) -> None:
        force = self.query_bool("force")
        await self.call(svc.delete_lecture, self.actor, int(lecture_id), force)
        self.set_status(204)
        self.finish()


def _members(session: Session, actor: Actor, lecture_id: int, role: str | None) -> list[out.Member]:
    return [serialize.member(u, r) for u, r in svc.list_members(session, actor, lecture_id, role)]


def _upsert(session: Session, actor: Actor, lecture_id: int, items: list[MemberItem]) -> list[out.Member]:
    svc.upsert_members(session, actor, lecture_id, items)
    return _members(session, actor, lecture_id, None)


def _remove(session: Session, actor: Actor, lecture_id: int, items: list[MemberRemoval]) -> list[out.Member]:
    svc.remove_members(session, actor, lecture_id, items)
    return _members(session, actor, lecture_id, None)


class MembersHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "Members of the lecture with their roles",
            "query": {"role": "only this role"},
            "response": list[out.Member],
        },
        "post": {
            "summary": "Add or change members in bulk (users are created on first mention); answers with "
            "every member",
            "body": list[MemberItem],
            "response": list[out.Member],
        },
        "delete": {
            "summary": "Remove members in bulk; answers with the members that remain",
            "body": list[MemberRemoval],
            "response": list[out.Member],
            "responses": {"200": "removed"},
        },
    }

    @requires("members:read")
    async def get(self, lecture_id: str) -> None:
        role = self.get_query_argument("role", None)
        self.write_json(await self.call(_members, self.actor, int(lecture_id), role))

    @requires("members:write")
    async def post(self, lecture_id: str) -> None:
        items = self.parse_body(MEMBER_LIST)
        self.write_json(await self.call(_upsert, self.actor, int(lecture_id), items))

    @requires("members:write")
    async def delete(self, lecture_id: str) -> None:
        items = self.parse_body(REMOVAL_LIST)
        self.write_json(await self.call(_remove, self.actor, int(lecture_id), items))


default_handlers = [
    (r"/api/lectures", LectureListHandler),
    (rf"/api/lectures/{LID}", LectureHandler),
    (rf"/api/lectures/{LID}/members", MembersHandler),
]

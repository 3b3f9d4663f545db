"""/api/user: who am I, with my lectures and roles."""

from __future__ import annotations

from grader_service.api.base import ApiHandler
from grader_service.auth.decorators import authenticated
from grader_service.schemas.responses.service import Me
from grader_service.services.users import whoami


class UserHandler(ApiHandler):
    docs = {"get": {"summary": "The calling user: name, admin flag, lectures and roles", "response": Me}}

    @authenticated
    async def get(self) -> None:
        self.write_json(await self.call(whoami, self.actor))


default_handlers = [(r"/api/user", UserHandler)]

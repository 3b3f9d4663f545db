"""/api/users/{username}/password: admins set or remove the password of a PasswordAuthenticator user."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from grader_service.api.base import ApiHandler
from grader_service.auth.decorators import admin_only
from grader_service.errors import BadRequest
from grader_service.schemas.requests import USERNAME_PATTERN
from grader_service.schemas.responses.service import PasswordChanged
from grader_service.schemas.text import LineText
from grader_service.services.passwords import remove_password, set_password

UNAME = r"(?P<username>[^/]{1,64})"


class PasswordSet(BaseModel):
    # no whitespace stripping: a password is used exactly as typed
    model_config = ConfigDict(extra="forbid", strict=True)

    password: LineText = Field(
        min_length=8, max_length=1024, description="the new password (8-1024 characters)"
    )


def _username(raw: str) -> str:
    if ".." in raw or not re.fullmatch(USERNAME_PATTERN, raw):
        raise BadRequest(
            "username: use 1-64 letters, digits or . _ @ + -, starting with a letter or digit",
            field="username",
        )
    return raw


class PasswordHandler(ApiHandler):
    docs = {
        "put": {
            "summary": "Set a user's password (PasswordAuthenticator); creates the user if needed and "
            "ends their browser sessions",
            "body": PasswordSet,
            "response": PasswordChanged,
            "responses": {"200": "set", "400": "bad user name or password"},
        },
        "delete": {
            "summary": "Remove a user's password (they can no longer log in with one)",
            "responses": {"204": "removed", "404": "the user has no password"},
        },
    }

    @admin_only
    async def put(self, username: str) -> None:
        name = _username(username)
        body = self.parse_body(PasswordSet)
        self.write_json(await self.call(set_password, name, body.password))

    @admin_only
    async def delete(self, username: str) -> None:
        name = _username(username)
        self.no_body()
        await self.call(remove_password, name)
        self.set_status(204)
        self.finish()


default_handlers = [(rf"/api/users/{UNAME}/password", PasswordHandler)]

"""Domain errors raised by services; api/base.py maps them to HTTP responses."""

from __future__ import annotations

from typing import Any


class GraderError(Exception):
    """Base class: a message meant for the user and the HTTP status it maps to."""

    status = 500

    def __init__(
        self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        #: more of the answer, next to status and message (e.g. the running job a 409 refers to)
        self.details = details or {}


class BadRequest(GraderError):
    """The request is malformed or a value is out of range (names the field when there is one)."""

    status = 400


class Unauthorized(GraderError):
    """No valid credentials were sent."""

    status = 401


class Forbidden(GraderError):
    """The caller can see the resource but may not do this to it."""

    status = 403


class NotFound(GraderError):
    """The resource does not exist, or the caller may not know that it exists."""

    status = 404


class Conflict(GraderError):
    """The request is valid but the resource's state refuses it (deadline passed, has submissions...)."""

    status = 409

"""The registered REST routes as (template, method) pairs, for the matrix and OpenAPI tests."""

from __future__ import annotations

import re

from grader_service.api import default_handlers
from grader_service.auth.decorators import HTTP_METHODS, permission_of


def template(pattern: str) -> str:
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


def registered_routes() -> dict[tuple[str, str], str]:
    """(template, METHOD) → the permission its handler declares."""
    out: dict[tuple[str, str], str] = {}
    for pattern, handler in default_handlers:
        for method in HTTP_METHODS:
            if method in handler.__dict__:
                out[(template(pattern), method.upper())] = permission_of(handler, method) or ""
    return out

"""`@requires(permission)` on every handler method: the one authorization rule of a route and method."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from grader_service.auth.roles import PERMISSIONS, check_permission_name
from grader_service.errors import Forbidden, NotFound, Unauthorized

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
PERMISSION_ATTR = "__grader_permission__"


def requires(permission: str) -> Callable[[F], F]:
    """Authorize a handler method; the permission name is checked when the module is imported.

    `worker` routes take worker tokens only, and worker tokens open nothing else (403 both ways).
    Lecture permissions read `lecture_id` from the route: a non-member gets 404 (the lecture stays hidden),
    a member whose role lacks the permission gets 403, unless the route names an assignment the member
    cannot see, which stays 404.
    """
    check_permission_name(permission)

    def decorate(method: F) -> F:
        @functools.wraps(method)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if permission not in ("public", "job"):
                actor = self.current_user
                if actor is None:
                    raise Unauthorized(self.auth_failure_reason())
                if permission == "worker":
                    if not actor.is_worker:
                        raise Forbidden(
                            "only a worker token (grader-service token create --worker) may do this"
                        )
                elif actor.is_worker:
                    raise Forbidden(
                        "a worker token may only claim and report autograde jobs (/api/worker/...)"
                    )
                elif permission == "admin":
                    if not actor.is_admin:
                        raise Forbidden("only admins may do this")
                elif permission != "authenticated" and not actor.is_admin:
                    lecture_id = int(kwargs["lecture_id"])
                    role = actor.role_in(lecture_id)
                    if role is None:
                        raise NotFound(f"lecture {lecture_id} not found")
                    if role not in PERMISSIONS[permission]:
                        if "assignment_id" in kwargs:
                            await self.ensure_assignment_visible(lecture_id, int(kwargs["assignment_id"]))
                        raise Forbidden(
                            f"your role in this lecture ({role.value}) does not allow this "
                            f"(needs {permission})"
                        )
            return await method(self, *args, **kwargs)

        setattr(wrapper, PERMISSION_ATTR, permission)
        return cast(F, wrapper)  # functools.wraps keeps the signature F promises

    return decorate


public = requires("public")
authenticated = requires("authenticated")
admin_only = requires("admin")

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


def check_handler_rules(routes: list[tuple[str, type]]) -> None:
    """Every HTTP method a handler defines must carry exactly one rule (fails at import otherwise)."""
    for pattern, handler in routes:
        for name in HTTP_METHODS:
            method = handler.__dict__.get(name)
            if method is None:
                continue
            if not hasattr(method, PERMISSION_ATTR):
                raise TypeError(f"{handler.__name__}.{name} ({pattern}) has no @requires(...) rule")


def permission_of(handler: type, method: str) -> str | None:
    fn = getattr(handler, method, None)
    return getattr(fn, PERMISSION_ATTR, None)

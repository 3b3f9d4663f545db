"""The one table of permissions: which lecture roles may do what. Admins (from config) may do everything."""

from __future__ import annotations

from dataclasses import dataclass, field

from grader_service.orm.models import Role

STUDENT, TUTOR, INSTRUCTOR = Role.student, Role.tutor, Role.instructor
ALL_MEMBERS = frozenset({STUDENT, TUTOR, INSTRUCTOR})
STAFF = frozenset({TUTOR, INSTRUCTOR})

#: permission → the lecture roles that hold it. Permissions marked `ADMIN_ONLY` need the global admin flag.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "lecture:read": ALL_MEMBERS,
    "lecture:write": frozenset({INSTRUCTOR}),
    "lecture:delete": frozenset({INSTRUCTOR}),
    "members:read": STAFF,
    "members:write": frozenset({INSTRUCTOR}),
    "assignments:read": ALL_MEMBERS,
    "assignments:write": frozenset({INSTRUCTOR}),
    # deadline extensions: tutors read them (they grade late work), only instructors grant them; a student
    # reads their own through the single-extension route (assignments:read, filtered in services)
    "extensions:read": STAFF,
    "extensions:write": frozenset({INSTRUCTOR}),
    "submissions:read": ALL_MEMBERS,  # students see their own only (filtered in services)
    "submissions:create": ALL_MEMBERS,  # staff may hand in too, to try an assignment out
    "submissions:grade": STAFF,
    "submissions:logs": STAFF,
    "gradebook:read": STAFF,
    "gradebook:write": frozenset({INSTRUCTOR}),
    "grades:read": ALL_MEMBERS,  # students see their own only (filtered in services)
    "jobs:read": STAFF,
}

#: permissions that are not scoped to a lecture
GLOBAL_PERMISSIONS: dict[str, str] = {
    "public": "anyone, no token needed",
    "job": "only the job's own short-lived token (remote executors); user tokens are refused",
    "worker": "only a worker token (`grader-service token create --worker`): remote workers claim and report "
    "autograde jobs; user tokens get 403",
    "authenticated": "any user with a valid token",
    "admin": "global admins only (admin_users in the config)",
}


def check_permission_name(name: str) -> str:
    """Fail loudly (at import of the handler module) when a route names an unknown permission."""
    if name not in PERMISSIONS and name not in GLOBAL_PERMISSIONS:
        raise ValueError(
            f"unknown permission {name!r}; known: {sorted(PERMISSIONS) + sorted(GLOBAL_PERMISSIONS)}"
        )
    return name


@dataclass(frozen=True)
class Actor:
    """Who is calling: the user, whether they are an admin, and their role in each lecture."""

    user_id: int
    name: str
    is_admin: bool = False
    roles: dict[int, Role] = field(default_factory=dict)
    token_id: int | None = None
    #: a worker token (remote grader-worker): it may use the worker routes and nothing else
    is_worker: bool = False

    def role_in(self, lecture_id: int) -> Role | None:
        return self.roles.get(lecture_id)

    def can(self, permission: str, lecture_id: int) -> bool:
        if self.is_admin:
            return True
        role = self.roles.get(lecture_id)
        return role is not None and role in PERMISSIONS[permission]

    def is_staff(self, lecture_id: int) -> bool:
        return self.is_admin or self.roles.get(lecture_id) in STAFF

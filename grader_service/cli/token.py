"""`grader-service token create --user NAME [--admin | --worker] [--expires-in S]`: print a new API token."""

from __future__ import annotations

import re

from traitlets import Bool, Float, Unicode

from grader_service.auth.tokens import WORKER_TOKEN_KIND, create_token
from grader_service.cli.base import ServiceSubApp
from grader_service.schemas.requests import USERNAME_PATTERN
from grader_service.services.users import get_or_create_user


class TokenCreateApp(ServiceSubApp):
    description = "Create an API token for a user (created if new) and print it."
    user = Unicode("", help="The user the token belongs to.").tag(config=True)
    admin = Bool(False, help="Make the user a global admin.").tag(config=True)
    worker = Bool(
        False,
        help="Create a worker token instead of a user token: it lets a remote grader-worker "
        "(GraderWorker.service_url + api_token, KubernetesExecutor) claim and report autograde jobs, "
        "and opens nothing else (no lectures, no git). Use a dedicated account name, e.g. "
        "--user grader-worker.",
    ).tag(config=True)
    expires_in = Float(0, help="Seconds until the token expires (0: never).").tag(config=True)
    note = Unicode("", help="A note stored with the token.").tag(config=True)
    aliases = {
        **ServiceSubApp.aliases,
        "user": "TokenCreateApp.user",
        "expires-in": "TokenCreateApp.expires_in",
        "note": "TokenCreateApp.note",
    }
    flags = {
        "admin": ({"TokenCreateApp": {"admin": True}}, "Make the user a global admin."),
        "worker": ({"TokenCreateApp": {"worker": True}}, "Create a worker token (remote grader-worker)."),
    }

    def start(self) -> None:
        if not self.user or not re.match(USERNAME_PATTERN, self.user):
            self.exit_with("--user NAME is required (letters, digits and . _ @ + -)")
        if self.admin and self.worker:
            self.exit_with("--admin and --worker exclude each other: a worker token never acts as a user")
        if self.expires_in < 0:
            self.exit_with("--expires-in must be positive (seconds)")
        svc = self.service()
        db = svc.init_db()
        with db.session() as session:
            user = get_or_create_user(session, self.user)
            if self.admin:
                user.admin = True
            session.flush()
            token = create_token(
                session,
                user,
                expires_in=self.expires_in or None,
                note=self.note or ("grader-worker" if self.worker else "cli"),
                kind=WORKER_TOKEN_KIND if self.worker else "api",
            )
            session.commit()
        db.close()
        print(token)

    def exit_with(self, message: str) -> None:
        print(f"grader-service token create: {message}")
        self.exit(2)


class TokenApp(ServiceSubApp):
    description = "API token commands."
    subcommands = {"create": (TokenCreateApp, TokenCreateApp.description)}

    def start(self) -> None:
        if self.subapp is None:
            self.print_subcommands()
            self.exit(1)
        else:
            self.subapp.start()

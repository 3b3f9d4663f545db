"""Worker credentials for tests: a worker token (what `grader-service token create --worker` makes)."""

from __future__ import annotations

from grader_service.auth.tokens import WORKER_TOKEN_KIND, create_token
from grader_service.services.users import get_or_create_user
from tests.support.server import ServiceProcess


def make_worker_token(service: ServiceProcess, name: str = "grader-worker") -> str:
    with service.db.session() as session:
        user = get_or_create_user(session, name)
        session.flush()
        token = create_token(session, user, note="test worker", kind=WORKER_TOKEN_KIND)
        session.commit()
    return token

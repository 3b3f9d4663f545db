"""The Tornado application the service runs: client addresses behind trusted proxies, the access log, and
the periodic work on its IO loop."""

from __future__ import annotations

import logging
from typing import Any

from tornado import web
from tornado.ioloop import PeriodicCallback

from grader_service.auth.client_address import client_address, is_trusted
from grader_service.orm.session import Database
from grader_service.services.feedback_state import due_after_deadline


class ClientAddressApplication(web.Application):
    """Sets each request's remote_ip to the real client: the peer, or X-Forwarded-For from a trusted proxy."""

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        trusted, peer = self.settings["trusted_proxies"], request.remote_ip
        request.remote_ip = client_address(peer, request.headers.get("X-Forwarded-For"), trusted)
        proto = request.headers.get("X-Forwarded-Proto", "").strip().lower()
        if proto in ("http", "https") and is_trusted(peer, trusted):
            request.protocol = proto  # a TLS-terminating proxy we trust
        return super().find_handler(request, **kwargs)


def log_request(handler: web.RequestHandler) -> None:
    """One access-log line a request: status, method, path (query strings and headers, tokens among them, are
    never logged) and time."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else (logging.WARNING if status < 500 else logging.ERROR)
    logging.getLogger("grader_service.access").log(
        level,
        "%d %s %s %.1fms",
        status,
        handler.request.method,
        handler.request.path,
        1000.0 * handler.request.request_time(),
    )


def release_sweep(db: Database, interval: float) -> PeriodicCallback | None:
    """Every `interval` seconds (0: never), release the feedback of `after_deadline` assignments whose
    deadline has passed (the database work runs off the IO loop). Started; the caller stops it."""
    if interval <= 0:
        return None

    async def release_due() -> None:
        with db.session() as session:
            await db.run(session, due_after_deadline)

    sweep = PeriodicCallback(release_due, interval * 1000)
    sweep.start()
    return sweep

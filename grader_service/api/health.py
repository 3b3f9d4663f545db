"""Service-level routes: health (checks the database), version and the OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from grader_service import __version__
from grader_service.api.base import ApiHandler
from grader_service.auth.decorators import public
from grader_service.schemas.responses.service import Health, OpenApiDocument, Version

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


class HealthHandler(ApiHandler):
    docs = {
        "get": {
            "summary": "Liveness and readiness: 200 when the database answers, else 503",
            "responses": {"200": "healthy", "503": "the database does not answer"},
            "response": {"200": Health, "503": Health},
        }
    }

    @public
    async def get(self) -> None:
        try:
            await self.call(_ping)
        except Exception as exc:  # the probe must answer, whatever broke
            self.log.error("health check: database unreachable: %s", exc)
            self.write_json(Health(status="unhealthy", database="unreachable"), status=503)
            return
        self.write_json(Health(status="ok", database="ok"))


class VersionHandler(ApiHandler):
    docs = {"get": {"summary": "The service version", "response": Version}}

    @public
    async def get(self) -> None:
        self.write_json(Version(version=__version__))


class OpenApiHandler(ApiHandler):
    docs = {"get": {"summary": "This OpenAPI 3 document", "response": OpenApiDocument}}

    @public
    async def get(self) -> None:
        self.write_json(json.loads(OPENAPI_PATH.read_text()))


default_handlers = [
    (r"/api/health", HealthHandler),
    (r"/api/version", VersionHandler),
    (r"/api/openapi.json", OpenApiHandler),
]

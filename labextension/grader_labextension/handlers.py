"""Relay routes under <base_url>grader/: the REST API passed through, git actions, and a status probe.

Every handler is `@web.authenticated` and `@authorized` by jupyter-server (resource "grader"); the
service's answers keep their status and JSON body; the relay's own errors use the same `{"status",
"message"}` envelope.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from grader_labextension.client import GraderServiceClient, ServiceResponse
from grader_labextension.errors import RelayError
from grader_labextension.git_actions import Workspace

AUTH_RESOURCE = "grader"
ASSIGNMENT = r"grader/lectures/(?P<lecture_id>\d{1,18})/assignments/(?P<assignment_id>\d{1,18})"


class RelayHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def client(self) -> GraderServiceClient:
        return self.settings["grader_client"]

    @property
    def workspace(self) -> Workspace:
        return self.settings["grader_workspace"]

    def send(self, response: ServiceResponse) -> None:
        self.set_status(response.status)
        for key, value in response.headers.items():
            if key != "Location":
                self.set_header(key, value)
        if response.status == 204 or not response.body:
            self.finish()
        else:
            self.finish(response.body)

    def relay_error(self, exc: RelayError) -> None:
        self.set_status(exc.status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(exc.as_json()))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, RelayError):
            self.relay_error(exc)
            return
        message = self._reason if status_code < 500 else "internal relay error (details in the server log)"
        if isinstance(exc, web.HTTPError) and exc.log_message and status_code < 500:
            message = exc.log_message
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"status": status_code, "message": message}))


class ApiProxyHandler(RelayHandler):
    """/grader/api/<path>: the service's REST API, with the user's token added."""

    async def _relay(self, path: str) -> None:
        if ".." in path.split("/"):
            raise RelayError(400, "the path must not contain '..'")
        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH", "DELETE") else None
        ctype = self.request.headers.get("Content-Type", "application/json")
        response = await self.client.request(
            self.request.method or "GET", "/api/" + path, body or None, self.request.query, ctype
        )
        self.send(response)

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    @authorized
    async def post(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    @authorized
    async def patch(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    @authorized
    async def delete(self, path: str) -> None:
        await self._relay(path)


class StatusHandler(RelayHandler):
    """/grader/status: is the relay configured, does the service answer (the frontend says how to fix it)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        out: dict[str, Any] = {
            "service_url": self.client.service_url,
            "token_source": self.client.tokens.describe(),
        }
        try:
            health = await self.client.request("GET", "/api/health")
            out["service"] = "ok" if health.status == 200 else f"answered {health.status}"
            me = await self.client.request("GET", "/api/user")
            out["authenticated"] = me.status == 200
            if me.status == 200:
                out["user"] = me.json()["name"]
        except RelayError as exc:
            out["service"] = exc.message
            out["authenticated"] = False
        self.finish(json.dumps(out))


class ActionHandler(RelayHandler):
    """POST /grader/lectures/<lid>/assignments/<aid>/<action>: git work and instructor actions."""

    ACTIONS = (
        "fetch",
        "submit",
        "reset",
        "validate",
        "feedback",
        "source/pull",
        "source/push",
        "generate",
        "release",
    )

    @web.authenticated
    @authorized
    async def post(self, lecture_id: str, assignment_id: str, action: str) -> None:
        lid, aid = int(lecture_id), int(assignment_id)
        base = f"/api/lectures/{lid}/assignments/{aid}"
        if action == "generate":
            # regenerating a released assignment needs force=true (the service refuses it otherwise)
            query = "?force=true" if self.get_query_argument("force", "false") == "true" else ""
            self.send(await self.client.request("POST", f"{base}/generate{query}"))
            return
        if action == "release":
            self.send(await self.client.request("PATCH", base, json.dumps({"status": "released"}).encode()))
            return
        ctx = await self.workspace.context(lid, aid)
        ws = self.workspace
        if action == "submit":
            result = await ws.submit(ctx)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.set_status(result["status"])
            self.finish(result["body"])
            return
        handler = {
            "fetch": ws.fetch,
            "reset": ws.reset,
            "validate": ws.validate,
            "feedback": ws.feedback,
            "source/pull": ws.source_pull,
            "source/push": ws.source_push,
        }[action]
        self.finish(json.dumps(await handler(ctx)))


class LocalStateHandler(RelayHandler):
    """GET /grader/lectures/<lid>/assignments/<aid>/local: is it fetched, where, which files would go in."""

    @web.authenticated
    @authorized
    async def get(self, lecture_id: str, assignment_id: str) -> None:
        ctx = await self.workspace.context(int(lecture_id), int(assignment_id))
        self.finish(json.dumps(await self.workspace.local_state(ctx)))


def relay_handlers() -> list[tuple[str, type]]:
    actions = "|".join(a.replace("/", r"\/") for a in ActionHandler.ACTIONS)
    return [
        (r"grader/status", StatusHandler),
        (r"grader/api/(?P<path>.*)", ApiProxyHandler),
        (ASSIGNMENT + r"/local", LocalStateHandler),
        (ASSIGNMENT + rf"/(?P<action>{actions})", ActionHandler),
    ]

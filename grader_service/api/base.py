"""ApiHandler: one DB session per request run off the IO loop, token auth, JSON bodies and JSON errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from tornado import web

from grader_service.api.answers import DEFAULT_SUCCESS, UndocumentedAnswer, check_answer
from grader_service.auth.roles import Actor
from grader_service.auth.tokens import parse_authorization, resolve_actor
from grader_service.errors import BadRequest, GraderError, NotFound
from grader_service.orm.session import Database
from grader_service.schemas.text import one_line
from grader_service.services.access import get_assignment

T = TypeVar("T")
log = logging.getLogger("grader_service.api")


def _json_default(value: Any) -> Any:
    """What orjson does not serialise itself: response models (`schemas.responses`), named tuples (as arrays,
    like json.dumps), and objects with a `value` (enums that are not plain Enum subclasses)."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)  # unset fields are optional ones (schemas/responses)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dump_json(data: Any) -> bytes:
    """The API's JSON: orjson, which writes a gradebook page of 100 × 20 (390 kB) in ~1 ms where json.dumps
    took ~5 ms on the IO loop. Dict keys that are not strings (ids) become strings, as with json.dumps."""
    return orjson.dumps(data, default=_json_default, option=orjson.OPT_NON_STR_KEYS)


def _field_of(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        # a dict key may be the refused text itself: escape it rather than echo control characters
        text = one_line(str(part))
        out += f"[{part}]" if isinstance(part, int) else (f".{text}" if out else text)
    return out


class ApiHandler(web.RequestHandler):
    """Base of every REST handler. Subclasses parse, authorise (via @requires) and call services."""

    _actor: Actor | None = None
    _token_sent: bool = False
    _session: Session | None = None

    @property
    def db(self) -> Database:
        return self.settings["db"]

    @property
    def log(self) -> logging.Logger:
        return log

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    # -- database: one session per request, every call a unit of work in the thread pool --
    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.db.session()
        return self._session

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.db.run(self.session, fn, *args)

    def on_finish(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- authentication --
    async def prepare(self) -> None:
        token = parse_authorization(self.request.headers.get("Authorization"))
        if token:
            self._token_sent = True
            admins: frozenset[str] = self.settings["admin_users"]
            self._actor = await self.call(resolve_actor, token, admins)
            if self._actor is None and self.settings.get("token_fallback"):
                # hub-token mode: a JupyterHub token the Hub vouches for (grader_service.auth.hub)
                self._actor = await self.settings["token_fallback"](self, token)

    def get_current_user(self) -> Actor | None:
        return self._actor

    @property
    def actor(self) -> Actor:
        assert self._actor is not None, "handler method lacks an authenticating @requires rule"
        return self._actor

    def auth_failure_reason(self) -> str:
        if self._token_sent:
            return "the token is invalid or has expired"
        return "authentication required: send 'Authorization: token <your token>'"

    async def ensure_assignment_visible(self, lecture_id: int, assignment_id: int) -> None:
        await self.call(get_assignment, self.actor, lecture_id, assignment_id)

    # -- input --
    def parse_body(self, model: Any) -> Any:
        """Validate the JSON body against a pydantic model or type; 400 naming the field otherwise."""
        raw = self.request.body
        if not raw or not raw.strip():
            raise BadRequest("the request body is empty: send a JSON document")
        adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        try:
            return adapter.validate_json(raw)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            first = errors[0]
            if first["type"] == "json_invalid":
                raise BadRequest(f"the request body is not valid JSON: {first['msg']}") from None
            field = _field_of(tuple(first["loc"]))
            msg = first["msg"]
            if first["type"] == "extra_forbidden":
                msg = "unknown field"
            raise BadRequest(f"{field or 'body'}: {msg}", field=field or None) from None

    def no_body(self) -> None:
        """Refuse a body on routes that take none (so a client's mistake is not silently ignored)."""
        if self.request.body and self.request.body.strip():
            raise BadRequest("this endpoint takes no request body")

    def query_bool(self, name: str) -> bool:
        raw = self.get_query_argument(name, "false").lower()
        if raw in ("1", "true", "yes"):
            return True
        if raw in ("0", "false", "no", ""):
            return False
        raise BadRequest(f"{name} must be true or false (got {raw!r})", field=name)

    # -- output --
    _answer_checked = False

    def write_json(self, data: Any, status: int = 200) -> None:
        """Answer with `data` (JSON-ready values and pydantic models) as JSON."""
        self.set_status(status)
        body = dump_json(data)
        self._check_answer(body)
        self.finish(body)

    def _check_answer(self, body: bytes | None) -> None:
        # tests run with `check_responses` on: a success answer must be what the route's docs say (answers.py)
        method = (self.request.method or "").lower()
        if self._answer_checked or not self.settings.get("check_responses") or method not in DEFAULT_SUCCESS:
            return
        status = self.get_status()
        if 200 <= status < 300:
            self._answer_checked = True
            check_answer(type(self), method, status, body)

    def finish(self, chunk: Any = None) -> Any:
        self._check_answer(None)
        return super().finish(chunk)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = self._reason
        field = None
        details: dict[str, Any] = {}
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, GraderError):
            status_code = exc.status
            message, field, details = exc.message, exc.field, exc.details
            self.set_status(status_code)
            if status_code == 401:
                self.set_header("WWW-Authenticate", 'token realm="Grader Service"')
        elif isinstance(exc, web.HTTPError):
            message = (
                exc.log_message % exc.args if exc.log_message and exc.args else (exc.log_message or message)
            )
        elif isinstance(exc, UndocumentedAnswer):
            message = str(exc)  # only with check_responses on (tests): say which route broke its document
        elif status_code >= 500:
            message = "internal server error (the details are in the service log)"
        body: dict[str, Any] = {"status": status_code, "message": message}
        if field:
            body["field"] = field
        body.update({k: v for k, v in details.items() if k not in body})
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body, default=_json_default))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, GraderError):
            return
        super().log_exception(typ, value, tb)


class NotFoundHandler(ApiHandler):
    """JSON 404 for every unknown path under /api/."""

    async def prepare(self) -> None:
        raise NotFound(f"no such endpoint: {self.request.path}")

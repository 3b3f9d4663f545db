"""Tornado handlers serving git smart-HTTP (info/refs, upload-pack, receive-pack) from the RepoStore."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from dulwich.errors import GitProtocolError, HangupException
from dulwich.protocol import ReceivableProtocol
from tornado import web
from tornado.http1connection import HTTP1Connection
from tornado.iostream import StreamClosedError

from .access import GitAccess, GitAccessDecision
from .names import InvalidRepoName, RepoRef
from .receive import SERVICES, RepoBackend
from .store import RepoStore
from .streams import BadRequestBody, BodyPipe, ClientGone, GunzipReader, ResponseChannel

log = logging.getLogger(__name__)

_REPO_PATH = r"git/(?P<lecture>[^/]+)/(?P<assignment>[^/]+)/(?P<kind>[^/]+)(?:/(?P<username>[^/]+))?"
_TOKEN_HEADER = re.compile(r"^(?:token|bearer)\s+(\S+)\s*$", re.IGNORECASE)
_MAX_UPLOAD_REQUEST = 64 * 1024 * 1024  # wants/haves of a fetch; a push's limit comes from its PushPolicy
_default_executor: ThreadPoolExecutor | None = None


def _executor(settings: dict[str, Any]) -> Executor:
    """The pool dulwich work runs on: ``settings["git_executor"]`` or a shared default pool."""
    global _default_executor
    pool = settings.get("git_executor")
    if pool is not None:
        return pool
    if _default_executor is None:
        _default_executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="git-http")
    return _default_executor


def request_token(authorization: str | None) -> str | None:
    """Token from ``Authorization``: Basic (any user, token as password) or ``token``/``Bearer``."""
    if not authorization:
        return None
    match = _TOKEN_HEADER.match(authorization)
    if match:
        return match.group(1)
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep and password else None


class GitHandlerBase(web.RequestHandler):
    """Resolves the repo from the URL, asks the core's access callable, prepares the repo."""

    repo_ref: RepoRef
    decision: GitAccessDecision

    def check_xsrf_cookie(self) -> None:
        """Git clients authenticate per request and send no XSRF cookie."""

    @property
    def store(self) -> RepoStore:
        return self.settings["git_store"]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Plain-text errors: git shows the body of a failed request to the user."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        if status_code == 401:  # send_error() cleared the headers; git prompts only when this is present
            self.set_header("WWW-Authenticate", 'Basic realm="Grader Service"')
        message = self._reason
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args  # _fail() escaped '%' for Tornado's logger
        self.finish(f"{message}\n")

    def _fail(self, status: int, message: str) -> None:
        """Answer ``status`` with ``message`` as the plain-text body (git prints it)."""
        raise web.HTTPError(status, message.replace("%", "%%"), reason=None)

    async def authorise(self, service: str) -> None:
        """Set ``repo_ref`` and ``decision`` or raise HTTPError; seeds a student's repo on first access."""
        if service not in SERVICES:
            self._fail(400, f"unsupported service {service!r}; the dumb HTTP protocol is not served")
        args = self.path_kwargs
        try:
            self.repo_ref = RepoRef(args["lecture"], args["assignment"], args["kind"], args.get("username"))
        except InvalidRepoName as exc:
            self._fail(404, f"repository not found: {exc}")
        access: GitAccess = self.settings["git_access"]
        token = request_token(self.request.headers.get("Authorization"))
        self.decision = await access(token, self.repo_ref, SERVICES[service][1])
        if self.decision.status != 200:
            default = {401: "authentication required", 403: "permission denied", 404: "repository not found"}
            self._fail(self.decision.status, self.decision.message or default[self.decision.status])
        await asyncio.get_running_loop().run_in_executor(_executor(self.settings), self._ensure_repo)

    def _ensure_repo(self) -> None:
        ref = self.repo_ref
        if ref.kind == "user" and not self.store.exists(ref):
            assert ref.username is not None
            self.store.seed_user_repo(ref.lecture, ref.assignment, ref.username)
        else:
            self.store.create(ref)

    def _run_dulwich(self, service: str, recv: Any, channel: ResponseChannel, advertise: bool) -> None:
        """Worker-thread body: run one dulwich protocol handler over the bound repo."""
        handler_cls, _ = SERVICES[service]
        with self.store.open(self.repo_ref, create=False) as repo:
            backend = RepoBackend(repo, self.store, self.repo_ref, self.decision)
            proto = ReceivableProtocol(recv, channel.write)
            handler = handler_cls(
                backend, [str(self.repo_ref)], proto, stateless_rpc=True, advertise_refs=advertise
            )
            if advertise:
                proto.write_pkt_line(b"# service=" + service.encode("ascii") + b"\n")
                proto.write_pkt_line(None)
            handler.handle()
        channel.flush()

    async def _send(self, data: bytes) -> None:
        self.write(data)
        await self.flush()


class InfoRefsHandler(GitHandlerBase):
    """``GET .../info/refs?service=git-upload-pack|git-receive-pack``: the ref advertisement."""

    SUPPORTED_METHODS = ("GET",)

    async def get(self, **_: str) -> None:
        service = self.get_query_argument("service", "")
        await self.authorise(service)
        self.set_header("Content-Type", f"application/x-{service}-advertisement")
        self.set_header("Cache-Control", "no-cache, max-age=0, must-revalidate")
        loop = asyncio.get_running_loop()
        channel = ResponseChannel(loop, self._send)
        await loop.run_in_executor(
            _executor(self.settings), self._run_dulwich, service, lambda n: b"", channel, True
        )
        self.finish(channel.take_rest())


@web.stream_request_body
class ServiceHandler(GitHandlerBase):
    """``POST .../git-upload-pack`` and ``.../git-receive-pack``: the body is streamed to dulwich."""

    SUPPORTED_METHODS = ("POST",)

    _pipe: BodyPipe | None = None
    _work: asyncio.Future[None] | None = None
    _channel: ResponseChannel | None = None

    async def prepare(self) -> None:
        """Authorise and start dulwich in a worker thread before the body arrives, so it can stream."""
        service = self.path_kwargs["service"]
        await self.authorise(service)
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip() != f"application/x-{service}-request":
            self._fail(415, f"Content-Type must be application/x-{service}-request, not {content_type!r}")
        encoding = self.request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip"):
            self._fail(415, f"unsupported Content-Encoding {encoding!r}; use gzip or none")
        policy_limit = self.decision.policy.max_push_size if self.decision.policy else None
        limit = (policy_limit or 2**62) if SERVICES[service][1] else _MAX_UPLOAD_REQUEST
        if self.request.connection is not None and hasattr(self.request.connection, "set_max_body_size"):
            self.request.connection.set_max_body_size(limit)
        loop = asyncio.get_running_loop()
        self._pipe = BodyPipe(loop)
        recv = GunzipReader(self._pipe.recv).recv if encoding != "identity" else self._pipe.recv
        self._channel = ResponseChannel(loop, self._send)
        self.set_header("Content-Type", f"application/x-{service}-result")
        self.set_header("Cache-Control", "no-cache, max-age=0, must-revalidate")
        self._work = asyncio.ensure_future(
            loop.run_in_executor(
                _executor(self.settings), self._run_dulwich, service, recv, self._channel, False
            )
        )
        # if the client vanishes before post() runs, nobody awaits the work: retrieve its outcome here
        self._work.add_done_callback(lambda f: f.cancelled() or f.exception())

    def data_received(self, chunk: bytes) -> Any:
        """Hand a body chunk to the worker; Tornado waits on the returned future when the pipe is full."""
        if self._pipe is None:  # prepare() refused the request; drain and drop the body
            return None
        return self._pipe.feed(chunk)

    async def post(self, **_: str) -> None:
        assert self._pipe is not None and self._work is not None and self._channel is not None
        self._pipe.close()
        try:
            await self._work
        except (GitProtocolError, HangupException, ValueError, BadRequestBody, ClientGone) as exc:
            if self._channel.started:
                log.info("git %s on %s failed mid-response: %s", self.request.path, self.repo_ref, exc)
                # Tornado serves HTTP/1.x only: the connection is always an HTTP1Connection, which can close
                if isinstance(self.request.connection, HTTP1Connection):
                    self.request.connection.close()
                return
            self._fail(400, f"bad git request: {exc}")
        await self.finish(self._channel.take_rest())
        if SERVICES[self.path_kwargs["service"]][1]:  # after a push, off the response path
            pool = _executor(self.settings)
            asyncio.get_running_loop().run_in_executor(pool, self._maintain).add_done_callback(
                lambda f: f.cancelled() or f.exception()
            )

    def _maintain(self) -> None:
        try:
            self.store.maintain(self.repo_ref)
        except Exception:
            log.exception("pack maintenance of %s failed", self.repo_ref)

    def on_connection_close(self) -> None:
        """Unblock the worker thread if the client goes away mid-request."""
        if self._pipe is not None:
            self._pipe.close(StreamClosedError(ConnectionError("client closed the connection")))
        if self._channel is not None:
            self._channel.aborted = True

    def on_finish(self) -> None:
        if self._pipe is not None:
            self._pipe.close(StreamClosedError(ConnectionError("request finished")))


def git_handlers(base_url: str = "/") -> list[tuple[str, type[web.RequestHandler]]]:
    """Routes of the git smart-HTTP server under ``base_url``.

    The application's settings must hold ``git_store`` (a RepoStore) and ``git_access`` (see
    :data:`grader_service.git.access.GitAccess`); ``git_executor`` (a concurrent.futures Executor) is
    optional.
    """
    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    prefix = re.escape(base) + _REPO_PATH
    return [
        (prefix + r"/info/refs", InfoRefsHandler),
        (prefix + r"/(?P<service>git-upload-pack|git-receive-pack)", ServiceHandler),
    ]

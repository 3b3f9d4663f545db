"""The composition root: configuration, database, handlers, and the `grader-service` command line."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tornado import web
from tornado.httpserver import HTTPServer
from traitlets import Bool, Dict, Float, Integer, List, Set, Type, Unicode, default
from traitlets.config import Application, Config

from grader_service import __version__
from grader_service.orm.migrate import SchemaBehind, ensure_schema
from grader_service.orm.session import Database
from grader_service.services.settings import Limits

if TYPE_CHECKING:
    from grader_service.tasks.context import TaskSettings

#: GraderService's former limit options (now Executor traits: memory_bytes, cpu_seconds, ...)
DEPRECATED_LIMITS = (
    "grading_memory_limit",
    "grading_cpu_seconds",
    "grading_max_processes",
    "grading_max_file_bytes",
    "grading_max_open_files",
    "grading_max_output_bytes",
)

#: environment variables that override the config file (and are overridden by the command line)
ENV_OVERRIDES = {
    "GRADER_DB_URL": "db_url",
    "GRADER_DATA_DIR": "data_dir",
    "GRADER_PORT": "port",
    "GRADER_BROKER_URL": "broker_url",
}


class GraderService(Application):
    """The grader service: REST API, git smart-HTTP server and OAuth2 provider in one Tornado process."""

    name = "grader-service"
    version = __version__
    description = "Autograding service for Jupyter notebook courses."
    examples = """
    grader-service                          # embedded default: ./grader_data, SQLite, 127.0.0.1:4010
    grader-service -f grader_service_config.py
    grader-service --generate-config        # write grader_service_config.py with every option
    grader-service db upgrade -f config.py  # migrate the database to this version's schema
    grader-service token create --user alice --admin --expires-in 86400
    grader-service demo --json              # seed a demo lecture and print its users' tokens
    """

    config_file = Unicode("grader_service_config.py", help="The config file to load.").tag(config=True)
    generate_config = Bool(False, help="Write a config file with every option and exit.").tag(config=True)

    ip = Unicode("127.0.0.1", help="The address the service listens on.").tag(config=True)
    port = Integer(4010, help="The port the service listens on (env: GRADER_PORT).").tag(config=True)
    base_url = Unicode("/", help="URL prefix of every route, e.g. /services/grader/.").tag(config=True)
    public_url = Unicode(
        "",
        help="The URL clients reach the service at (for links and git clone URLs); "
        "default http://<ip>:<port><base_url>.",
    ).tag(config=True)
    data_dir = Unicode(
        help="Where the service keeps its data: the SQLite database of the embedded "
        "default and the git repositories (env: GRADER_DATA_DIR)."
    ).tag(config=True)
    db_url = Unicode(
        help="SQLAlchemy database URL (env: GRADER_DB_URL); default: SQLite in data_dir, "
        "e.g. postgresql+psycopg://grader@db/grader for production."
    ).tag(config=True)
    upgrade_db = Bool(
        help="Upgrade an older database schema at start (after a backup for SQLite). "
        "Default: on for SQLite, off otherwise (run `grader-service db upgrade`)."
    ).tag(config=True)
    db_threads = Integer(8, help="Threads that run database work off the IO loop.").tag(config=True)
    admin_users = Set(Unicode(), help="User names that are global admins.").tag(config=True)
    cell_timeout_default = Integer(30, help="Default per-cell timeout in seconds of a new assignment.").tag(
        config=True
    )
    cell_timeout_min = Integer(1, help="Smallest per-cell timeout an assignment may set (s).").tag(
        config=True
    )
    cell_timeout_max = Integer(600, help="Largest per-cell timeout an assignment may set (s).").tag(
        config=True
    )

    broker_url = Unicode(
        "",
        help="Celery broker, e.g. amqp://user:pass@rabbitmq:5672// (env: GRADER_BROKER_URL). "
        "Empty: the embedded default, a worker inside this process over an in-memory "
        "transport.",
    ).tag(config=True)
    queue_prefix = Unicode(
        "", help="Prefix of the Celery queue names, so that several installations can share one broker."
    ).tag(config=True)
    embedded_worker_threads = Integer(
        help="Threads of the embedded worker (no broker_url). Default: twice the "
        "CPUs, at least 2: a grading job spends half its time waiting for its "
        "kernel, so more jobs than CPUs keep them busy."
    ).tag(config=True)

    @default("embedded_worker_threads")
    def _embedded_threads_default(self) -> int:
        return max(2, 2 * (os.cpu_count() or 1))

    executor_class = Type(
        "grader_service.executors.process.ProcessExecutor",
        klass="grader_service.executors.base.Executor",
        help="Where submissions are graded: ProcessExecutor (sandboxed child process, the "
        "default), KubernetesExecutor (a pod per job), LocalExecutor (in the worker; unsafe, "
        "development only).",
    ).tag(config=True)
    task_retry_delay = Float(
        5.0,
        help="Seconds before the first retry of a task that hit an infrastructure "
        "error (doubling each time, at most 60, at most 3 retries). With a broker, Celery's "
        "retry_backoff applies it in whole seconds (at least 1).",
    ).tag(config=True)
    feedback_release_interval = Float(
        60,
        help="Seconds between sweeps that release the feedback of assignments with "
        "feedback_release=after_deadline whose deadline has passed (0: no sweep).",
    ).tag(config=True)
    autograde_timeout = Float(600, help="Seconds one submission may take in all (every notebook).").tag(
        config=True
    )
    # the grading limits are the executor's traits (Executor.cpu_seconds...); these names still work
    grading_memory_limit = Integer(None, allow_none=True, help="Deprecated: use Executor.memory_bytes.").tag(
        config=True
    )
    grading_cpu_seconds = Integer(None, allow_none=True, help="Deprecated: use Executor.cpu_seconds.").tag(
        config=True
    )
    grading_max_processes = Integer(
        None, allow_none=True, help="Deprecated: use Executor.max_processes."
    ).tag(config=True)
    grading_max_file_bytes = Integer(
        None, allow_none=True, help="Deprecated: use Executor.max_file_bytes."
    ).tag(config=True)
    grading_max_open_files = Integer(
        None, allow_none=True, help="Deprecated: use Executor.max_open_files."
    ).tag(config=True)
    grading_max_output_bytes = Integer(
        None, allow_none=True, help="Deprecated: use Executor.max_output_bytes."
    ).tag(config=True)
    gradebook_max_page_size = Integer(1000, help="Largest page_size a gradebook page may ask for.").tag(
        config=True
    )
    check_responses = Bool(
        False,
        help="Refuse (500) any API answer its route's documented response model does not describe: a check "
        "for tests and development, not for production (it costs a validation per answer).",
    ).tag(config=True)
    trusted_proxies = List(
        Unicode(),
        help="Addresses or networks (e.g. '10.0.0.0/8') of reverse proxies whose X-Forwarded-For is believed "
        "for the client address (logs, sign-in throttling); from anyone else it is ignored.",
    ).tag(config=True)
    git_max_file_size = Integer(20 << 20, help="Largest file a push may add (bytes).").tag(config=True)
    git_max_files = Integer(1000, help="Most files a pushed tree may hold.").tag(config=True)
    git_max_push_size = Integer(2 << 30, help="Largest push (pack bytes).").tag(config=True)
    git_max_push_inflated = Integer(
        1 << 30, help="Most bytes the objects of one push may inflate to (bounds a pack bomb)."
    ).tag(config=True)
    git_max_objects = Integer(200_000, help="Most objects one push may hold.").tag(config=True)
    git_allowed_extensions = Set(
        Unicode(),
        help="File extensions students may push to their repos, e.g. "
        "{'.ipynb', '.py', '.csv'}; empty: any (an assignment's allowed_files globs "
        "are allowed in addition).",
    ).tag(config=True)
    # -- login, OAuth2 provider, hub-token mode (grader_service.auth) --
    authenticator_class = Type(
        "grader_service.auth.authenticators.PasswordAuthenticator",
        klass="grader_service.auth.authenticators.Authenticator",
        help="Who may log in at /login: PasswordAuthenticator (passwords set by admins "
        "with PUT /api/users/<name>/password; the default), GenericOAuthenticator "
        "(an upstream OAuth2/OIDC provider), DevAuthenticator (any name; loopback only).",
    ).tag(config=True)
    oauth_clients = List(
        Dict(),
        help="OAuth2 clients that may log users in here (e.g. JupyterHub): "
        "[{'client_id': ..., 'client_secret': ... (>= 16 chars), 'redirect_uri': URL or list, "
        "'name': shown on the consent page, 'skip_consent': False, 'pkce_required': True}].",
    ).tag(config=True)
    load_roles = List(
        Dict(),
        help="Lecture roles granted at login: [{'lecture': 'demo101', 'role': 'tutor', "
        "'users': [...], 'groups': [...]}]; identity-provider or hub groups named "
        "<lecture>:<role> are mapped too.",
    ).tag(config=True)
    login_session_ttl = Float(24 * 3600, help="Seconds a browser login at the service lasts.").tag(
        config=True
    )
    oauth_code_ttl = Float(60, help="Seconds an OAuth2 authorization code stays valid (single use).").tag(
        config=True
    )
    oauth_token_ttl = Float(8 * 3600, help="Seconds an OAuth2 access token stays valid.").tag(config=True)
    cookie_secret = Unicode(
        help="Secret (hex) that signs the login-state cookie (env GRADER_COOKIE_SECRET); "
        "default: kept in <data_dir>/cookie_secret, created on first start."
    ).tag(config=True)
    hub_token_auth = Bool(
        False,
        help="Hub-token mode: accept users' JupyterHub tokens, checked against the "
        "Hub API (hub_api_url) and cached for hub_token_cache_ttl seconds.",
    ).tag(config=True)
    hub_api_url = Unicode(
        help="The Hub API, e.g. http://127.0.0.1:8081/hub/api (default: env "
        "JUPYTERHUB_API_URL, set when the Hub runs this service)."
    ).tag(config=True)
    hub_api_token = Unicode(
        help="This service's own Hub API token, used to read a user's groups (needs "
        "read:users:groups); default: env JUPYTERHUB_API_TOKEN."
    ).tag(config=True)
    hub_service_name = Unicode(
        help="The name this service is registered under at the Hub: a hub token is "
        "accepted if its owner has access:services!service=<name> (default: env "
        "JUPYTERHUB_SERVICE_NAME or 'grader')."
    ).tag(config=True)
    hub_token_cache_ttl = Float(
        60, help="Seconds a hub token stays accepted before the Hub is asked again."
    ).tag(config=True)
    log_level = 20

    aliases = {
        "f": "GraderService.config_file",
        "config": "GraderService.config_file",
        "ip": "GraderService.ip",
        "port": "GraderService.port",
        "log-level": "Application.log_level",
    }
    flags = {
        "generate-config": ({"GraderService": {"generate_config": True}}, generate_config.help),
        "debug": ({"Application": {"log_level": logging.DEBUG}}, "Log at debug level."),
    }

    subcommands = {
        "db": ("grader_service.cli.db.DbApp", "Database schema: upgrade, current."),
        "token": ("grader_service.cli.token.TokenApp", "API tokens: create."),
        "demo": ("grader_service.cli.demo.DemoApp", "Seed a demo lecture and print its users' tokens."),
    }

    @default("data_dir")
    def _data_dir_default(self) -> str:
        return str(Path("grader_data").resolve())

    @default("db_url")
    def _db_url_default(self) -> str:
        return f"sqlite:///{Path(self.data_dir).resolve() / 'grader.sqlite'}"

    @default("upgrade_db")
    def _upgrade_db_default(self) -> bool:
        return self.db_url.startswith("sqlite")

    @default("hub_api_url")
    def _hub_api_url_default(self) -> str:
        return os.environ.get("JUPYTERHUB_API_URL", "")

    @default("hub_api_token")
    def _hub_api_token_default(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    @default("hub_service_name")
    def _hub_service_name_default(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_NAME", "grader")

    @default("cookie_secret")
    def _cookie_secret_default(self) -> str:
        if os.environ.get("GRADER_COOKIE_SECRET"):
            return os.environ["GRADER_COOKIE_SECRET"]
        path = Path(self.data_dir) / "cookie_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(os.urandom(32).hex())
        return path.read_text().strip()

    @default("public_url")
    def _public_url_default(self) -> str:
        return f"http://{self.ip}:{self.port}{self.base_url}"

    # -- configuration --
    def initialize(self, argv: list[str] | None = None) -> None:
        super().initialize(argv)
        if self.subapp is not None:
            return
        self.load_all_config()

    def load_all_config(self) -> None:
        """Defaults < config file < environment (ENV_OVERRIDES) < command line."""
        cli = Config(self.cli_config) if hasattr(self, "cli_config") else Config()
        if self.config_file and Path(self.config_file).exists():
            self.load_config_file(self.config_file)
        elif self.config_file != "grader_service_config.py":
            raise SystemExit(f"grader-service: config file {self.config_file} not found")
        env: dict[str, Any] = {
            trait: os.environ[var] for var, trait in ENV_OVERRIDES.items() if os.environ.get(var)
        }
        if "port" in env:
            try:
                env["port"] = int(env["port"])
            except ValueError:
                raise SystemExit(
                    f"grader-service: GRADER_PORT must be a number, not {env['port']!r}"
                ) from None
        if env:
            self.update_config(Config({"GraderService": env}))
        self.update_config(cli)

    @property
    def upgrade_command(self) -> str:
        return (
            f"grader-service db upgrade -f {Path(self.config_file).resolve()}"
            if Path(self.config_file).exists()
            else "grader-service db upgrade"
        )

    @property
    def git_root(self) -> Path:
        return Path(self.data_dir).resolve() / "repos"

    @property
    def resource_limits(self) -> Any:
        """The executor's limits (its traits), with any deprecated GraderService.grading_* set winning."""
        limits = self.executor_class(parent=self).resource_limits()
        legacy = {
            name.removeprefix("grading_").replace("memory_limit", "memory_bytes"): getattr(self, name)
            for name in DEPRECATED_LIMITS
            if getattr(self, name) is not None
        }
        if not legacy:
            return limits
        self.log.warning(
            "GraderService.grading_* are deprecated: set %s", ", ".join(f"Executor.{k}" for k in legacy)
        )
        return dataclasses.replace(limits, **legacy)

    def task_settings(self) -> TaskSettings:
        """What the tasks need from this configuration (tasks.context builds workers' contexts from it)."""
        from grader_service.tasks.context import TaskSettings

        return TaskSettings(
            data_dir=Path(self.data_dir),
            git_root=self.git_root,
            make_executor=lambda: self.executor_class(parent=self),
            open_db=lambda: self.init_db(ensure=False),
            limits=self.resource_limits,
            total_timeout=self.autograde_timeout,
            service_url=self.public_url,
            retry_delay=self.task_retry_delay,
        )

    def init_tasks(self, db: Database, *, embedded_worker: bool) -> Any:
        """Wire the Celery app as the services' dispatcher; start the embedded worker when there is no
        broker."""
        from grader_service.tasks.celery_app import QUEUES, CeleryDispatcher, make_celery
        from grader_service.tasks.context import build_context, configure, set_context
        from grader_service.tasks.registry import register_tasks

        celery = make_celery(self.broker_url, queue_prefix=self.queue_prefix)
        register_tasks(celery, retry_delay=self.task_retry_delay)
        db.install_dispatcher(CeleryDispatcher(celery, self.queue_prefix))
        settings = self.task_settings()
        configure(settings)
        if embedded_worker and not self.broker_url:
            ctx = build_context(settings, db)
            ctx.embedded = True
            set_context(ctx)
            # says at start (in the log) when this host cannot build the grading sandbox, and warms it
            check = getattr(ctx.executor, "sandbox_refusal", None)
            if check is not None:
                threading.Thread(target=check, name="grader-sandbox-check", daemon=True).start()
            worker = celery.WorkController(
                pool_cls="threads",
                concurrency=self.embedded_worker_threads,
                queues=[self.queue_prefix + q for q in QUEUES],
                hostname="embedded@grader",
                without_heartbeat=True,
                without_mingle=True,
                without_gossip=True,
            )
            thread = threading.Thread(target=worker.start, name="grader-embedded-worker", daemon=True)
            thread.start()
            self._embedded_worker = (worker, thread)
            self.log.info(
                "Embedded worker started (%d threads; set broker_url to use separate workers)",
                self.embedded_worker_threads,
            )
        return celery

    def stop_tasks(self) -> None:
        worker_thread = getattr(self, "_embedded_worker", None)
        if worker_thread:
            worker, thread = worker_thread
            worker.stop()
            thread.join(10)

    @property
    def limits(self) -> Limits:
        return Limits(
            cell_timeout_default=self.cell_timeout_default,
            cell_timeout_min=self.cell_timeout_min,
            cell_timeout_max=self.cell_timeout_max,
            autograde_timeout=self.autograde_timeout,
        )

    def init_db(self, *, ensure: bool = True) -> Database:
        if self.db_url.startswith("sqlite"):
            Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        db = Database(self.db_url, threads=self.db_threads)
        if ensure:
            ensure_schema(db.engine, auto_upgrade=self.upgrade_db, upgrade_command=self.upgrade_command)
        return db

    # -- the web application --
    def make_app(self, db: Database) -> web.Application:
        from grader_service.api import default_handlers
        from grader_service.api.base import NotFoundHandler
        from grader_service.git.smart_http import git_handlers
        from grader_service.git.store import RepoStore
        from grader_service.web.application import ClientAddressApplication, log_request
        from grader_service.web.login_handlers import default_handlers as login_routes
        from grader_service.web.oauth_handlers import default_handlers as oauth_routes

        auth_handlers = [*login_routes, *oauth_routes]
        auth_settings = self.auth_settings()

        prefix = "/" + self.base_url.strip("/")
        prefix = "" if prefix == "/" else prefix
        handlers: list[Any] = [(prefix + pattern, handler) for pattern, handler in default_handlers]
        handlers.append((prefix + r"/api/.*", NotFoundHandler))
        handlers.extend((prefix + pattern, handler) for pattern, handler in auth_handlers)
        handlers.extend(git_handlers(prefix + "/"))
        settings: dict[str, Any] = {
            "db": db,
            "admin_users": frozenset(self.admin_users),
            "limits": self.limits,
            "base_url": prefix + "/",
            "public_url": self.public_url,
            "data_dir": self.data_dir,
            "log_function": log_request,
            "gradebook_max_page_size": self.gradebook_max_page_size,
            "check_responses": self.check_responses,
            "git_store": RepoStore(self.git_root),
            "git_access": self.make_git_access(db, auth_settings["hub_auth"]),
            # what remote workers' claims hand out (api/worker_jobs.py): grading limits and per-job options
            "grading_limits": dataclasses.asdict(self.resource_limits),
            "executor_job_options": self.executor_job_options(),
            **auth_settings,
        }
        return ClientAddressApplication(handlers, **settings)

    def executor_job_options(self) -> Any:
        """For a remote executor (KubernetesExecutor): (lecture code, assignment id) → that job's options
        (pod image and resources from its per-lecture tables), resolved here for remote workers' claims."""
        if not getattr(self.executor_class, "remote", False):
            return None
        return self.executor_class(parent=self).job_options

    def auth_settings(self) -> dict[str, Any]:
        """Settings of the login pages, the OAuth2 provider and hub-token mode (ValueError on bad config)."""
        from grader_service.auth.client_address import parse_networks
        from grader_service.auth.hub import HubTokenAuth
        from grader_service.auth.oauth_provider import parse_clients
        from grader_service.auth.role_mapping import parse_load_roles
        from grader_service.auth.throttle import LoginThrottle
        from grader_service.services.sign_in import remember_hub_token
        from grader_service.web.http_client import tornado_fetch

        authenticator = self.authenticator_class(parent=self)
        authenticator.check_config(self.ip)
        authenticator.fetch = tornado_fetch
        rules = parse_load_roles(self.load_roles)
        hub_auth = None
        if self.hub_token_auth:
            if not self.hub_api_url:
                raise ValueError("hub_token_auth needs GraderService.hub_api_url (or env JUPYTERHUB_API_URL)")
            hub_auth = HubTokenAuth(
                self.hub_api_url,
                self.hub_service_name,
                remember_hub_token,
                tornado_fetch,
                self.hub_api_token,
                self.hub_token_cache_ttl,
                rules,
            )
        settings: dict[str, Any] = {
            "authenticator": authenticator,
            "oauth_clients": parse_clients(self.oauth_clients),
            "role_rules": rules,
            "login_session_ttl": self.login_session_ttl,
            "oauth_code_ttl": self.oauth_code_ttl,
            "oauth_token_ttl": self.oauth_token_ttl,
            "cookie_secret": self.cookie_secret,
            "hub_auth": hub_auth,
            "login_throttle": LoginThrottle(parent=self),
            "trusted_proxies": parse_networks(self.trusted_proxies),
        }
        if hub_auth is not None:
            settings["token_fallback"] = hub_auth.actor_for
        return settings

    def make_git_access(self, db: Database, hub_auth: Any = None) -> Any:
        """The access callable the git handlers ask before serving (web.git_gate)."""
        from grader_service.services.git_access import GitLimits
        from grader_service.web.git_gate import git_gate

        limits = GitLimits(
            max_file_size=self.git_max_file_size,
            max_files=self.git_max_files,
            max_push_size=self.git_max_push_size,
            max_push_inflated=self.git_max_push_inflated,
            max_objects=self.git_max_objects,
            allowed_extensions=frozenset(self.git_allowed_extensions) or None,
        )
        return git_gate(db, limits, frozenset(self.admin_users), hub_auth)

    def start(self) -> None:
        if self.subapp is not None:
            self.subapp.start()
            return
        if self.generate_config:
            path = Path(self.config_file)
            if path.exists():
                raise SystemExit(f"{path} exists; remove it first or pass -f with another name")
            path.write_text(self.generate_config_file())
            print(f"Wrote {path}")
            return
        logging.basicConfig(
            level=self.log_level, format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s"
        )
        try:
            self.auth_settings_check()
            db = self.init_db()
        except ValueError as exc:
            self.log.critical("configuration error: %s", exc)
            sys.exit(1)
        except SchemaBehind as exc:
            self.log.critical("%s", exc)
            sys.exit(1)
        self.init_tasks(db, embedded_worker=True)
        try:
            asyncio.run(self.serve(db))
        finally:
            self.stop_tasks()
            db.close()

    def auth_settings_check(self) -> None:
        """Fail at start, with the field named, on a bad authenticator, oauth_clients or load_roles config."""
        self.auth_settings()

    async def serve(self, db: Database) -> None:
        from grader_service.web.application import release_sweep

        app = self.make_app(db)
        # xheaders off: X-Forwarded-For is believed only from trusted_proxies (web.application)
        server = HTTPServer(app, xheaders=False, max_body_size=1 << 40)
        server.listen(self.port, self.ip)
        # Everything imported and built so far lives as long as the process: keep it out of the cyclic
        # garbage collector's full passes, which otherwise walk it all (tens of ms) during some requests.
        gc.freeze()
        self.log.info(
            "Grader Service %s listening on http://%s:%s%s (database: %s)",
            __version__,
            self.ip,
            self.port,
            self.base_url,
            db.engine.url.render_as_string(hide_password=True),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        sweep = release_sweep(db, self.feedback_release_interval)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        self.log.info("Shutting down")
        if sweep is not None:
            sweep.stop()
        server.stop()
        await server.close_all_connections()


def main(argv: list[str] | None = None) -> None:
    app = GraderService.instance()
    app.initialize(argv)
    app.start()


if __name__ == "__main__":
    main()

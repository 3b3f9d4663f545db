"""`grader-worker -f config.py`: a Celery worker on the configured queues, with the service's config.

Two modes. A database worker (the default) opens the database and the data dir, like the service. A remote
worker (`GraderWorker.service_url` set, with a worker token) opens neither: it consumes only the autograde
queue, runs a remote executor (KubernetesExecutor) and keeps the job's state through the service's
/api/worker routes, so it needs only the broker URL, the service URL and its token.
"""

from __future__ import annotations

import logging
import os
import socket
import sys

from traitlets import Integer, List, Unicode, default
from traitlets.config import Application

from grader_service import __version__
from grader_service.app import GraderService

REMOTE_QUEUES = ["autograde"]


class GraderWorker(Application):
    """Runs tasks from the broker: autograde jobs, assignment generation, grade recomputes."""

    name = "grader-worker"
    version = __version__
    description = "Celery worker of the grader service (reads the same config file as grader-service)."
    config_file = Unicode("grader_service_config.py", help="The config file to load.").tag(config=True)
    queues = List(
        Unicode(),
        help="Queues this worker consumes (default: autograde, generate, grades and batch; "
        "a remote worker consumes autograde only).",
    ).tag(config=True)
    concurrency = Integer(0, help="Tasks run at once (default: the number of CPUs).").tag(config=True)
    pool = Unicode("prefork", help="Celery pool: prefork (default), threads or solo.").tag(config=True)
    worker_name = Unicode(help="Node name (default grader@<host>-<pid>).").tag(config=True)
    service_url = Unicode(
        help="Remote mode: the URL this worker reaches the grader service's API at, e.g. "
        "http://grader-service:4010/ (env: GRADER_SERVICE_URL). When set, the worker never opens "
        "the database (db_url is ignored) or the data dir: it claims autograde jobs and reports "
        "their failures over HTTP with `api_token`, consumes only the autograde queue, and needs a "
        "remote executor (executor_class = KubernetesExecutor, whose pods post their results to "
        "the service themselves). Run a database worker for the generate, grades and batch "
        "queues. Empty (the default): a database worker."
    ).tag(config=True)
    api_token = Unicode(
        help="Remote mode: the worker token, from `grader-service token create --user "
        "grader-worker --worker` (env: GRADER_WORKER_TOKEN; keep it out of the config file, "
        "e.g. in a Kubernetes secret). It may only claim and report autograde jobs."
    ).tag(config=True)
    log_level = 20
    aliases = {
        "f": "GraderWorker.config_file",
        "config": "GraderWorker.config_file",
        "queues": "GraderWorker.queues",
        "concurrency": "GraderWorker.concurrency",
        "pool": "GraderWorker.pool",
        "name": "GraderWorker.worker_name",
        "service-url": "GraderWorker.service_url",
        "log-level": "Application.log_level",
    }

    @default("service_url")
    def _service_url_default(self) -> str:
        return os.environ.get("GRADER_SERVICE_URL", "")

    @default("api_token")
    def _api_token_default(self) -> str:
        return os.environ.get("GRADER_WORKER_TOKEN", "")

    def start(self) -> None:
        logging.basicConfig(
            level=self.log_level, format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s"
        )
        service = GraderService(config=self.config)
        service.config_file = self.config_file
        service.cli_config = self.config
        service.load_all_config()
        self.update_config(service.config)  # the GraderWorker section of the config file
        if not service.broker_url:
            self.log.critical(
                "grader-worker needs broker_url (or GRADER_BROKER_URL): without a broker, "
                "grader-service runs its own embedded worker"
            )
            sys.exit(2)
        from grader_service.tasks.celery_app import QUEUES, make_celery
        from grader_service.tasks.registry import register_tasks

        if self.service_url:
            queues = self.queues or REMOTE_QUEUES
            self.configure_remote(service, queues)
        else:
            queues = self.queues or list(QUEUES)
            self.configure_database(service)
        self.check_sandbox(service)
        celery = make_celery(service.broker_url, queue_prefix=service.queue_prefix)
        register_tasks(celery, retry_delay=service.task_retry_delay)
        worker = celery.Worker(
            hostname=self.worker_name or f"grader@{socket.gethostname()}-{os.getpid()}",
            queues=[service.queue_prefix + q for q in queues],
            concurrency=self.concurrency or os.cpu_count() or 1,
            pool_cls=self.pool,
            loglevel=logging.getLevelName(self.log_level),
            without_gossip=True,
            without_mingle=True,
            optimization="fair",
        )
        worker.start()
        sys.exit(worker.exitcode or 0)

    def check_sandbox(self, service: GraderService) -> None:
        """Refuse to start when the executor cannot build its sandbox here (missing privileges, a Python
        the kernel uid cannot read): the message says what is missing and how to fix it."""
        executor = service.executor_class(parent=service)
        try:
            refusal = getattr(executor, "sandbox_refusal", lambda: "")()
        finally:
            close = getattr(executor, "close", None)
            if close is not None:
                close()
        if refusal:
            self.log.critical("%s", refusal)
            sys.exit(2)

    def configure_database(self, service: GraderService) -> None:
        from grader_service.orm.migrate import SchemaBehind, ensure_schema
        from grader_service.tasks.context import configure

        db = service.init_db(ensure=False)
        try:
            ensure_schema(db.engine, auto_upgrade=False, upgrade_command=service.upgrade_command)
        except SchemaBehind as exc:
            self.log.critical("%s", exc)
            sys.exit(1)
        db.close()
        configure(service.task_settings())

    def configure_remote(self, service: GraderService, queues: list[str]) -> None:
        """Check the remote-mode settings (and the token, at the service) before consuming anything."""
        from grader_service.executors.base import InfrastructureError
        from grader_service.tasks.context import configure_remote
        from grader_service.tasks.service_client import ServiceClient, ServiceRefused

        problems = []
        if not self.api_token:
            problems.append(
                "remote mode (GraderWorker.service_url) needs GraderWorker.api_token (or "
                "GRADER_WORKER_TOKEN): create one with `grader-service token create --user "
                "grader-worker --worker`"
            )
        if not getattr(service.executor_class, "remote", False):
            problems.append(
                f"remote mode needs a remote executor (GraderService.executor_class = "
                f"'grader_service.executors.kubernetes.KubernetesExecutor'), not "
                f"{service.executor_class.__name__}, which grades on this host's disk"
            )
        others = sorted(set(queues) - set(REMOTE_QUEUES))
        if others:
            problems.append(
                f"a remote worker consumes only the autograde queue, not {others}; run a database "
                "worker for those"
            )
        if problems:
            for problem in problems:
                self.log.critical("%s", problem)
            sys.exit(2)
        try:
            who = ServiceClient(self.service_url, self.api_token, tries=1).whoami()
            self.log.info(
                "remote mode: service %s, worker account %s (no database, no data dir)",
                self.service_url,
                who.get("worker"),
            )
        except InfrastructureError as exc:
            if "refused the worker token" in str(exc):
                self.log.critical("%s", exc)
                sys.exit(2)
            self.log.warning("%s; starting anyway (tasks retry until it answers)", exc)
        except ServiceRefused as exc:
            self.log.critical(
                "the service at %s does not offer the worker API (%s): is it older than this worker?",
                self.service_url,
                exc,
            )
            sys.exit(2)
        configure_remote(service.task_settings(), self.service_url, self.api_token)


def main(argv: list[str] | None = None) -> None:
    app = GraderWorker.instance()
    app.initialize(argv)
    app.start()


if __name__ == "__main__":
    main()

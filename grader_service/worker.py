"""`grader-worker -f config.py`: a Celery worker on the configured queues, with the service's config."""

from __future__ import annotations

import logging
import os
import socket
import sys

from traitlets import Integer, List, Unicode
from traitlets.config import Application

from grader_service import __version__
from grader_service.app import GraderService
from grader_service.orm.migrate import SchemaBehind, ensure_schema


class GraderWorker(Application):
    """Runs tasks from the broker: autograde jobs, assignment generation, grade recomputes."""

    name = "grader-worker"
    version = __version__
    description = "Celery worker of the grader service (reads the same config file as grader-service)."
    config_file = Unicode("grader_service_config.py", help="The config file to load.").tag(config=True)
    queues = List(Unicode(), ["autograde", "grades", "batch"], help="Queues this worker consumes.").tag(config=True)
    concurrency = Integer(0, help="Tasks run at once (default: the number of CPUs).").tag(config=True)
    pool = Unicode("prefork", help="Celery pool: prefork (default), threads or solo.").tag(config=True)
    worker_name = Unicode(help="Node name (default grader@<host>-<pid>).").tag(config=True)
    log_level = 20
    aliases = {"f": "GraderWorker.config_file", "config": "GraderWorker.config_file",
               "queues": "GraderWorker.queues", "concurrency": "GraderWorker.concurrency",
               "pool": "GraderWorker.pool", "name": "GraderWorker.worker_name",
               "log-level": "Application.log_level"}

    def start(self) -> None:
        logging.basicConfig(level=self.log_level, format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s")
        service = GraderService(config=self.config)
        service.config_file = self.config_file
        service.cli_config = self.config
        service.load_all_config()
        if not service.broker_url:
            self.log.critical("grader-worker needs broker_url (or GRADER_BROKER_URL): without a broker, "
                              "grader-service runs its own embedded worker")
            sys.exit(2)
        db = service.init_db(ensure=False)
        try:
            ensure_schema(db.engine, auto_upgrade=False, upgrade_command=service.upgrade_command)
        except SchemaBehind as exc:
            self.log.critical("%s", exc)
            sys.exit(1)
        db.close()
        from grader_service.tasks.celery_app import make_celery
        from grader_service.tasks.context import configure
        from grader_service.tasks.registry import register_tasks

        configure(service)
        celery = make_celery(service.broker_url, queue_prefix=service.queue_prefix)
        register_tasks(celery)
        worker = celery.Worker(
            hostname=self.worker_name or f"grader@{socket.gethostname()}-{os.getpid()}",
            queues=[service.queue_prefix + q for q in self.queues],
            concurrency=self.concurrency or os.cpu_count() or 1, pool_cls=self.pool,
            loglevel=logging.getLevelName(self.log_level), without_gossip=True, without_mingle=True,
            optimization="fair")
        worker.start()
        sys.exit(worker.exitcode or 0)


def main(argv: list[str] | None = None) -> None:
    app = GraderWorker.instance()
    app.initialize(argv)
    app.start()


if __name__ == "__main__":
    main()

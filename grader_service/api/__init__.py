"""REST handlers: the joined route table of every API module (each module ends with its own list)."""

from __future__ import annotations

from grader_service.api import (
    assignments,
    extensions,
    gradebook,
    grading,
    grading_record,
    health,
    lectures,
    passwords,
    remote_jobs,
    submissions,
    users,
    worker_jobs,
)
from grader_service.auth.decorators import check_handler_rules

default_handlers: list[tuple[str, type]] = [
    *health.default_handlers,
    *users.default_handlers,
    *passwords.default_handlers,
    *lectures.default_handlers,
    *assignments.default_handlers,
    *extensions.default_handlers,
    *submissions.default_handlers,
    *grading.default_handlers,
    *grading_record.default_handlers,
    *remote_jobs.default_handlers,
    *worker_jobs.default_handlers,
    *gradebook.default_handlers,
]

check_handler_rules(default_handlers)

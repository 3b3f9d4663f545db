"""Background tasks, each name declared once with its queue: services enqueue them (services.dispatch),
the Celery app registers and routes them (tasks/), InlineDispatcher runs them in tests.

It sits below services/, grades/ and tasks/ so each can import it without importing the others.
"""

from __future__ import annotations

from enum import StrEnum


class Task(StrEnum):
    """A task name (what a message carries) with the queue it is routed to (`Task.X.queue`)."""

    queue: str

    def __new__(cls, name: str, queue: str) -> Task:
        member = str.__new__(cls, name)
        member._value_ = name
        member.queue = queue
        return member

    @classmethod
    def named(cls, name: str) -> Task:
        """The task called `name` (a member is its own name); ValueError for a name that is none."""
        for task in cls:
            if task.value == name:
                return task
        raise ValueError(f"unknown task {name!r}")

    AUTOGRADE = "autograde.run", "autograde"
    # its own queue: remote workers (service URL only) consume `autograde` and cannot generate
    GENERATE = "assignments.generate", "generate"
    RECOMPUTE_LEARNER = "grades.recompute_learner", "grades"
    RECOMPUTE_LECTURE = "grades.recompute_lecture", "batch"
    # database workers: feedback pages are read from and committed to the git store
    FEEDBACK = "feedback.generate", "feedback"
    FEEDBACK_BULK = "feedback.bulk", "feedback"


#: every queue, in the order workers list them: autograde (database or remote workers), generate
#: (releases), grades (the stream queue of grade updates), batch (lecture-wide recomputes), feedback (pages)
QUEUES: tuple[str, ...] = tuple(dict.fromkeys(task.queue for task in Task))

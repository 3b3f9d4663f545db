"""The states and kinds the domain names: stored by the ORM (orm/models.py uses these) and shown by the API's
response models, so each list of values is written once."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    student = "student"
    tutor = "tutor"
    instructor = "instructor"


class LectureStatus(enum.StrEnum):
    active = "active"
    archived = "archived"


class AssignmentStatus(enum.StrEnum):
    created = "created"
    released = "released"
    closed = "closed"


class GradingBasis(enum.StrEnum):
    """Which of a learner's scored submissions counts for the assignment grade."""

    best = "best"
    latest = "latest"


class FeedbackRelease(enum.StrEnum):
    """When a submission's feedback reaches the student."""

    manual = "manual"
    on_grading = "on_grading"
    after_deadline = "after_deadline"


class ScoreVisibility(enum.StrEnum):
    """When a student sees the scores of a submission."""

    immediate = "immediate"
    after_feedback = "after_feedback"


class AutoStatus(enum.StrEnum):
    pending = "pending"
    running = "running"
    automatically_graded = "automatically_graded"
    grading_failed = "grading_failed"


class ManualStatus(enum.StrEnum):
    not_graded = "not_graded"
    being_edited = "being_edited"
    manually_graded = "manually_graded"


class FeedbackStatus(enum.StrEnum):
    not_generated = "not_generated"
    generating = "generating"
    generated = "generated"
    released = "released"
    generation_failed = "generation_failed"


class JobState(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class GradedVersion(enum.StrEnum):
    """Which version of a submission autograde graded: the student's commit or a tutor's corrected copy
    (the submission's `edit` repo)."""

    original = "original"
    edit = "edit"


class CellKind(enum.StrEnum):
    """The kind of a graded or commented notebook cell: answers carry comments only, tests points only,
    manual answers and tasks both."""

    autograded_answer = "autograded_answer"
    autograded_test = "autograded_test"
    manual_answer = "manual_answer"
    task = "task"

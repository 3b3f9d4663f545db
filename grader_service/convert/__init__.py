"""Pure notebook pipeline: generate the student version, autograde a submission, render feedback.

No database, HTTP, Celery or tornado here. Workers call the functions below in-process; the
`grader-convert` CLI (``cli.py``) wraps the same functions for executors that run it as a subprocess.
"""

from grader_service.convert.converters import autograde, generate_assignment, generate_feedback
from grader_service.convert.errors import (
    ConvertError,
    GradebookError,
    KernelStartError,
    MetadataError,
    NotebookReadError,
    SchemaTooNewError,
)
from grader_service.convert.gradebook import load_gradebook, save_gradebook

__all__ = [
    "ConvertError",
    "GradebookError",
    "KernelStartError",
    "MetadataError",
    "NotebookReadError",
    "SchemaTooNewError",
    "autograde",
    "generate_assignment",
    "generate_feedback",
    "load_gradebook",
    "save_gradebook",
]

"""Pure notebook pipeline: generate the student version, autograde a submission, render feedback.

No database, HTTP, Celery or tornado here. Workers call the functions below in-process; the
`grader-convert` CLI (``cli.py``) wraps the same functions for executors that run it as a subprocess.
"""

from grader_service.convert.cell_records import load_cell_records, save_cell_records
from grader_service.convert.converters import autograde, generate_assignment, generate_feedback
from grader_service.convert.errors import (
    ConvertError,
    GradebookError,
    KernelStartError,
    MetadataError,
    NotebookReadError,
    SchemaTooNewError,
)

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
    "load_cell_records",
    "save_cell_records",
]

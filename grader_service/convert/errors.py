"""Errors of the notebook pipeline: each message names the notebook, the cell and the reason."""

from __future__ import annotations


class ConvertError(Exception):
    """Base class: the conversion could not be done; `str(err)` is meant for the user."""


class NotebookReadError(ConvertError):
    """A file is not a readable notebook (not UTF-8, not JSON, not nbformat 4)."""


class MetadataError(ConvertError):
    """A cell's nbgrader metadata is invalid (bad field, duplicate grade_id, stray markers)."""


class SchemaTooNewError(MetadataError):
    """A cell uses an nbgrader metadata schema newer than the one this pipeline knows."""


class GradebookError(ConvertError):
    """The assignment gradebook is missing, unreadable or does not match the notebooks."""


class KernelStartError(ConvertError):
    """The kernel that should run a submission could not be started."""

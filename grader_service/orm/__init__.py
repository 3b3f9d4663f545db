"""orm package of the grader service."""

from grader_service.orm import grading  # noqa: F401  (registers the grading-record tables on the metadata)

"""Converters: ordered lists of preprocessors with the folder-level entry points."""

from grader_service.convert.converters.autograde import Autograde, autograde
from grader_service.convert.converters.base import Converter
from grader_service.convert.converters.generate_assignment import GenerateAssignment, generate_assignment
from grader_service.convert.converters.generate_feedback import GenerateFeedback, generate_feedback

__all__ = [
    "Autograde",
    "Converter",
    "GenerateAssignment",
    "GenerateFeedback",
    "autograde",
    "generate_assignment",
    "generate_feedback",
]

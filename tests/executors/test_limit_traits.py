"""Grading limits are the executor's traits, with ResourceLimits' defaults as the only defaults; the
service sends what the configured executor says (the deprecated GraderService.grading_* still win)."""

from __future__ import annotations

from dataclasses import fields

from traitlets.config import Config

from grader_service.app import GraderService
from grader_service.executors.base import Executor, ResourceLimits
from grader_service.executors.local import LocalExecutor


def test_the_traits_default_to_resource_limits():
    assert Executor().resource_limits() == ResourceLimits()
    for f in fields(ResourceLimits):
        assert Executor.class_traits()[f.name].default_value == f.default
    assert GraderService().resource_limits == ResourceLimits()


def test_the_configured_executor_decides_and_the_deprecated_names_still_win():
    config = Config()
    config.Executor.cpu_seconds = 120
    config.LocalExecutor.max_output_bytes = 1 << 20
    config.GraderService.executor_class = LocalExecutor
    config.GraderService.grading_max_processes = 8
    limits = GraderService(config=config).resource_limits
    assert (limits.cpu_seconds, limits.max_output_bytes, limits.max_processes) == (120, 1 << 20, 8)
    assert limits.memory_bytes == ResourceLimits.memory_bytes

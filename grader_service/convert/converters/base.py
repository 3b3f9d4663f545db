"""Converter: runs an ordered list of preprocessors over one notebook."""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from traitlets import List, Type
from traitlets.config import Config, LoggingConfigurable

from grader_service.convert.preprocessors.base import Preprocessor, Resources


class Converter(LoggingConfigurable):
    """An ordered list of preprocessor classes, instantiated once with the converter's config.

    `convert` calls every step's `begin` first (so a kernel can boot while the cheap steps run), then the
    steps in order, then every step's `end`, even when a step raised.
    """

    preprocessors = List(Type(klass=Preprocessor), help="Steps, in the order they run.").tag(config=True)

    def __init__(self, config: Config | None = None, **kwargs: Any) -> None:
        super().__init__(config=config or Config(), **kwargs)
        self.steps: list[Preprocessor] = [cls(parent=self) for cls in self.preprocessors]

    def step(self, cls: type[Preprocessor]) -> Preprocessor:
        """The instance of one step class."""
        return next(step for step in self.steps if isinstance(step, cls))

    def convert(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        """Run the steps over `nb` (edited in place) and return it with the resources they filled."""
        resources.setdefault("log", [])
        try:
            for step in self.steps:
                step.begin(resources) if step.enabled else None
            for step in self.steps:
                nb, resources = step(nb, resources)
        finally:
            for step in self.steps:
                step.end(resources)
        return nb, resources

"""ValidateMetadata: upgrade nbgrader cell metadata to version 3 and reject invalid notebooks."""

from __future__ import annotations

from nbformat import NotebookNode

from grader_service.convert.metadata.validator import upgrade_and_validate
from grader_service.convert.preprocessors.base import Preprocessor, Resources


class ValidateMetadata(Preprocessor):
    """Upgrade every cell's `metadata.nbgrader` (versions 0-2) to version 3 and validate it.

    Side effects: rewrites old metadata in place; appends upgrade notes to ``resources["log"]``; raises
    MetadataError / SchemaTooNewError naming the notebook and cell for invalid metadata, a too-new schema
    version or a duplicate grade_id.
    """

    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        for line in upgrade_and_validate(nb, resources.get("notebook", "notebook")):
            self.note(resources, line)
        return nb, resources

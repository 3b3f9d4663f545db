"""nbgrader cell metadata: the versioned JSON Schema, upgrades of old versions, and validation."""

from grader_service.convert.metadata.upgrade import CURRENT_VERSION
from grader_service.convert.metadata.validator import cell_schema, upgrade_and_validate, validate_cell

__all__ = ["CURRENT_VERSION", "cell_schema", "upgrade_and_validate", "validate_cell"]

"""Validation of nbgrader cell metadata against the versioned JSON Schema, with upgrades of old versions."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import Any

import jsonschema
from nbformat import NotebookNode

from grader_service.convert import cells
from grader_service.convert.errors import MetadataError, SchemaTooNewError
from grader_service.convert.metadata.upgrade import CURRENT_VERSION, upgrade_cell_metadata

SCHEMA_FILE = f"nbgrader-cell-v{CURRENT_VERSION}.schema.json"


@lru_cache(maxsize=1)
def cell_schema() -> dict[str, Any]:
    """The JSON Schema of a cell's nbgrader metadata (version 3)."""
    text = importlib_resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = cell_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def describe_cell(name: str, index: int, cell: NotebookNode) -> str:
    """'p1.ipynb: cell 3 (grade_id 'bar')': how error messages name a cell."""
    grade_id = cells.nbgrader_meta(cell).get("grade_id")
    label = f"{name}: cell {index}"
    return f"{label} (grade_id {grade_id!r})" if grade_id else label


def _explain(error: jsonschema.ValidationError, instance: dict[str, Any]) -> str:
    rule = _broken_rule(instance)
    if rule:
        return rule
    path = [str(p) for p in error.absolute_path if p != "nbgrader"]
    field = ".".join(path)
    if field == "grade_id":
        return "field 'grade_id' must be a non-empty name of letters, digits, '_' and '-'"
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        what = missing[0] if missing else error.message
        return f"missing required field {what!r}"
    return f"field {field!r}: {error.message}" if field else error.message


def _broken_rule(instance: dict[str, Any]) -> str | None:
    """The cross-field rule a cell breaks, said in words (the schema's if/then errors are cryptic)."""
    meta = instance.get("nbgrader", {})
    kind = instance.get("cell_type", "")
    if meta.get("task") and kind and kind != "markdown":
        return "a task cell must be a markdown cell"
    if kind == "markdown" and meta.get("grade") and not meta.get("solution"):
        return "a graded markdown cell must also be a solution cell (manually graded answer)"
    if kind == "markdown" and meta.get("solution") and not meta.get("grade"):
        return "a markdown solution cell must also be a grade cell with points (manually graded answer)"
    if meta.get("task") and (meta.get("grade") or meta.get("solution")):
        return "a task cell cannot also be a grade or solution cell"
    return None


def validate_cell(cell: NotebookNode, index: int, name: str) -> None:
    """Raise MetadataError naming the cell when its nbgrader metadata breaks the version-3 schema."""
    meta = cells.nbgrader_meta(cell)
    version = meta.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > CURRENT_VERSION:
        raise SchemaTooNewError(
            f"{describe_cell(name, index, cell)}: nbgrader metadata schema version {version} is newer than "
            f"version {CURRENT_VERSION}, the newest this grader supports; update Grader Service"
        )
    instance = {"cell_type": cell.get("cell_type"), "nbgrader": meta}
    errors = sorted(_validator().iter_errors(instance), key=lambda e: (len(e.absolute_path), e.message))
    if errors:
        raise MetadataError(
            f"{describe_cell(name, index, cell)}: invalid nbgrader metadata: {_explain(errors[0], instance)}"
        )


def upgrade_and_validate(nb: NotebookNode, name: str) -> list[str]:
    """Upgrade every cell's nbgrader metadata to version 3 in place and validate the notebook.

    Returns log lines describing upgrades. Raises MetadataError (naming the cell) for an invalid cell,
    a version that is too new, or a grade_id used by two cells.
    """
    log: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        raw = cell.get("metadata", {}).get("nbgrader")
        if raw is None:
            continue
        if not isinstance(raw, dict):
            raise MetadataError(f"{name}: cell {index}: metadata.nbgrader must be an object")
        old = raw.get("schema_version", 0)
        upgraded = upgrade_cell_metadata(dict(raw), index, cell.cell_type, cells.source_text(cell))
        if upgraded != raw:
            cell.metadata["nbgrader"] = NotebookNode(upgraded)
            log.append(
                f"{describe_cell(name, index, cell)}: nbgrader metadata upgraded from version {old} to 3"
            )
        validate_cell(cell, index, name)
        if not cells.has_role(cell):
            continue
        grade_id = cells.nbgrader_meta(cell)["grade_id"]
        if grade_id in seen:
            raise MetadataError(
                f"{describe_cell(name, index, cell)}: duplicate grade_id {grade_id!r}, "
                f"already used by cell {seen[grade_id]}"
            )
        seen[grade_id] = index
    return log

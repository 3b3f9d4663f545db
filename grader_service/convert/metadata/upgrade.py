"""Upgrades of older nbgrader cell metadata (versions 0, 1 and 2) to version 3."""

from __future__ import annotations

import hashlib
from typing import Any

CURRENT_VERSION = 3


def _generated_grade_id(index: int, source: str) -> str:
    # Deterministic, so generating an assignment twice gives the same ids.
    return "cell-" + hashlib.sha1(f"{index}:{source}".encode(), usedforsecurity=False).hexdigest()[:16]


def _to_points(value: Any) -> Any:
    """Versions 0 and 1 allowed points as text ("1"); later versions want a number."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value  # left for the schema to reject with a clear message
    return value


def upgrade_v0(meta: dict[str, Any], index: int, source: str) -> dict[str, Any]:
    """Version 0 (no schema_version): fill in missing flags and ids, points as numbers."""
    meta = dict(meta)
    for flag in ("grade", "solution", "locked"):
        meta[flag] = bool(meta.get(flag, False))
    if "points" in meta:
        meta["points"] = _to_points(meta["points"])
    if not meta.get("grade_id"):
        meta["grade_id"] = _generated_grade_id(index, source)
    meta["schema_version"] = 1
    return meta


def upgrade_v1(meta: dict[str, Any], cell_type: str) -> dict[str, Any]:
    """Version 1 → 2: released cells record the type they had (`cell_type`)."""
    meta = dict(meta)
    if "points" in meta:
        meta["points"] = _to_points(meta["points"])
    if "checksum" in meta and "cell_type" not in meta:
        meta["cell_type"] = cell_type
    meta["schema_version"] = 2
    return meta


def upgrade_v2(meta: dict[str, Any], cell_type: str) -> dict[str, Any]:
    """Version 2 → 3: the `task` flag exists (and a released cell's type, if a tool left it out)."""
    meta = dict(meta)
    if "checksum" in meta and "cell_type" not in meta:
        meta["cell_type"] = cell_type
    meta.setdefault("task", False)
    meta["schema_version"] = 3
    return meta


def upgrade_cell_metadata(meta: dict[str, Any], index: int, cell_type: str, source: str) -> dict[str, Any]:
    """Bring one cell's nbgrader metadata to version 3; a version above 3 is returned unchanged."""
    version = meta.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        return meta  # the schema names the bad field
    if version == 0:
        meta = upgrade_v0(meta, index, source)
        version = 1
    if version == 1:
        meta = upgrade_v1(meta, cell_type)
        version = 2
    if version == 2:
        meta = upgrade_v2(meta, cell_type)
    return meta

"""What regenerating an assignment changed, read from its old and new gradebooks (for the job's result)."""

from __future__ import annotations

from typing import Any


def _cells(book: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for name, nb in ((book or {}).get("notebooks") or {}).items():
        for cell in nb.get("cells") or []:
            out[(name, str(cell.get("grade_id")))] = cell
    return out


def gradebook_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Notebooks and graded cells added and removed, points changed, cells whose test or task source
    changed (as `notebook:grade_id`), and the max score before and after. `changed` is False when a
    regeneration changed nothing students or grades would notice."""
    before, after = _cells(old), _cells(new)
    label = "{}:{}".format
    old_nbs = set((old or {}).get("notebooks") or {})
    new_nbs = set(new.get("notebooks") or {})
    points = {
        label(*key): {"before": before[key].get("points"), "after": after[key].get("points")}
        for key in sorted(before.keys() & after.keys())
        if before[key].get("points") != after[key].get("points")
    }
    sources = [
        label(*key)
        for key in sorted(before.keys() & after.keys())
        if before[key].get("source") != after[key].get("source")
        or before[key].get("release_source") != after[key].get("release_source")
    ]
    out: dict[str, Any] = {
        "notebooks_added": sorted(new_nbs - old_nbs),
        "notebooks_removed": sorted(old_nbs - new_nbs),
        "cells_added": [label(*k) for k in sorted(after.keys() - before.keys())],
        "cells_removed": [label(*k) for k in sorted(before.keys() - after.keys())],
        "points_changed": points,
        "sources_changed": sources,
        "max_score": {"before": (old or {}).get("max_score"), "after": new.get("max_score")},
    }
    out["changed"] = any(out[k] for k in ("notebooks_added", "notebooks_removed", "cells_added")) or bool(
        out["cells_removed"] or points or sources or out["max_score"]["before"] != out["max_score"]["after"]
    )
    return out

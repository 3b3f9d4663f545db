"""An assignment's cell records: notebooks, cells, points, checksums and protected sources, as JSON.

nbgrader calls this the assignment's gradebook, and the names it is stored and passed under keep that word
(the `Assignment.gradebook` column, `JobSpec.gradebook`, the CLI's `--gradebook`, the configurable
`SaveGradebook` preprocessor, the format tag below); in code, "gradebook" otherwise means the lecture's
gradebook of grades (grader_service.grades).

It holds hidden tests and the instructor's test sources, so it is written beside the release, never
into it. Layout::

    {"format": "grader-service-gradebook", "version": 1, "max_score": 7.0,
     "notebooks": {"p1.ipynb": {"max_score": 7.0, "language": "python", "kernelspec": {...},
                                "cells": [{"grade_id", "role", "cell_type", "points", "checksum",
                                           "source", "release_source", "hidden_tests", "metadata"}]}}}

`role` is one of answer, tests, manual, task, readonly. `source` is what autograde restores (hidden tests
and mark schemes included); `release_source` is what the student saw.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from grader_service.convert.errors import GradebookError

FORMAT = "grader-service-gradebook"
VERSION = 1
ROLES = ("answer", "tests", "manual", "task", "readonly")

_CELL_SCHEMA = {
    "type": "object",
    "required": [
        "grade_id",
        "role",
        "cell_type",
        "points",
        "checksum",
        "source",
        "release_source",
        "metadata",
    ],
    "properties": {
        "grade_id": {"type": "string", "minLength": 1},
        "role": {"enum": list(ROLES)},
        "cell_type": {"enum": ["code", "markdown", "raw"]},
        "points": {"type": "number", "minimum": 0},
        "checksum": {"type": "string"},
        "source": {"type": "string"},
        "release_source": {"type": "string"},
        "hidden_tests": {"type": "boolean"},
        "metadata": {"type": "object", "required": ["nbgrader"]},
    },
}
SCHEMA = {
    "type": "object",
    "required": ["format", "version", "max_score", "notebooks"],
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "max_score": {"type": "number", "minimum": 0},
        "notebooks": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["max_score", "cells"],
                "properties": {
                    "max_score": {"type": "number", "minimum": 0},
                    "cells": {"type": "array", "items": _CELL_SCHEMA},
                },
            },
        },
    },
}


def new_cell_records() -> dict[str, Any]:
    """An empty gradebook."""
    return {"format": FORMAT, "version": VERSION, "max_score": 0.0, "notebooks": {}}


def add_notebook(gradebook: dict[str, Any], name: str, entry: dict[str, Any]) -> None:
    """Add one notebook's entry and update the total."""
    gradebook["notebooks"][name] = entry
    gradebook["max_score"] = sum(nb["max_score"] for nb in gradebook["notebooks"].values())


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    """Built once: `jsonschema.validate` would check the schema itself on every call (most of its cost)."""
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    return cls(SCHEMA)


def validate_cell_records(gradebook: Any, label: str = "gradebook") -> dict[str, Any]:
    """Check the structure; raise GradebookError naming the bad field."""
    err = jsonschema.exceptions.best_match(_validator().iter_errors(gradebook))
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise GradebookError(f"{label}: invalid gradebook at {where}: {err.message}")
    for name, nb in gradebook["notebooks"].items():
        ids = [cell["grade_id"] for cell in nb["cells"]]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise GradebookError(f"{label}: notebook {name}: duplicate grade_id {dupes[0]!r}")
    result: dict[str, Any] = gradebook
    return result


def load_cell_records(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a gradebook file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GradebookError(f"gradebook {path}: no such file") from None
    except UnicodeDecodeError:
        raise GradebookError(f"gradebook {path}: not valid UTF-8") from None
    except OSError as err:
        raise GradebookError(f"gradebook {path}: cannot read: {err.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise GradebookError(f"gradebook {path}: invalid JSON at line {err.lineno}: {err.msg}") from None
    return validate_cell_records(data, f"gradebook {path}")


def save_cell_records(gradebook: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the gradebook as indented JSON (atomically)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(
        json.dumps(gradebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, target)


def cells_by_id(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """grade_id → cell entry of one notebook."""
    return {cell["grade_id"]: cell for cell in entry["cells"]}

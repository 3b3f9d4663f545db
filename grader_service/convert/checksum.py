"""Cell checksums with nbgrader's md5 semantics, so notebooks released by nbgrader carry over."""

from __future__ import annotations

import hashlib

from nbformat import NotebookNode

from grader_service.convert import cells


def compute_checksum(cell: NotebookNode) -> str:
    """md5 over the source, type, role flags, grade_id and (for grade cells) points.

    The field order and their text forms (Python `str(bool)`, `str(float)`) follow what nbgrader hashes,
    so a checksum nbgrader wrote into a released notebook is the one computed here.
    """
    meta = cells.nbgrader_meta(cell)
    digest = hashlib.md5(usedforsecurity=False)
    grade = cells.is_grade(cell)
    parts = [
        cells.source_text(cell),
        str(cell.get("cell_type", "")),
        str(grade),
        str(cells.is_solution(cell)),
        str(cells.is_locked(cell)),
        str(meta.get("grade_id", "")),
    ]
    if grade:
        parts.append(str(float(meta.get("points", 0) or 0)))
    for part in parts:
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()

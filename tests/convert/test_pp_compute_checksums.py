"""ComputeChecksums: nbgrader-compatible md5, so nbgrader releases carry over."""

from __future__ import annotations

from grader_service.convert.checksum import compute_checksum
from grader_service.convert.preprocessors import ComputeChecksums

from .conftest import code, make_notebook, markdown, role


def test_checksum_and_type_written_for_nbgrader_cells_only():
    nb = make_notebook([code("assert a == 1", role("bar", grade=True, points=1.0)), code("plain")])
    nb, _ = ComputeChecksums()(nb, {})
    # The value nbgrader writes for this very cell (a test `assert a == 1`, grade_id bar, 1 point).
    assert nb.cells[0].metadata.nbgrader["checksum"] == "75d78cdf605a339809ceaace462c5f33"
    assert nb.cells[0].metadata.nbgrader["cell_type"] == "code"
    assert "nbgrader" not in nb.cells[1].metadata


def test_checksum_changes_with_source_type_and_points():
    base = code("x = 1", role("a", grade=True, solution=True, points=1))
    other_points = code("x = 1", role("a", grade=True, solution=True, points=2))
    other_type = markdown("x = 1", role("a", grade=True, solution=True, points=1))
    other_source = code("x = 2", role("a", grade=True, solution=True, points=1))
    sums = {compute_checksum(c) for c in (base, other_points, other_type, other_source)}
    assert len(sums) == 4

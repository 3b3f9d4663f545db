"""SaveGradebook: the release is described with points, checksums and full protected sources."""

from __future__ import annotations


def test_gradebook_of_generated_assignment(released):
    book = released.gradebook
    entry = book["notebooks"]["five-cells.ipynb"]
    assert book["max_score"] == entry["max_score"] == 6.0
    by_id = {c["grade_id"]: c for c in entry["cells"]}
    assert [c["role"] for c in entry["cells"]] == ["readonly", "answer", "tests", "manual", "tests"]
    assert "square(-3)" in by_id["test_square"]["source"]  # hidden tests kept for autograde
    assert "square(-3)" not in by_id["test_square"]["release_source"]
    assert by_id["test_square"]["hidden_tests"] is True
    assert by_id["explain"]["cell_type"] == "markdown" and by_id["explain"]["points"] == 1.0
    release_nb = released.release_nb()
    assert [c.metadata.nbgrader["checksum"] for c in release_nb.cells] == [
        c["checksum"] for c in entry["cells"]
    ]


def test_gradebook_never_in_release(released):
    assert sorted(p.name for p in released.release.iterdir()) == ["five-cells.ipynb"]
    assert "HIDDEN" not in (released.release / "five-cells.ipynb").read_text()

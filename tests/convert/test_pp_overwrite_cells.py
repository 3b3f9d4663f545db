"""OverwriteCells: every tamper case is put back before execution (no kernel needed)."""

from __future__ import annotations

from grader_service.convert.notebook_io import change_cell_type
from grader_service.convert.preprocessors import OverwriteCells

from .conftest import cell_by_id, code


def sanitise(assignment, nb):
    entry = assignment.gradebook["notebooks"][assignment.name]
    return OverwriteCells()(nb, {"gradebook_notebook": entry, "log": []})


def test_edited_test_is_restored_with_hidden_tests(released):
    nb = released.release_nb()
    cell_by_id(nb, "test_square").source = "pass"
    nb, resources = sanitise(released, nb)
    assert "assert square(-3) == 9" in cell_by_id(nb, "test_square").source
    assert any("protected cell was changed" in t["message"] for t in resources["tampering"])


def test_edited_readonly_cell_is_restored(released):
    nb = released.release_nb()
    cell_by_id(nb, "intro").source = "I changed the task."
    cell_by_id(nb, "intro").metadata["editable"] = True
    nb, _ = sanitise(released, nb)
    assert cell_by_id(nb, "intro").source == "# Squares\nWrite `square(x)`."
    assert cell_by_id(nb, "intro").metadata["editable"] is False


def test_changed_cell_type_is_restored_without_ids(released_old):
    nb = released_old.release_nb()
    assert "id" not in nb.cells[0]
    change_cell_type(cell_by_id(nb, "test_square"), "markdown", nb)
    change_cell_type(cell_by_id(nb, "square"), "markdown", nb)
    nb, _ = sanitise(released_old, nb)
    assert cell_by_id(nb, "test_square").cell_type == "code"
    assert cell_by_id(nb, "square").cell_type == "code"
    assert cell_by_id(nb, "square").outputs == [] and "id" not in cell_by_id(nb, "square")


def test_deleted_cells_are_inserted_in_place(released):
    nb = released.release_nb()
    nb.cells = [c for c in nb.cells if c.metadata.nbgrader["grade_id"] not in ("test_square", "intro")]
    nb, resources = sanitise(released, nb)
    assert [c.metadata.nbgrader["grade_id"] for c in nb.cells] == [
        "intro",
        "square",
        "test_square",
        "explain",
        "partial",
    ]
    assert len(resources["tampering"]) == 2


def test_duplicated_grade_id_runs_as_ordinary_cell(released):
    nb = released.release_nb()
    fake = code("print('fake test')", {"nbgrader": dict(cell_by_id(nb, "test_square").metadata.nbgrader)})
    nb.cells.insert(0, fake)  # a copy placed first must not replace the real test
    nb, resources = sanitise(released, nb)
    assert "nbgrader" not in nb.cells[0].metadata
    assert "assert square(2) == 4" in cell_by_id(nb, "test_square").source
    assert any(
        "repeats grade_id" in t["message"] or "grade_id" in t["message"] for t in resources["tampering"]
    )


def test_unknown_grade_cell_cannot_add_points(released):
    nb = released.release_nb()
    nb.cells.append(
        code(
            "1",
            {
                "nbgrader": {
                    "grade": True,
                    "grade_id": "bonus",
                    "points": 100,
                    "solution": False,
                    "locked": False,
                    "schema_version": 3,
                }
            },
        )
    )
    nb, _ = sanitise(released, nb)
    assert "nbgrader" not in nb.cells[-1].metadata


def test_answer_source_is_kept(released):
    nb = released.release_nb()
    cell_by_id(nb, "square").source = "def square(x):\n    return x ** 2"
    nb, resources = sanitise(released, nb)
    assert cell_by_id(nb, "square").source.endswith("x ** 2")
    assert resources.get("tampering", []) == []

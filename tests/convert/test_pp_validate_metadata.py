"""ValidateMetadata: schema v3 validation, upgrades of versions 0-2, errors naming the cell."""

from __future__ import annotations

import pytest

from grader_service.convert.errors import MetadataError, SchemaTooNewError
from grader_service.convert.metadata import cell_schema
from grader_service.convert.notebook_io import read_notebook
from grader_service.convert.preprocessors import ValidateMetadata

from .conftest import code, make_notebook, markdown, role


def run(nb):
    return ValidateMetadata()(nb, {"notebook": "hw.ipynb", "log": []})


def test_schema_is_versioned_json_schema():
    schema = cell_schema()
    assert schema["properties"]["nbgrader"]["properties"]["schema_version"] == {
        "const": 3,
        "description": "Version of this metadata format.",
    }


def test_v1_and_v2_are_upgraded(files):
    nb = read_notebook(files / "schema-v1-v2.ipynb")
    nb, resources = run(nb)
    metas = [c.metadata.nbgrader for c in nb.cells]
    assert all(m["schema_version"] == 3 and m["task"] is False for m in metas)
    assert metas[1]["points"] == 2.0  # version 1 allowed points as text
    assert metas[2]["cell_type"] == "markdown"  # version 2 added the released type
    assert len(resources["log"]) == 3


def test_too_new_names_cell():
    meta = role("future", locked=True)
    meta["nbgrader"]["schema_version"] = 10
    with pytest.raises(SchemaTooNewError, match=r"hw.ipynb: cell 1 \(grade_id 'future'\).*version 10"):
        run(make_notebook([code("x = 1"), code("y", meta)]))


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (code("assert True", role("t", grade=True)), "missing required field 'points'"),
        (code("x", role("", solution=True)), "grade_id"),
        (code("x", role("bad id!", solution=True)), "grade_id"),
        (markdown("x", role("m", grade=True, points=1)), "graded markdown cell must also be a solution"),
        (markdown("x", role("m", solution=True)), "markdown solution cell must also be a grade cell"),
        (code("x", role("t", task=True, locked=True, points=1)), "task cell must be a markdown cell"),
        (code("x", role("t", grade=True, points=-1)), "points"),
    ],
)
def test_invalid_metadata_is_rejected_naming_the_cell(cell, message):
    with pytest.raises(MetadataError, match="hw.ipynb: cell 0") as err:
        run(make_notebook([cell]))
    assert message in str(err.value)


def test_duplicate_grade_id_is_rejected():
    nb = make_notebook(
        [code("a", role("same", solution=True)), code("b", role("same", grade=True, points=1))]
    )
    with pytest.raises(MetadataError, match="duplicate grade_id 'same', already used by cell 0"):
        run(nb)


def test_manually_graded_code_cell_is_valid():
    nb, _ = run(make_notebook([code("x = 1", role("m", grade=True, solution=True, points=2))]))
    assert nb.cells[0].metadata.nbgrader["points"] == 2

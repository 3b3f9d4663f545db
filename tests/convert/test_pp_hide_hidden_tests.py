"""HideHiddenTests: feedback shows the released test source and no hidden-test code in outputs."""

from __future__ import annotations

import nbformat

from grader_service.convert.preprocessors import HideHiddenTests

from .conftest import cell_by_id


def test_hidden_code_removed_from_source_and_traceback(released):
    nb = released.release_nb()
    test = cell_by_id(nb, "test_square")
    test.source = released.gradebook["notebooks"][released.name]["cells"][2]["source"]
    test.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="assert square(-3) == 9",
            traceback=["----> 3 assert square(-3) == 9", "AssertionError"],
        )
    ]
    entry = released.gradebook["notebooks"][released.name]
    nb, _ = HideHiddenTests()(nb, {"gradebook_notebook": entry})
    test = cell_by_id(nb, "test_square")
    assert test.source == "assert square(2) == 4"
    text = str(test.outputs)
    assert "square(-3)" not in text and "AssertionError" in text

"""ClearSolutions: stubs per language, kept indentation, markdown prompt, stray markers."""

from __future__ import annotations

import pytest

from grader_service.convert.errors import MetadataError
from grader_service.convert.preprocessors import ClearSolutions

from .conftest import code, make_notebook, markdown, role


def run(nb, **traits):
    return ClearSolutions(**traits)(nb, {"notebook": "hw.ipynb"})[0]


def test_region_replaced_with_indented_python_stub():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\nprint(f)"
    nb = run(make_notebook([code(src, role("f", solution=True))]))
    assert nb.cells[0].source == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nprint(f)"
    )


def test_solution_cell_without_region_is_replaced_whole():
    nb = run(
        make_notebook(
            [
                code("x = 42", role("x", solution=True)),
                markdown("It is 42.", role("why", grade=True, solution=True, points=1)),
            ]
        )
    )
    assert nb.cells[0].source == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert nb.cells[1].source == "YOUR ANSWER HERE"


def test_stub_is_configurable_per_language():
    nb = make_notebook([code("### BEGIN SOLUTION\nx <- 1\n### END SOLUTION", role("x", solution=True))])
    nb.metadata.kernelspec = {"name": "ir", "language": "R", "display_name": "R"}
    out = run(nb, code_stub={"r": "# DEIN CODE\nstop()"})
    assert out.cells[0].source == "# DEIN CODE\nstop()"


def test_region_in_non_solution_cell_is_an_error():
    with pytest.raises(MetadataError, match="cell 0: solution region detected"):
        run(make_notebook([code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")]))


def test_unclosed_region_is_an_error():
    with pytest.raises(MetadataError, match="never closed"):
        run(make_notebook([code("### BEGIN SOLUTION\nx = 1", role("x", solution=True))]))

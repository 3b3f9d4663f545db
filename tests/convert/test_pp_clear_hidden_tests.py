"""ClearHiddenTests: hidden blocks leave the release and are kept for the gradebook."""

from __future__ import annotations

import pytest

from grader_service.convert.errors import MetadataError
from grader_service.convert.preprocessors import ClearHiddenTests

from .conftest import code, make_notebook, role

FULL = "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n### END HIDDEN TESTS\nprint('ok')"


def test_hidden_block_removed_and_recorded():
    nb, resources = ClearHiddenTests()(make_notebook([code(FULL, role("t", grade=True, points=1))]), {})
    assert nb.cells[0].source == "assert f(1) == 1\nprint('ok')"
    assert resources["instructor_sources"] == {"t": FULL}
    assert resources["hidden_tests"] == ["t"]


def test_hidden_block_outside_test_cell_is_an_error():
    with pytest.raises(MetadataError, match="not an autograder test cell"):
        ClearHiddenTests()(make_notebook([code(FULL, role("a", solution=True))]), {"notebook": "hw.ipynb"})

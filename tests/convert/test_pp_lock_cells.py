"""LockCells: answers undeletable; tests, tasks and read-only cells undeletable and uneditable."""

from __future__ import annotations

from grader_service.convert.preprocessors import LockCells

from .conftest import code, make_notebook, markdown, role


def test_lock_flags():
    nb = make_notebook(
        [
            code("x", role("a", solution=True)),
            code("assert x", role("t", grade=True, points=1)),
            markdown("read", role("r", locked=True)),
            markdown("task", role("k", task=True, points=1)),
            code("free"),
        ]
    )
    nb, _ = LockCells()(nb, {})
    flags = [(c.metadata.get("deletable"), c.metadata.get("editable")) for c in nb.cells]
    assert flags == [(False, None), (False, False), (False, False), (False, False), (None, None)]

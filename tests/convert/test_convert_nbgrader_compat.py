"""nbgrader's own notebooks give nbgrader's scores (and better where it crashes or leaks).

Runs every case of benchmarks/nbgrader_compat.py when the shared folder of nbgrader notebooks exists.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("nbgrader_compat", ROOT / "benchmarks" / "nbgrader_compat.py")
assert spec is not None and spec.loader is not None
compat = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = compat  # dataclasses look the module up
spec.loader.exec_module(compat)

FOLDER = compat.DEFAULT_DIR
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (FOLDER / "README.md").is_file(),
        reason=f"NBGRADER COMPATIBILITY NOT CHECKED: {FOLDER} (nbgrader's notebooks) "
        "is not present on this machine",
    ),
]


@pytest.mark.parametrize("case", compat.CASES, ids=[c.name for c in compat.CASES])
def test_case(case):
    outcome = compat.run_case(case, FOLDER)
    assert outcome.ok, f"{case.name}: expected {case.expected}, got {outcome.ours}"

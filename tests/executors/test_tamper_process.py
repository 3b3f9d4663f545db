"""The kernel guard in the ProcessExecutor (sandbox, forked kernel): hook attacks still score 0."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from grader_service.convert import generate_assignment
from grader_service.executors.base import JobSpec
from grader_service.executors.process import ProcessExecutor
from tests.convert.test_tamper_hooks import ATTACKS
from tests.executors.test_process_executor import LIMITS
from tests.support.notebooks import answer_release, write_source

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["ast_transformer", "kernel_method_patched", "builtins_patched"])
def test_hook_attack_scores_zero_in_the_sandbox(tmp_path: Path, name: str) -> None:
    write_source(tmp_path / "source")
    book = generate_assignment(tmp_path / "source", tmp_path / "release")
    sub = tmp_path / "submission"
    wrong = "def square(x):\n    return x + 100\n"
    answer_release(
        tmp_path / "release" / "squares.ipynb", sub / "squares.ipynb", wrong, [textwrap.dedent(ATTACKS[name])]
    )
    spec = JobSpec(
        job_id=1, submission_id=1, input_dir=sub, gradebook=book, cell_timeout=10, timeout=60, limits=LIMITS
    )
    result = asyncio.run(ProcessExecutor(overall_timeout_margin=10).run(spec))
    assert result.ok, result.error
    cells = result.result["notebooks"]["squares.ipynb"]["cells"]
    tests = {gid: c["score"] for gid, c in cells.items() if c["role"] == "tests"}
    assert tests and set(tests.values()) == {0.0}, (tests, result.result["log"])
    assert any("put back before the test" in line for line in result.result["log"]), result.result["log"]

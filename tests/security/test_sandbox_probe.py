"""The sandbox probe (tests/support/probe.py) graded for real: every defence holds through the
ProcessExecutor, and with each main defence switched off (the test-only knob) the probe loses exactly the
points of the checks that defence backs, so the probe is proven able to fail."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from grader_service.convert import generate_assignment
from grader_service.executors.base import JobSpec, ResourceLimits
from grader_service.executors.process import WEAKEN_VARIABLE, ProcessExecutor
from tests.support.probe import (
    CHECKS,
    PROBE_NAME,
    ProbeTargets,
    check_outputs,
    default_tcp_targets,
    failed_checks,
    write_probe,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LIMITS = ResourceLimits(
    memory_bytes=1 << 30,
    cpu_seconds=120,
    max_processes=64,
    max_file_bytes=16 << 20,
    max_open_files=256,
    max_output_bytes=4 << 20,
)
QUOTA_BYTES, QUOTA_INODES = 48 << 20, 1500
GRADER_UID = 61000


def targets(scratch_root: Path, data_dir: Path, decoy: Path) -> ProbeTargets:
    return ProbeTargets(
        tcp=default_tcp_targets(),
        grader_uid=GRADER_UID,
        forbidden=[
            str(data_dir),
            str(decoy),
            str(decoy / "submission" / "answer.ipynb"),
            str(REPO / "pyproject.toml"),
            str(REPO / "tests"),
            "/etc/shadow",
            "/root/.bashrc",
        ],
        scratch_root=str(scratch_root),
        quota_bytes=QUOTA_BYTES,
        quota_inodes=QUOTA_INODES,
    )


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    """A probe assignment, a scratch root holding another (decoy) job's folder, a data folder."""
    tmp = tmp_path_factory.mktemp("probe")
    scratch_root, data_dir = tmp / "scratch", tmp / "data"
    decoy = scratch_root / "grader-job999-decoy"
    (decoy / "submission").mkdir(parents=True)
    (decoy / "submission" / "answer.ipynb").write_text("another student's answer")
    data_dir.mkdir()
    (data_dir / "grader.sqlite").write_text("every student's grades")
    t = targets(scratch_root, data_dir, decoy)
    write_probe(tmp / "source", t)
    book = generate_assignment(tmp / "source", tmp / "release")
    released = (tmp / "release" / PROBE_NAME).read_text()
    assert t.marker not in released
    (tmp / "submission").mkdir()
    (tmp / "submission" / PROBE_NAME).write_text(
        released.replace("raise NotImplementedError()", "answer = 1")
    )
    assert t.marker in str(book)  # the hidden test is in the gradebook only
    return tmp, scratch_root, data_dir, book, t


def run_probe(setting, job_id: int, weaken: str = "", **traits):
    tmp, scratch_root, data_dir, book, _ = setting
    os.environ[WEAKEN_VARIABLE] = weaken
    try:
        ex = ProcessExecutor(
            scratch_root=str(scratch_root),
            hidden_paths=[str(data_dir)],
            scratch_quota_bytes=QUOTA_BYTES,
            scratch_quota_inodes=QUOTA_INODES,
            sandbox_uid_base=GRADER_UID,
            overall_timeout_margin=30,
            **traits,
        )
    finally:
        os.environ.pop(WEAKEN_VARIABLE, None)
    spec = JobSpec(
        job_id=job_id,
        submission_id=job_id,
        input_dir=tmp / "submission",
        gradebook=book,
        cell_timeout=60,
        timeout=240,
        limits=LIMITS,
    )
    try:
        return asyncio.run(ex.run(spec))
    finally:
        ex.close()


def test_the_probe_passes_every_check_in_the_sandbox(setting):
    r = run_probe(setting, 501)
    assert r.ok, r.error
    assert failed_checks(r.result) == {}, check_outputs(r.files[PROBE_NAME])
    assert r.result["score"] == len(CHECKS) + 1


@pytest.mark.parametrize(
    ("defence", "checks"),
    [
        ("netns", {"network"}),
        ("late_kernel", {"memory"}),
        ("same_uid", {"processes", "identity"}),
    ],
)
def test_without_a_defence_the_probe_fails(setting, defence, checks):
    r = run_probe(setting, 510, weaken=defence)
    assert r.ok, r.error
    failed = failed_checks(r.result)
    assert set(failed) >= checks, (defence, failed, check_outputs(r.files[PROBE_NAME]))
    assert set(failed) <= checks | {"files"}, (defence, failed)


def test_a_kernel_started_from_its_command_line_gets_the_same_sandbox(setting):
    """A kernelspec-style command line is not forked but exec'd, by the spawner, after it became the kernel
    uid with the seccomp filter: the probe holds as well."""
    import json
    import sys

    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    r = run_probe(setting, 520, pipeline_options=[f"--Execute.kernel_argv={json.dumps(argv)}"])
    assert r.ok, r.error
    assert failed_checks(r.result) == {}, check_outputs(r.files[PROBE_NAME])

"""Where the sandbox cannot be built, the executor refuses to grade and says what is missing and how to
fix it, instead of grading without it."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from grader_service.executors.base import InfrastructureError, JobSpec
from grader_service.executors.process import ProcessExecutor
from grader_service.executors.sandbox import missing_privileges

pytestmark = pytest.mark.slow


def test_a_python_folder_the_kernel_uid_cannot_read_is_refused_with_the_fix(tmp_path):
    private = tmp_path / "private-python"
    private.mkdir(mode=0o700)
    ex = ProcessExecutor(sandbox_paths=[str(private)], sandbox_uid_base=61000)
    try:
        refusal = ex.sandbox_refusal()
        assert f"kernels run as uid 61001, which cannot read {private} (mode 0700" in refusal
        assert "chmod -R o+rX" in refusal
        spec = JobSpec(job_id=1, submission_id=1, input_dir=tmp_path, gradebook={}, cell_timeout=1, timeout=1)
        with pytest.raises(InfrastructureError, match="cannot read"):
            asyncio.run(ex.run(spec))
    finally:
        ex.close()
    private.chmod(0o755)
    readable = ProcessExecutor(sandbox_paths=[str(private)])
    try:
        assert readable.sandbox_refusal() == ""
    finally:
        readable.close()


def test_without_root_the_missing_privileges_are_named():
    """In a child that gave up root, as a worker started without it would be."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            os.write(write, json.dumps(missing_privileges()).encode())
        finally:
            os._exit(0)
    os.close(write)
    missing = json.loads(os.read(read, 4096))
    os.close(read)
    os.waitpid(pid, 0)
    assert missing[0] == "uid 0 in the host's user namespace"
    assert any(m.startswith("CAP_SYS_ADMIN") for m in missing)
    assert any(m.startswith("CAP_SETUID") for m in missing)
    assert missing_privileges() == []  # this test runs as root: nothing missing here


def test_kernel_uids_are_not_shared_by_concurrent_jobs_of_two_worker_processes(tmp_path):
    """Two pools (as two worker processes have) on one host hand out different uids; a returned one is
    reused; an exhausted range is an error naming the setting to raise."""
    from grader_service.executors.sandbox_plan import UidPool

    first, second = UidPool(61000, 3, str(tmp_path)), UidPool(61000, 3, str(tmp_path))
    a, b = first.take(), second.take()
    assert {a, b} == {61001, 61002}
    with pytest.raises(RuntimeError, match="sandbox_uid_count"):
        first.take()
    second.give_back(b)
    assert first.take() == b

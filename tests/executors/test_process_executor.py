"""ProcessExecutor against malicious and broken notebooks: each ends with a clear outcome, nothing leaks,
and the executor keeps serving the next job. Real sandbox (namespaces, cgroups where allowed), real
kernels."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from grader_service.convert import generate_assignment
from grader_service.executors.base import JobSpec, ResourceLimits
from grader_service.executors.process import ProcessExecutor
from tests.support.notebooks import answer_release, write_source

pytestmark = pytest.mark.slow

LIMITS = ResourceLimits(
    memory_bytes=1 << 30,
    cpu_seconds=60,
    max_processes=48,
    max_file_bytes=16 << 20,
    max_open_files=256,
    max_output_bytes=4 << 20,
)


@pytest.fixture(scope="module")
def assignment(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("assignment")
    write_source(tmp / "source")
    book = generate_assignment(tmp / "source", tmp / "release")
    return tmp / "release" / "squares.ipynb", book


@pytest.fixture(scope="module")
def executor():
    return ProcessExecutor(overall_timeout_margin=10)


def grade(
    executor,
    assignment,
    tmp_path: Path,
    cells: list[str],
    *,
    timeout: float = 30,
    cell_timeout: float = 5,
    job_id: int = 1,
):
    release, book = assignment
    sub = tmp_path / "submission"
    answer_release(release, sub / "squares.ipynb", extra_cells=cells)
    spec = JobSpec(
        job_id=job_id,
        submission_id=job_id,
        input_dir=sub,
        gradebook=book,
        cell_timeout=cell_timeout,
        timeout=timeout,
        limits=LIMITS,
    )
    return asyncio.run(executor.run(spec))


def scores(result) -> dict[str, float | None]:
    return {k: v["score"] for k, v in result.result["notebooks"]["squares.ipynb"]["cells"].items()}


def test_correct_submission_scores(executor, assignment, tmp_path):
    r = grade(executor, assignment, tmp_path, [])
    assert r.ok and r.result["score"] == 3 and scores(r)["test_square"] == 2
    assert "squares.ipynb" in r.files


def test_infinite_loop_is_interrupted_and_grading_continues(executor, assignment, tmp_path):
    r = grade(executor, assignment, tmp_path, ["while True:\n    pass"], cell_timeout=2)
    assert r.ok and r.result["score"] == 3  # the loop cell timed out; the tests after it still ran


def test_sleep_past_the_notebook_time_limit_is_stopped(executor, assignment, tmp_path):
    import time

    started = time.monotonic()
    r = grade(
        executor,
        assignment,
        tmp_path,
        ["import time\nfor _ in range(30):\n    time.sleep(1)"] * 3,
        timeout=4,
        cell_timeout=40,
    )
    assert time.monotonic() - started < 20
    assert r.ok and r.result["score"] == 0  # the tests never ran within the notebook's time budget
    assert "timeout" in r.log


def test_a_run_that_ignores_its_budget_is_killed(assignment, tmp_path):
    """The pipeline stops a notebook at its budget; the executor's own kill is the backstop. Here the budget
    given to the pipeline is larger than the executor's, so the executor must kill the whole session."""
    ex = ProcessExecutor(overall_timeout_margin=-20)
    r = grade(ex, assignment, tmp_path, ["import time\ntime.sleep(60)"], timeout=25, cell_timeout=60)
    assert not r.ok and "time limit" in r.error


def test_memory_bomb_fails_only_its_cell(executor, assignment, tmp_path):
    r = grade(executor, assignment, tmp_path, ["blob = bytearray(3 << 30)"])
    assert r.ok and r.result["score"] == 3


def test_fork_bomb_is_contained(executor, assignment, tmp_path):
    bomb = (
        "import os, time\nkids = 0\nfor _ in range(500):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n"
        "    kids += 1\nprint('forked', kids)"
    )
    r = grade(executor, assignment, tmp_path, [bomb])
    assert r.ok
    out = r.files["squares.ipynb"].decode()
    forked = int(out.split("forked ")[1].split("\\n")[0].split('"')[0])
    assert forked < LIMITS.max_processes


def test_huge_output_is_capped(executor, assignment, tmp_path):
    r = grade(
        executor, assignment, tmp_path, ["for _ in range(2000):\n    print('x' * 50000)"], cell_timeout=20
    )
    assert r.ok and r.result["score"] == 3
    assert len(r.files["squares.ipynb"]) < 16 << 20


def test_os_exit_and_segfault_end_cleanly(executor, assignment, tmp_path):
    for i, cell in enumerate(["import os\nos._exit(3)", "import ctypes\nctypes.string_at(0)"]):
        r = grade(executor, assignment, tmp_path / str(i), [cell], job_id=10 + i)
        assert r.ok, r.error
        assert r.result["score"] == 0 and "died" in r.log


def test_environment_holds_no_secrets(executor, assignment, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_DB_URL", "postgresql://secret-user:secret-pass@db/grader")
    monkeypatch.setenv("GRADER_API_TOKEN", "secret-token-value")
    probe = (
        "import os, glob\nseen = dict(os.environ)\nfor path in glob.glob('/proc/*/environ'):\n"
        "    try:\n        seen[path] = open(path, 'rb').read().decode('latin-1')\n    except OSError:\n"
        "        pass\nprint(repr(seen))"
    )
    r = grade(executor, assignment, tmp_path, [probe])
    assert r.ok
    text = r.files["squares.ipynb"].decode()
    assert "secret-pass" not in text and "secret-token-value" not in text


def test_writing_outside_the_scratch_dir_is_refused(executor, assignment, tmp_path):
    target = tmp_path / "outside.txt"
    r = grade(executor, assignment, tmp_path / "job", [f"open({str(target)!r}, 'w').write('escaped')"])
    assert r.ok and not target.exists()


def test_scratch_dirs_are_removed(executor, assignment, tmp_path):
    root = tmp_path / "scratch"
    root.mkdir()
    ex = ProcessExecutor(scratch_root=str(root))
    r = grade(ex, assignment, tmp_path / "job", [])
    assert r.ok and os.listdir(root) == []


def test_the_data_folder_and_config_files_are_hidden(assignment, tmp_path):
    """The service's data folder (database, every student's repositories) and config files are covered."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "grader.sqlite").write_text("other students' work")
    config = tmp_path / "grader_service_config.py"
    config.write_text("c.GraderService.db_url = 'postgresql://user:config-secret@db/grader'")
    ex = ProcessExecutor(hidden_paths=[str(data), str(config)])
    probe = (
        f"import os\nfor p in [{str(data / 'grader.sqlite')!r}, {str(config)!r}]:\n    try:\n"
        "        print(p, repr(open(p).read()))\n    except OSError as e:\n        print(p, 'refused', e)\n"
        f"print('listing', os.listdir({str(data)!r}) if os.access({str(data)!r}, os.R_OK) else 'none')"
    )
    r = grade(ex, assignment, tmp_path / "job", [probe])
    ex.close()
    assert r.ok
    text = r.files["squares.ipynb"].decode()
    assert "other students" not in text and "config-secret" not in text
    assert "refused" in text or "''" in text


def test_every_job_gets_a_fresh_kernel(executor, assignment, tmp_path):
    """Nothing one submission does to its kernel is seen by the next: the kernel is a new process."""
    mark = (
        "import os, sys\n"
        "print('marked-before', hasattr(sys, 'grader_marker'), os.getpid())\n"
        "sys.grader_marker = 1"
    )
    first = grade(executor, assignment, tmp_path / "a", [mark], job_id=21)
    second = grade(executor, assignment, tmp_path / "b", [mark], job_id=22)
    for r in (first, second):
        assert r.ok and "marked-before False" in r.files["squares.ipynb"].decode()


def test_concurrent_jobs_cannot_see_each_other(executor, assignment, tmp_path):
    """Two jobs at once: each lives in its own PID namespace, so one cannot see or signal the other."""
    release, book = assignment
    specs = []
    for i, cell in enumerate(
        [
            "import time\ntime.sleep(3)",
            "import os, time\ntime.sleep(1)\nprint('pids', sorted(int(p) for p in os.listdir('/proc')"
            " if p.isdigit()))",
        ]
    ):
        sub = tmp_path / str(i) / "submission"
        answer_release(release, sub / "squares.ipynb", extra_cells=[cell])
        specs.append(
            JobSpec(
                job_id=30 + i,
                submission_id=30 + i,
                input_dir=sub,
                gradebook=book,
                cell_timeout=10,
                timeout=30,
                limits=LIMITS,
            )
        )

    async def both():
        return await asyncio.gather(*(executor.run(s) for s in specs))

    first, second = asyncio.run(both())
    assert first.ok and second.ok
    text = second.files["squares.ipynb"].decode()
    pids = [int(p) for p in text.split("pids [")[1].split("]")[0].split(",")]
    assert len(pids) <= 3  # its grading process (PID 1), its kernel, maybe that kernel's helper


def test_a_dead_fork_server_is_replaced(assignment, tmp_path):
    ex = ProcessExecutor()
    assert grade(ex, assignment, tmp_path / "a", [], job_id=41).ok
    assert ex._server.proc is not None
    ex._server.proc.kill()
    ex._server.proc.wait()
    r = grade(ex, assignment, tmp_path / "b", [], job_id=42)
    ex.close()
    assert r.ok and r.result["score"] == 3


def test_the_fork_server_serves_only_its_worker(executor, assignment, tmp_path):
    """Another process (here a child of the worker, as a notebook escaping would be) gets no sandbox."""
    import subprocess
    import sys

    assert grade(executor, assignment, tmp_path, []).ok
    path = executor._server.socket_path
    code = (
        "import socket, sys, os\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
        'r, w = os.pipe()\nsocket.send_fds(s, [b\'{"argv": [], "cwd": "/", "env": {}, "writable": []}\\n\'],'
        " [r, w, w])\nprint(repr(s.recv(100)))"
    )
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() in ("b''", "") or "Error" in out.stderr, out


def test_a_fork_server_that_cannot_start_is_an_infrastructure_error(assignment, tmp_path):
    """Not the student's fault: the job is retried later instead of being marked failed."""
    from grader_service.executors.base import InfrastructureError

    ex = ProcessExecutor(python="/bin/false")
    with pytest.raises(InfrastructureError, match="fork server did not start"):
        grade(ex, assignment, tmp_path, [])

"""The program a grading pod runs: fetch the job's input from the service, grade, post the result back.

    python -m grader_service.executors.pod_runner
Environment: GRADER_SERVICE_URL, GRADER_JOB_ID, GRADER_JOB_TOKEN_FILE (a file holding the job's
short-lived token: the pod's Secret volume, readable by root only), and optionally GRADER_WORK_DIR
(default /tmp/grader-work; the pod's only writable volume).

The runner is the pod's grading-side process and the only holder of the token: it is not dumpable, and it
grades through the ProcessExecutor's sandbox (a fork server exec'd with a scrubbed environment, so its
memory never held the token; kernels under their own uid, in namespaces with no network, seccomp), so
student code can neither read the token nor reach the service: a result can only come from here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from grader_service.executors.base import InfrastructureError, JobSpec, ResourceLimits
from grader_service.executors.sandbox import set_dumpable
from grader_service.schemas.text import printable


def _request(method: str, url: str, token: str, body: dict[str, Any] | None = None, tries: int = 5) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    for attempt in range(tries):
        req = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == tries - 1:
                raise
        except urllib.error.URLError:
            if attempt == tries - 1:
                raise
        time.sleep(min(10, 2**attempt))
    raise RuntimeError("unreachable")


def run(service_url: str, job_id: int, token: str, work: Path) -> int:
    base = f"{service_url.rstrip('/')}/api/jobs/{job_id}"
    job = _request("GET", f"{base}/input", token)
    submission = work / "submission"
    shutil.rmtree(work, ignore_errors=True)
    submission.mkdir(parents=True)
    for path, data in job["files"].items():
        target = (submission / path).resolve()
        if not target.is_relative_to(submission.resolve()):
            raise SystemExit(f"refusing to write {path!r} outside the work folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
    body = grade(work, submission, job, job_id)
    answer = _request("POST", f"{base}/result", token, body)
    print(json.dumps({"job": job_id, "ok": body["ok"], "recorded": answer.get("recorded")}))
    return 0  # the outcome, good or bad, is with the service now


def grade(work: Path, submission: Path, job: dict[str, Any], job_id: int) -> dict[str, Any]:
    """Grade in the sandbox; the body to post as the job's result."""
    from grader_service.executors.process import ProcessExecutor

    known = {k: int(v) for k, v in (job.get("limits") or {}).items() if k in ResourceLimits.__annotations__}
    spec = JobSpec(
        job_id=job_id,
        submission_id=0,
        input_dir=submission,
        gradebook=job["gradebook"],
        cell_timeout=float(job["cell_timeout"]),
        timeout=float(job["timeout"]),
        limits=ResourceLimits(**known),
    )
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    executor = ProcessExecutor(scratch_root=str(scratch))
    try:
        outcome = asyncio.run(executor.run(spec))
    finally:
        executor.close()
    if not outcome.ok:
        # the message may quote student output: escape what the service refuses in a log
        return {"ok": False, "error": printable(outcome.error or ""), "log": printable(outcome.log)}
    files = {p: base64.b64encode(b).decode("ascii") for p, b in outcome.files.items()}
    return {"ok": True, "result": outcome.result, "files": files, "log": printable(outcome.log)}


def main() -> None:
    set_dumpable(False)  # the token is in this process's memory
    try:
        url, job_id = os.environ["GRADER_SERVICE_URL"], int(os.environ["GRADER_JOB_ID"])
        with open(os.environ["GRADER_JOB_TOKEN_FILE"]) as fh:
            token = fh.read().strip()
    except (KeyError, ValueError, OSError) as exc:
        print(f"pod_runner: missing or bad environment or token file: {exc}", file=sys.stderr)
        sys.exit(2)
    if not token:
        print("pod_runner: the token file is empty", file=sys.stderr)
        sys.exit(2)
    try:
        code = run(url, job_id, token, Path(os.environ.get("GRADER_WORK_DIR", "/tmp/grader-work")))
    except InfrastructureError as exc:  # the pod fails; the worker retries the job
        print(f"pod_runner: {exc}", file=sys.stderr)
        code = 3
    sys.exit(code)


if __name__ == "__main__":
    main()

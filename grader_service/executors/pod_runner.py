"""The program a grading pod runs: fetch the job's input from the service, grade, post the result back.

    python -m grader_service.executors.pod_runner
Environment: GRADER_SERVICE_URL, GRADER_JOB_ID, GRADER_JOB_TOKEN (the job's short-lived token), and
optionally GRADER_WORK_DIR (default /tmp/grader-work; the pod's only writable volume).
The pod is the sandbox, so grading runs in this process (its kernel is a child process).
"""

from __future__ import annotations

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

from grader_service.convert import ConvertError, autograde
from grader_service.executors.outputs import OutputTooLarge, collect_files
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
    submission, graded = work / "submission", work / "graded"
    shutil.rmtree(work, ignore_errors=True)
    submission.mkdir(parents=True)
    for path, data in job["files"].items():
        target = (submission / path).resolve()
        if not target.is_relative_to(submission.resolve()):
            raise SystemExit(f"refusing to write {path!r} outside the work folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
    body: dict[str, Any]
    try:
        result = autograde(
            submission, graded, job["gradebook"], cell_timeout=job["cell_timeout"], timeout=job["timeout"]
        )
        files = {p: base64.b64encode(b).decode("ascii") for p, b in collect_files(graded, 64 << 20).items()}
        body = {
            "ok": True,
            "result": result,
            "files": files,
            "log": printable("\n".join(result.get("log", []))),
        }
    except (ConvertError, OutputTooLarge) as exc:
        # the message may quote student output: escape what the service refuses in a log
        body = {"ok": False, "error": printable(f"grading failed: {exc}"), "log": printable(str(exc))}
    answer = _request("POST", f"{base}/result", token, body)
    print(json.dumps({"job": job_id, "ok": body["ok"], "recorded": answer.get("recorded")}))
    return 0  # the outcome, good or bad, is with the service now


def main() -> None:
    try:
        url, job_id, token = (
            os.environ["GRADER_SERVICE_URL"],
            int(os.environ["GRADER_JOB_ID"]),
            os.environ["GRADER_JOB_TOKEN"],
        )
    except (KeyError, ValueError) as exc:
        print(f"pod_runner: missing or bad environment: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(run(url, job_id, token, Path(os.environ.get("GRADER_WORK_DIR", "/tmp/grader-work"))))


if __name__ == "__main__":
    main()

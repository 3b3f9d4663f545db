"""The remote worker's only line to the service: the /api/worker routes, with the worker token.

Transport failures, 5xx answers and a refused token are `InfrastructureError`s (the task retries with
backoff, then gives up); each call itself retries a few times first, which is safe because every report is
compare-and-set on the attempt at the service.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from grader_service.executors.base import InfrastructureError
from grader_service.schemas.text import printable


class ServiceRefused(RuntimeError):
    """The service answered 4xx to a well-formed call (a bug or a version mismatch, not worth a retry)."""


class ServiceClient:
    def __init__(
        self, service_url: str, token: str, *, timeout: float = 30.0, tries: int = 3, backoff: float = 1.0
    ) -> None:
        self.base = service_url.rstrip("/")
        self.token = token
        self.timeout, self.tries, self.backoff = timeout, tries, backoff

    def whoami(self) -> dict[str, Any]:
        return self._call("GET", "/api/worker")

    def claim(self, job_id: int, worker: str) -> dict[str, Any]:
        return self._call("POST", f"/api/worker/jobs/{job_id}/claim", {"worker": worker})

    def fail(self, job_id: int, attempt: int, error: str, log: str = "") -> dict[str, Any]:
        return self._call(
            "POST",
            f"/api/worker/jobs/{job_id}/fail",
            {"attempt": attempt, "error": printable(error), "log": printable(log)},
        )

    def requeue(self, job_id: int, attempt: int, error: str) -> dict[str, Any]:
        return self._call(
            "POST", f"/api/worker/jobs/{job_id}/requeue", {"attempt": attempt, "error": printable(error)}
        )

    def give_up(self, job_id: int, attempt: int | None, error: str) -> dict[str, Any]:
        return self._call(
            "POST", f"/api/worker/jobs/{job_id}/give-up", {"attempt": attempt, "error": printable(error)}
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        url = self.base + path
        problem = ""
        for attempt in range(self.tries):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            req = urllib.request.Request(
                url,
                data=data,
                method=method,
                headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                message = _message(exc)
                if exc.code in (401, 403):
                    raise InfrastructureError(
                        f"the service refused the worker token ({exc.code}: {message}); "
                        "check GraderWorker.api_token"
                    ) from None
                if exc.code < 500:
                    raise ServiceRefused(f"{method} {path}: {exc.code} {message}") from None
                problem = f"{exc.code} {message}"
            except (urllib.error.URLError, OSError) as exc:
                problem = str(getattr(exc, "reason", exc))
        raise InfrastructureError(f"the service at {self.base} cannot be reached: {problem}")


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("message", exc.reason))
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)

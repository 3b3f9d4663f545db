"""What grading produced, wherever it ran (a worker's executor or a remote pod): the one result type that
executors return and services record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class GradingOutcome:
    """`ok` means grading ran to the end (failing tests included); otherwise `error` says why it did not."""

    ok: bool
    result: dict[str, Any] | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    log: str = ""
    error: str | None = None

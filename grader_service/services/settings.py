"""Service-wide limits that use cases need, handed in by the app (so services never read config)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    cell_timeout_default: int = 30
    cell_timeout_min: int = 1
    cell_timeout_max: int = 600
    autograde_timeout: float = 600.0

    def task_time_limits(self) -> dict[str, float]:
        """Celery's soft and hard limits for an autograde task, derived from the grading time budget."""
        soft = self.autograde_timeout + 120.0
        return {"soft_time_limit": soft, "time_limit": soft + 60.0}

    def clamp_cell_timeout(self, value: int | None) -> int:
        if value is None:
            value = self.cell_timeout_default
        return max(self.cell_timeout_min, min(self.cell_timeout_max, value))

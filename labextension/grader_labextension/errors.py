"""RelayError: an answer the relay gives itself (the service's own errors are passed through unchanged)."""

from __future__ import annotations


class RelayError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "message": self.message}

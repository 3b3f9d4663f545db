"""Grader Service relay: a jupyter-server extension (no frontend assets yet)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from grader_labextension.app import GraderRelay

    return [{"module": "grader_labextension", "app": GraderRelay}]

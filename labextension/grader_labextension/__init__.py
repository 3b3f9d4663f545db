"""Grader Service in JupyterLab: the relay (a jupyter-server extension) and the prebuilt frontend."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from grader_labextension.app import GraderRelay

    return [{"module": "grader_labextension", "app": GraderRelay}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    # the wheel installs the build into share/jupyter/labextensions/; this serves a source checkout
    return [{"src": "labextension", "dest": "grader-labextension"}]

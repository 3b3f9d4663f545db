"""The project's install (scripts/bootstrap.sh: `pip install` of labextension/) leaves JupyterLab with the
prebuilt extension enabled and the relay's server extension enabled, with no Lab rebuild."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
LABEXT = Path(__file__).resolve().parents[2] / "labextension"


def run(*args: str) -> str:
    done = subprocess.run(
        [str(BIN / "jupyter"), *args], capture_output=True, text=True, timeout=120, check=True
    )
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)


def test_labextension_list_shows_the_prebuilt_extension_enabled():
    listed = run("labextension", "list")
    version = json.loads((LABEXT / "package.json").read_text())["version"]
    assert re.search(
        rf"grader-labextension v{re.escape(version)} enabled\s+OK \(python, grader-labextension\)", listed
    ), listed
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "grader-labextension"
    assert (installed / "install.json").is_file()
    assert json.loads((installed / "package.json").read_text())["jupyterlab"]["_build"]["load"].startswith(
        "static/remoteEntry."
    )


def test_the_relay_is_enabled_as_a_server_extension():
    listed = run("server", "extension", "list")
    assert re.search(r"grader_labextension\s+enabled", listed), listed
    assert "grader_labextension 0.1.0 OK" in listed

#!/usr/bin/env bash
# Creates (or refreshes) the project's virtualenv in .venv with the service and its test dependencies.
# Sourced by scripts/test.sh and scripts/run-demo.sh; safe to run again (it only reinstalls when
# pyproject.toml changed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GRADER_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating virtualenv $VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
fi
# the relay (labextension/, its own package) is installed too; its pyproject.toml is part of the stamp
STAMP="$VENV/.installed-$( (cat "$ROOT/pyproject.toml"; cat "$ROOT/labextension/pyproject.toml" 2>/dev/null || true) \
    | sha1sum | cut -c1-12)"
if [ ! -f "$STAMP" ]; then
    echo "bootstrap: installing grader-service and test dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q -e "$ROOT[${GRADER_EXTRAS:-test}]"
    if [ -f "$ROOT/labextension/pyproject.toml" ]; then
        "$VENV/bin/python" -m pip install -q -e "$ROOT/labextension"
        # an editable install skips data files: enable the server extension like a wheel install would
        mkdir -p "$VENV/etc/jupyter/jupyter_server_config.d"
        cp "$ROOT/labextension/jupyter-config/jupyter_server_config.d/grader_labextension.json" \
            "$VENV/etc/jupyter/jupyter_server_config.d/"
    fi
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi

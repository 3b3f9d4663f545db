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
STAMP="$VENV/.installed-$(sha1sum "$ROOT/pyproject.toml" | cut -c1-12)"
if [ ! -f "$STAMP" ]; then
    echo "bootstrap: installing grader-service and test dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q -e "$ROOT[${GRADER_EXTRAS:-test}]"
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi

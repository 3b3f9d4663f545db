#!/usr/bin/env bash
# Creates (or refreshes) the project's virtualenv in .venv with the service, its test dependencies and the
# JupyterLab extension (labextension/: the relay plus the prebuilt frontend, built here with npm).
# Sourced by scripts/test.sh and scripts/run-demo.sh; safe to run again: the frontend is rebuilt only when
# its sources changed, and pip runs only when a pyproject.toml or the frontend build changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GRADER_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
LABEXT="$ROOT/labextension"

if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating virtualenv $VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
fi

# -- the frontend: npm ci when the lockfile changed, a production build when any source changed --
FRONTEND_HASH=none
if [ -f "$LABEXT/package.json" ]; then
    if ! command -v npm >/dev/null; then
        echo "bootstrap: npm not found: install Node.js >= 18 (it builds the JupyterLab extension)" >&2
        exit 1
    fi
    FRONTEND_HASH="$(cd "$LABEXT" && find src style schema tools package.json package-lock.json tsconfig.json \
        -type f -not -path '*/__tests__/*' -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-12)"
    BUILT="$LABEXT/grader_labextension/labextension"
    if [ "$(cat "$BUILT/.source-hash" 2>/dev/null || true)" != "$FRONTEND_HASH" ]; then
        LOCK_HASH="$(sha1sum "$LABEXT/package-lock.json" | cut -c1-12)"
        if [ "$(cat "$LABEXT/node_modules/.lock-hash" 2>/dev/null || true)" != "$LOCK_HASH" ]; then
            echo "bootstrap: npm ci in labextension/ (npm cache: ~/.cache/grader-service/npm)"
            start=$SECONDS
            (cd "$LABEXT" && npm ci --no-audit --no-fund --loglevel=error \
                --cache "${NPM_CACHE_DIR:-$HOME/.cache/grader-service/npm}" --prefer-offline)
            echo "$LOCK_HASH" > "$LABEXT/node_modules/.lock-hash"
            echo "bootstrap: npm ci took $((SECONDS - start)) s"
        fi
        echo "bootstrap: building the JupyterLab extension"
        start=$SECONDS
        (cd "$LABEXT" && npm run --silent build:prod >/dev/null)
        echo "$FRONTEND_HASH" > "$BUILT/.source-hash"
        echo "bootstrap: frontend build took $((SECONDS - start)) s"
    fi
fi

# the relay and frontend (labextension/, its own package) are installed too; the stamp covers both
# pyproject.toml files and the frontend build
STAMP="$VENV/.installed-$( (cat "$ROOT/pyproject.toml"; cat "$LABEXT/pyproject.toml" 2>/dev/null || true; \
    echo "$FRONTEND_HASH") | sha1sum | cut -c1-12)"
if [ ! -f "$STAMP" ]; then
    echo "bootstrap: installing grader-service and test dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q -e "$ROOT[${GRADER_EXTRAS:-test}]"
    if [ -f "$LABEXT/pyproject.toml" ]; then
        # editable for the relay's Python; hatchling copies the prebuilt frontend (shared-data) into
        # $VENV/share/jupyter/labextensions and enables the server extension, as a wheel install does.
        # The build above is current, so the build hook has nothing to do.
        HATCH_JUPYTER_BUILDER_SKIP_NPM=1 "$VENV/bin/python" -m pip install -q -e "$LABEXT"
    fi
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi

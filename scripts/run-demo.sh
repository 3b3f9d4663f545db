#!/usr/bin/env bash
# The README's first command: installs everything into .venv (the service, JupyterHub, JupyterLab with the
# grader extension), seeds the demo lecture and runs the local stack (scripts/local-stack.sh): the grader
# service on 127.0.0.1:4010 with its embedded worker, and JupyterHub on http://127.0.0.1:8000, the one URL
# to open. The demo users' API tokens (for curl and git) are written to .local-stack/demo-tokens.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec bash "$ROOT/scripts/local-stack.sh" "$@"

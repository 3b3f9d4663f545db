#!/usr/bin/env bash
# Installs the service into .venv, seeds the demo lecture (printing the users' tokens) and runs the
# service on the embedded default: ./grader_data, SQLite, http://127.0.0.1:4010.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GRADER_EXTRAS=test source "$ROOT/scripts/bootstrap.sh"
"$VENV/bin/grader-service" demo "$@"
echo
echo "Starting the service (Ctrl-C stops it)..."
exec "$VENV/bin/grader-service" "$@"

#!/usr/bin/env bash
# Installs the service into .venv, seeds the demo lecture (printing the users' tokens) and runs the
# service on the embedded default: ./grader_data, SQLite, http://127.0.0.1:4010.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GRADER_EXTRAS=test source "$ROOT/scripts/bootstrap.sh"
"$VENV/bin/grader-service" demo "$@"
echo
SANDBOX=()
if [ "$(id -u)" != 0 ]; then
    # The grading sandbox (network namespace, own root, kernel uids, seccomp) needs root; the demo's own
    # notebooks are trusted, so without root it grades with limits only (see docs/security.md).
    echo "note: not running as root, so the demo grades WITHOUT the sandbox (ProcessExecutor.isolation=none);"
    echo "      run it as root, or in production run grader-worker as root, to grade untrusted notebooks."
    SANDBOX=(--ProcessExecutor.isolation=none)
fi
echo "Starting the service (Ctrl-C stops it)..."
exec "$VENV/bin/grader-service" "${SANDBOX[@]}" "$@"

#!/usr/bin/env bash
# The house-rule checks, run by scripts/test.sh before the tests: ruff check, ruff format --check, mypy,
# import-linter (configs in pyproject.toml). Every check runs even when an earlier one failed; each failed
# check is named on a line of its own, and the exit status is non-zero if any failed.
# Usage: bash scripts/checks.sh   (uses the project virtualenv, $GRADER_VENV or <repo>/.venv)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GRADER_VENV:-$ROOT/.venv}"
cd "$ROOT"

failed=()
run_check() {
    local name="$1"
    shift
    echo "checks: running $name"
    if "$@"; then
        echo "checks: passed: $name"
    else
        echo "checks: FAILED: $name" >&2
        failed+=("$name")
    fi
}

run_check "ruff check" "$VENV/bin/ruff" check .
run_check "ruff format --check" "$VENV/bin/ruff" format --check .
run_check "mypy" "$VENV/bin/mypy"
run_check "import-linter" "$VENV/bin/lint-imports" --no-logo

if [ "${#failed[@]}" -gt 0 ]; then
    summary="$(printf '%s; ' "${failed[@]}")"
    echo "checks: ${#failed[@]} of 4 checks failed: ${summary%; }" >&2
    exit 1
fi
echo "checks: all 4 checks passed"

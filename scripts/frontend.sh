#!/usr/bin/env bash
# The frontend's checks, run by scripts/test.sh before pytest (each failure fails the run): eslint, prettier,
# the TypeScript compiler and the jest unit tests of labextension/; and Debian's Chromium for the browser
# tests (tests/ui), installed with apt-get when missing. Prints how long each step took.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LABEXT="$ROOT/labextension"
cd "$LABEXT"

step() {  # name, command...
    local name="$1" start=$SECONDS
    shift
    echo "frontend: $name"
    "$@"
    echo "frontend: $name took $((SECONDS - start)) s"
}

if [ ! -d node_modules ]; then
    step "npm ci" npm ci --no-audit --no-fund --loglevel=error \
        --cache "${NPM_CACHE_DIR:-$HOME/.cache/grader-service/npm}" --prefer-offline
fi
step "eslint" npx --no-install eslint src
step "prettier --check" npx --no-install prettier --check --log-level warn "src/**/*.{ts,tsx}" "style/**/*.css"
step "tsc --noEmit" npx --no-install tsc -p tsconfig.json --noEmit
step "jest" npx --no-install jest --ci

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        step "apt-get install chromium (browser tests)" bash -c \
            'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'
    else
        echo "frontend: /usr/bin/chromium is missing and cannot be installed here: the browser tests will fail" >&2
    fi
fi

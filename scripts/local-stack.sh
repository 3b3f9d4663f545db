#!/usr/bin/env bash
# One command for a local Grader Service + JupyterHub stack:
#   - installs everything into .venv (grader service, jupyterhub, oauthenticator, jupyter_server, the Python
#     configurable-http-proxy, and the relay labextension/), so no Node and no system packages are needed;
#   - runs the grader service (DevAuthenticator: any user name, loopback only; demo lecture demo101) on
#     127.0.0.1:${GRADER_PORT:-4010}, registered as the OAuth provider of the Hub;
#   - runs JupyterHub (examples/jupyterhub/jupyterhub_config.py: local process spawner, users' servers run
#     JupyterLab with the grader extension and the relay) on http://127.0.0.1:${HUB_PORT:-8000}.
# Open the Hub, sign in as student1 (or instructor, tutor, student2): no password; JupyterLab opens, and its
# Launcher has "Assignments". Ports: GRADER_PORT, HUB_PORT, HUB_API_PORT (8081), PROXY_API_PORT (8001).
# `--check`: start, run the scripted student login through the relay (scripts/local_stack_check.py), stop.
# State lives in .local-stack/ (delete it to start over). Ctrl-C stops everything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GRADER_EXTRAS=test source "$ROOT/scripts/bootstrap.sh"
STACK="${LOCAL_STACK_DIR:-$ROOT/.local-stack}"
GRADER_PORT="${GRADER_PORT:-4010}"
HUB_PORT="${HUB_PORT:-8000}"
mkdir -p "$STACK"
umask 077
[ -f "$STACK/hub_client_secret" ] || "$VENV/bin/python" -c "import secrets; print(secrets.token_hex(24))" > "$STACK/hub_client_secret"
[ -f "$STACK/hub_crypt_key" ] || "$VENV/bin/python" -c "import secrets; print(secrets.token_hex(32))" > "$STACK/hub_crypt_key"
cat > "$STACK/grader_service_config.py" <<CONFIG
# written by scripts/local-stack.sh
c = get_config()  # noqa
c.GraderService.ip = "127.0.0.1"
c.GraderService.port = $GRADER_PORT
c.GraderService.data_dir = "$STACK/grader_data"
c.GraderService.authenticator_class = "grader_service.auth.authenticators.DevAuthenticator"
c.GraderService.oauth_clients = [{
    "client_id": "jupyterhub", "client_secret": open("$STACK/hub_client_secret").read().strip(),
    "redirect_uri": "http://127.0.0.1:$HUB_PORT/hub/oauth_callback", "name": "JupyterHub", "skip_consent": True,
}]
CONFIG
if [ "$(id -u)" != 0 ]; then
    # The grading sandbox (network namespace, own root, kernel uids, seccomp) needs root; the demo's own
    # notebooks are trusted, so without root it grades with limits only (see docs/security.md).
    echo "note: not running as root, so the demo grades WITHOUT the sandbox (ProcessExecutor.isolation=none);"
    echo "      run it as root, or in production run grader-worker as root, to grade untrusted notebooks."
    echo 'c.ProcessExecutor.isolation = "none"' >> "$STACK/grader_service_config.py"
fi

"$VENV/bin/grader-service" demo -f "$STACK/grader_service_config.py" > "$STACK/demo-tokens.txt"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$VENV/bin/grader-service" -f "$STACK/grader_service_config.py" > "$STACK/grader.log" 2>&1 &
pids+=($!)
export GRADER_URL="http://127.0.0.1:$GRADER_PORT" HUB_PORT HUB_DATA_DIR="$STACK/hub"
export HUB_API_PORT="${HUB_API_PORT:-8081}" PROXY_API_PORT="${PROXY_API_PORT:-8001}"
export GRADER_OAUTH_CLIENT_SECRET="$(cat "$STACK/hub_client_secret")" JUPYTERHUB_CRYPT_KEY="$(cat "$STACK/hub_crypt_key")"
export PATH="$VENV/bin:$PATH"
(cd "$STACK" && exec "$VENV/bin/jupyterhub" -f "$ROOT/examples/jupyterhub/jupyterhub_config.py") > "$STACK/hub.log" 2>&1 &
pids+=($!)

wait_for() {  # url, name, log
    for _ in $(seq 1 120); do
        if "$VENV/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    echo "local-stack: $2 did not start; the end of $3:" >&2
    tail -n 30 "$3" >&2
    exit 1
}
wait_for "$GRADER_URL/api/health" "the grader service" "$STACK/grader.log"
wait_for "http://127.0.0.1:$HUB_PORT/hub/api/" "JupyterHub" "$STACK/hub.log"

if [ "${1:-}" = "--check" ]; then
    "$VENV/bin/python" "$ROOT/scripts/local_stack_check.py" "http://127.0.0.1:$HUB_PORT" student1
    exit $?
fi
cat <<DONE

  The Grader Service demo is running. Open

      http://127.0.0.1:$HUB_PORT

  and sign in as student1 (or student2, tutor, instructor): no password. JupyterLab opens; its Launcher
  has "Assignments" (or run "Assignments" from the command palette).

  API tokens for curl and git (the README's walk-through): $STACK/demo-tokens.txt
  Logs: $STACK/grader.log, $STACK/hub.log. Ctrl-C stops everything.
DONE
wait -n "${pids[@]}"

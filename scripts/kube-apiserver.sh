#!/usr/bin/env bash
# Provides a real kube-apiserver (built once from Debian's `kubernetes` source package, cached) and etcd
# (Debian's etcd-server) for the KubernetesExecutor tests. Prints the binary's path on success.
#   scripts/kube-apiserver.sh            build if missing, print the path
# Cache: ${GRADER_CACHE:-$HOME/.cache/grader-service}/k8s/kube-apiserver (about 4.5 minutes to build once).
set -euo pipefail
CACHE="${GRADER_CACHE:-$HOME/.cache/grader-service}/k8s"
BIN="$CACHE/kube-apiserver"
mkdir -p "$CACHE"
if [ -x "$BIN" ] && command -v etcd >/dev/null; then
    echo "$BIN"; exit 0
fi
exec 9>"$CACHE/.build.lock"
flock 9
if [ -x "$BIN" ] && command -v etcd >/dev/null; then echo "$BIN"; exit 0; fi
log="$CACHE/build.log"
{
    if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ 2>/dev/null; then
        cat > /etc/apt/sources.list.d/debian-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go etcd-server rsync openssl curl
    if [ ! -x "$BIN" ]; then
        WORK=$(mktemp -d)
        cd "$WORK"
        apt-get source --download-only kubernetes
        tar xzf kubernetes_*.orig.tar.gz
        cd kubernetes-*/
        env HOME="$WORK/home" GOPROXY=off make WHAT=cmd/kube-apiserver
        cp _output/bin/kube-apiserver "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
        cd / && rm -rf "$WORK"
    fi
} >"$log" 2>&1 || { echo "kube-apiserver.sh: build failed, see $log" >&2; exit 1; }
echo "$BIN"

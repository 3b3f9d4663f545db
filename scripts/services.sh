#!/usr/bin/env bash
# Starts the local PostgreSQL, RabbitMQ and Redis the tests use, if they are not already running.
# Prints one line per service; a service that cannot be started is reported loudly (the tests that need
# it then skip with a message naming it).
set -uo pipefail

wait_for() {  # wait_for NAME CMD...
    local name=$1; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then echo "services: $name is up"; return 0; fi
        sleep 0.5
    done
    echo "services: !!! $name could not be started: tests that need it will be SKIPPED !!!" >&2
    return 1
}

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        echo "services: starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
fi
wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5672 && command -v rabbitmq-server >/dev/null; then
    echo "services: starting RabbitMQ"
    rabbitmq-server -detached || true
fi
wait_for RabbitMQ port_open 5672

if ! port_open 6379 && command -v redis-server >/dev/null; then
    echo "services: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
wait_for Redis port_open 6379
exit 0

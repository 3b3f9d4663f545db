"""REST API latency: p50/p95/p99 of two hot reads at 1, 10 and 50 concurrent clients, SQLite and PostgreSQL.

Runs the real service (`python -m grader_service`) as a separate process seeded with `grader-service demo`,
and drives it with a small asyncio HTTP/1.1 keep-alive client (one connection per simulated client) so the
client costs as little as possible. Usage:

    .venv/bin/python benchmarks/api_latency.py [--requests 2000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

PG_ADMIN = os.environ.get("GRADER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def one_client(port: int, path: str, token: str, count: int, out: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {token}\r\n\r\n").encode()
    for _ in range(count):
        t0 = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"unexpected response: {head[:80]!r}")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        out.append(time.perf_counter() - t0)
    writer.close()


async def measure(port: int, path: str, token: str, clients: int, total: int) -> tuple[list[float], float]:
    per_client = max(1, total // clients)
    samples: list[float] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(one_client(port, path, token, per_client, samples) for _ in range(clients)))
    return samples, time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def start_service(db_url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env["GRADER_DB_URL"] = db_url
    demo = json.loads(
        subprocess.run(
            [sys.executable, "-m", "grader_service", "demo", "--json"],
            cwd=workdir,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    port = free_port()
    env["GRADER_PORT"] = str(port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader_service", "--log-level=WARNING"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port, demo
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the service did not start")


def backend_url(name: str, workdir: Path) -> tuple[str, str | None]:
    if name == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite'}", None
    db = f"grader_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{db}", db


def drop_pg(db: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per cell of the table")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            url, pg_db = backend_url(backend, Path(tmp))
            proc, port, demo = start_service(url, Path(tmp))
            try:
                token = demo["users"]["student1"]["token"]
                lecture_id = demo["lecture"]["id"]
                endpoints = {
                    "GET /api/lectures/{id}/assignments": f"/api/lectures/{lecture_id}/assignments",
                    "GET /api/user": "/api/user",
                }
                for path in endpoints.values():  # warm up connections, caches and the thread pool
                    asyncio.run(measure(port, path, token, 10, 200))
                for label, path in endpoints.items():
                    for clients in (1, 10, 50):
                        samples, elapsed = asyncio.run(measure(port, path, token, clients, args.requests))
                        rows.append(
                            (
                                backend,
                                label,
                                clients,
                                pct(samples, 50),
                                pct(samples, 95),
                                pct(samples, 99),
                                len(samples) / elapsed,
                            )
                        )
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)
                if pg_db:
                    drop_pg(pg_db)
    print(f"\nREST API latency, {args.requests} requests per row, {os.cpu_count()} CPUs")
    print(
        f"{'backend':<11} {'endpoint':<36} {'clients':>7} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}"
    )
    for backend, label, clients, p50, p95, p99, rps in rows:
        print(f"{backend:<11} {label:<36} {clients:>7} {p50:>8.2f} {p95:>8.2f} {p99:>8.2f} {rps:>8.0f}")


if __name__ == "__main__":
    main()

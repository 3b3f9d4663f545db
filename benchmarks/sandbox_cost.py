"""What the sandbox's per-job steps cost: namespaces with and without a network namespace (plus bringing
up its loopback), and building a job's root (`jail.build_jail`), each in a forked child as a job does.

Usage (as root): .venv/bin/python benchmarks/sandbox_cost.py [--runs 200]
Prints the median and 90th percentile in milliseconds of each step, measured in the child.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from grader_service.executors.jail import JailPlan, build_jail
from grader_service.executors.sandbox import enter_namespaces, loopback_up
from grader_service.executors.sandbox_plan import SYSTEM_MASKED, SYSTEM_PATHS


def in_child(step: Callable[[], None]) -> float:
    """Seconds `step` took in a forked child (which then exits, tearing its namespaces down)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        started = time.perf_counter()
        step()
        os.write(write, json.dumps(time.perf_counter() - started).encode())
        os._exit(0)
    os.close(write)
    took = json.loads(os.read(read, 64))
    os.close(read)
    os.waitpid(pid, 0)
    return float(took)


def namespaces(network: bool) -> Callable[[], None]:
    def step() -> None:
        enter_namespaces(network=network)
        if network:
            loopback_up()

    return step


def jail(scratch: str) -> Callable[[], None]:
    def step() -> None:
        enter_namespaces()
        build_jail(
            JailPlan(
                root=os.path.join(scratch, "jail"),
                readonly=[*SYSTEM_PATHS, sys.prefix, sys.base_prefix],
                writable=[scratch],
                box=os.path.join(scratch, "box"),
                box_bytes=256 << 20,
                box_inodes=16384,
                kernel_uid=61001,
                kernel_gid=61001,
                masked=SYSTEM_MASKED,
            )
        )

    return step


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    scratch = tempfile.mkdtemp(prefix="sandbox-cost-")
    for name in ("jail", "box"):
        os.mkdir(os.path.join(scratch, name))
    steps = {
        "namespaces without network": namespaces(False),
        "namespaces with network + lo up": namespaces(True),
        "namespaces + job root (jail)": jail(scratch),
    }
    try:
        for label, step in steps.items():
            times = sorted(in_child(step) * 1000 for _ in range(runs))
            p90 = times[int(len(times) * 0.9)]
            median = statistics.median(times)
            print(f"{label:34s} median {median:6.2f} ms   p90 {p90:6.2f} ms   ({runs} runs)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

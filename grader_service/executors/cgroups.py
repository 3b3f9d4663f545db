"""Per-job cgroups (v1 or v2, when this process may create them): a process cap and a memory cap, OOM
detection, and killing every process of the job at the end, wherever it moved in the process tree."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class JobCgroup:
    """The cgroup directories of one job; `paths` are what the job's supervisor joins."""

    def __init__(self, paths: list[Path], version: int) -> None:
        self.paths = paths
        self.version = version

    @classmethod
    def create(cls, name: str, *, max_pids: int, memory_bytes: int) -> JobCgroup | None:
        """A fresh cgroup named `name`, or None when cgroups cannot be created here."""
        try:
            if (ROOT / "cgroup.controllers").exists():  # unified hierarchy (v2)
                path = ROOT / "grader-jobs" / name
                path.mkdir(parents=True)
                if max_pids:
                    (path / "pids.max").write_text(str(max_pids))
                if memory_bytes:
                    (path / "memory.max").write_text(str(memory_bytes))
                    (path / "memory.swap.max").write_text("0")
                return cls([path], 2)
            pids, memory = ROOT / "pids" / "grader-jobs" / name, ROOT / "memory" / "grader-jobs" / name
            paths = []
            if (ROOT / "pids").is_dir():
                pids.mkdir(parents=True)
                paths.append(pids)
                if max_pids:
                    (pids / "pids.max").write_text(str(max_pids))
            if (ROOT / "memory").is_dir():
                memory.mkdir(parents=True)
                paths.append(memory)
                if memory_bytes:
                    (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            return cls(paths, 1) if paths else None
        except OSError:
            return None

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.paths:
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
        return found

    def oom_killed(self) -> bool:
        for path in self.paths:
            try:
                if self.version == 2:
                    events = dict(line.split() for line in (path / "memory.events").read_text().splitlines())
                    if int(events.get("oom_kill", 0)) > 0:
                        return True
                elif (path / "memory.failcnt").exists() and int((path / "memory.failcnt").read_text()) > 0:
                    return True
            except (OSError, ValueError):
                pass
        return False

    def pids_exhausted(self) -> bool:
        for path in self.paths:
            try:
                if self.version == 2 or path.parts[-3] == "pids":
                    events = (path / "pids.events").read_text().split()
                    if len(events) >= 2 and int(events[1]) > 0:
                        return True
            except (OSError, ValueError, IndexError):
                pass
        return False

    def kill_all(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)

"""Per-repo write lock that serialises writers across threads (threading) and processes (fcntl.flock)."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _PathLock:
    """Re-entrant within one thread; the file lock is taken once, by the outermost holder."""

    def __init__(self, lock_file: Path) -> None:
        self.lock_file = lock_file
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None

    def acquire(self) -> None:
        self.thread_lock.acquire()
        if self.depth == 0:
            try:
                self.lock_file.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
            except BaseException:
                self.thread_lock.release()
                raise
            self.fd = fd
        self.depth += 1

    def release(self) -> None:
        self.depth -= 1
        if self.depth == 0 and self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        self.thread_lock.release()


class LockRegistry:
    """Hands out one lock per lock-file path for the life of the process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Path, _PathLock] = {}

    @contextmanager
    def hold(self, lock_file: Path) -> Iterator[None]:
        """Hold the exclusive lock for ``lock_file`` (blocking) for the duration of the block."""
        with self._guard:
            lock = self._locks.get(lock_file)
            if lock is None:
                lock = self._locks[lock_file] = _PathLock(lock_file)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

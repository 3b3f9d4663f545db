"""The worker's half of the sandbox: which uids a job gets, how its scratch folder is laid out and owned,
what its root is built from, and whether the kernel's uid can read the Python it must import."""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
import threading
from pathlib import Path

#: host paths every job's root binds read-only (missing ones are skipped), besides the Python installation
SYSTEM_PATHS = [
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/sys/devices/system/cpu",
]
#: files inside those never shown to a job (password hashes)
SYSTEM_MASKED = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers", "/etc/ssh"]


class UidPool:
    """Kernel uids for concurrent jobs: `base` is the grading processes' uid; each running job's kernels get
    one of base+1 .. base+count-1 to themselves (gid = uid), also across the worker processes of a host:
    a uid is held by an exclusive lock on a file in `lock_dir` for as long as its job runs."""

    def __init__(self, base: int, count: int, lock_dir: str | None = None) -> None:
        if base < 1000 or count < 2:
            raise ValueError("sandbox_uid_base must be >= 1000 and sandbox_uid_count >= 2")
        self.base, self.count = base, count
        self.lock_dir = lock_dir or os.path.join(tempfile.gettempdir(), "grader-sandbox-uids")
        self._held: dict[int, int] = {}
        self._lock = threading.Lock()

    @property
    def grader(self) -> int:
        return self.base

    def take(self) -> int:
        os.makedirs(self.lock_dir, mode=0o700, exist_ok=True)
        with self._lock:
            for uid in range(self.base + 1, self.base + self.count):
                if uid in self._held:
                    continue
                fd = os.open(os.path.join(self.lock_dir, str(uid)), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue  # another worker process's job has it
                self._held[uid] = fd
                return uid
        raise RuntimeError(f"all {self.count - 1} kernel uids are in use: raise sandbox_uid_count")

    def give_back(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid, None)
        if fd is not None:
            os.close(fd)  # releases the lock


def kernel_unreadable(paths: list[str], uid: int) -> list[str]:
    """Those of `paths` (bound into every job's root) that `uid`, in no group of theirs, cannot read. Their
    parent folders do not matter: the job's root re-creates them world-traversable."""
    problems = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        need = 0o5 if stat.S_ISDIR(st.st_mode) else 0o4
        if st.st_uid == uid or st.st_mode & need == need:
            continue
        problems.append(f"{path} (mode {stat.S_IMODE(st.st_mode):04o}, owner uid {st.st_uid})")
    return problems


def privileges_refusal(missing: list[str]) -> str:
    return (
        "the grading sandbox cannot be built: this worker lacks " + ", ".join(missing) + ". Run the worker "
        "as root (see docs/security.md, also for the Kubernetes pod), or set ProcessExecutor.isolation = "
        "'none' for trusted notebooks only."
    )


def readability_refusal(uid: int, unreadable: list[str]) -> str:
    return (
        f"kernels run as uid {uid}, which cannot read " + "; ".join(unreadable) + ". Make the Python "
        "installation world-readable (chmod -R o+rX on those paths; their parent folders may stay private) "
        "or point ProcessExecutor.python at a Python the kernel uid can read (see docs/security.md)."
    )


def layout_scratch(scratch: Path, grader_uid: int) -> dict[str, Path]:
    """The folders of a sandboxed job: submission (the grader's only), out (the graded copy the grader
    writes at the end), gtmp (the grader's temporary files), jail (where its root is built), box (where the
    kernel's tmpfs is mounted). The scratch folder itself is traversable, not listable, by the job."""
    os.chmod(scratch, 0o711)
    parts = {name: scratch / name for name in ("submission", "out", "gtmp", "jail", "box")}
    for name in ("out", "gtmp", "jail", "box"):
        parts[name].mkdir(mode=0o700)
    for name in ("out", "gtmp"):
        os.chown(parts[name], grader_uid, grader_uid)
    return parts


def hand_over(folder: Path, uid: int) -> None:
    """Give a copied folder to `uid` (never following links), private to it."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        os.lchown(dirpath, uid, uid)
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, uid)
    os.chmod(folder, 0o700)


__all__ = [
    "SYSTEM_MASKED",
    "SYSTEM_PATHS",
    "UidPool",
    "hand_over",
    "kernel_unreadable",
    "layout_scratch",
    "privileges_refusal",
    "readability_refusal",
]

"""Sandbox primitives, done in-process with Linux system calls (no helper programs to exec).

Used by the fork server (`forkserver.py`) on the way from a clean, pre-imported template process to a
job's grading process:

- `enter_namespaces` gives the calling process a private mount namespace and makes its next child the
  first process (PID 1) of a new PID namespace; as a non-root user it first enters a user namespace that
  maps the caller's uid to root (that root has no power outside).
- `seal_filesystem` (in that child) mounts a fresh /proc, hides configured paths under empty read-only
  mounts, and makes every mount read-only except the job's writable folders.
- `set_limits` sets resource limits; `drop_privileges` drops every capability and sets no_new_privs so
  nothing can regain them.

Each function raises `SandboxError` with the failing step, so the caller can report exactly what this
machine could not do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import stat
from collections.abc import Iterable

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 0x20, 0x400, 0x800, 0x1000
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 0x4000, 0x40000, 0x200000, 0x1000000
#: mount flags that an unprivileged (user-namespace) remount must keep, by their name in mountinfo
_KEPT_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}

PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class SandboxError(OSError):
    """One step of building the sandbox failed; the message names the step."""


def _check(result: int, step: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{step}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


def enter_namespaces() -> None:
    """New mount namespace for this process; its next child starts a new PID namespace (as its PID 1)."""
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS | CLONE_NEWPID
    if uid != 0:
        flags |= CLONE_NEWUSER
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")
    if uid != 0:
        with open("/proc/self/setgroups", "w") as fh:
            fh.write("deny")
        with open("/proc/self/uid_map", "w") as fh:
            fh.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as fh:
            fh.write(f"0 {gid} 1")


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts() -> list[tuple[str, int]]:
    """(mount point, flags to keep) of every mount this process sees."""
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            kept = 0
            for option in fields[5].split(","):
                kept |= _KEPT_FLAGS.get(option, 0)
            found.append((_unescape(fields[4]), kept))
    return found


def seal_filesystem(writable: Iterable[str], hidden: Iterable[str] = ()) -> None:
    """In a private mount namespace: fresh /proc, `hidden` paths covered, everything read-only but
    `writable`."""
    writable = [os.path.realpath(p) for p in writable]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for path in hidden:
        path = os.path.realpath(path)
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(mode):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=000")
        else:
            _mount("/dev/null", path, None, MS_BIND)
    for path in writable:
        _mount(path, path, None, MS_BIND | MS_REC)
    for target, kept in sorted(mounts(), key=lambda m: len(m[0]), reverse=True):
        if target in writable or not os.path.exists(target):
            continue
        try:
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)
        except SandboxError:
            if target == "/":
                raise  # the root must be read-only; other mounts (a masked /proc file...) may refuse
    if "/" not in writable and not os.statvfs("/").f_flag & os.ST_RDONLY:
        raise SandboxError(0, "the root filesystem is still writable after remounting")


def set_limits(limits: dict[str, int]) -> None:
    """Address space, CPU seconds, processes, file size, open files (0 = unchanged); never a core file."""
    table = {
        "memory_bytes": resource.RLIMIT_AS,
        "cpu_seconds": resource.RLIMIT_CPU,
        "max_processes": resource.RLIMIT_NPROC,
        "max_file_bytes": resource.RLIMIT_FSIZE,
        "max_open_files": resource.RLIMIT_NOFILE,
    }
    for key, which in table.items():
        value = int(limits.get(key, 0))
        if value > 0:
            resource.setrlimit(which, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_privileges() -> None:
    """Empty the capability bounding set and the ambient set, set no_new_privs, and clear the effective,
    permitted and inheritable capabilities: root in the sandbox keeps its uid but no power over files it
    does not own, and cannot undo the read-only mounts."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except OSError:
        last = 40
    for cap in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails (EPERM) only when already unprivileged
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


__all__ = ["SandboxError", "drop_privileges", "enter_namespaces", "mounts", "seal_filesystem", "set_limits"]

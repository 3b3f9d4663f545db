"""Sandbox primitives, done in-process with Linux system calls (no helper programs to exec).

Used by the fork server (`forkserver.py`) and the kernel spawner (`kernel_spawner.py`) on the way from a
clean, pre-imported template process to a job's grading process and its kernels:

- `enter_namespaces` gives the calling process private mount, IPC, UTS and network namespaces (the
  network one holds only a loopback device, brought up by `loopback_up`) and makes its next child the
  first process (PID 1) of a new PID namespace;
- `set_limits` sets resource limits;
- `become_grader` switches the grading process to its own uid, keeping only CAP_KILL (to stop its
  kernels, which run under another uid) and making it non-dumpable;
- `become_kernel` switches a kernel to its own uid with no capability at all.

All of it needs root (`NEEDED_CAPABILITIES`): `missing_privileges`
names what this process lacks, so the executor can refuse to grade with that message. Each function raises
`SandboxError` with the failing step.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import resource
import socket
import struct

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000

PR_SET_DUMPABLE, PR_SET_KEEPCAPS, PR_CAPBSET_DROP = 4, 8, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
CAP_KILL = 5
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
#: capabilities the worker needs to build the sandbox: (number, name, what for)
NEEDED_CAPABILITIES = [
    (21, "CAP_SYS_ADMIN", "namespaces and mounts"),
    (7, "CAP_SETUID", "switching to the grading and kernel uids"),
    (6, "CAP_SETGID", "switching to the grading and kernel gids"),
    (8, "CAP_SETPCAP", "dropping capabilities"),
    (5, "CAP_KILL", "stopping kernels under another uid"),
    (12, "CAP_NET_ADMIN", "bringing up the job's loopback device"),
    (0, "CAP_CHOWN", "giving the job's folders to its uids"),
    (1, "CAP_DAC_OVERRIDE", "collecting and removing the job's folders"),
    (3, "CAP_FOWNER", "setting the modes of the job's folders"),
]

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class SandboxError(OSError):
    """One step of building the sandbox failed; the message names the step."""


def _check(result: int, step: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{step}: {os.strerror(err)}")


def missing_privileges() -> list[str]:
    """What this process lacks to build the sandbox (empty when it can), e.g. ['CAP_SYS_ADMIN (namespaces
    and mounts)']."""
    try:
        with open("/proc/self/status") as fh:
            effective = int(next(line for line in fh if line.startswith("CapEff:")).split()[1], 16)
    except (OSError, StopIteration, ValueError):
        return ["a readable /proc/self/status (to check capabilities)"]
    missing = [f"{name} ({why})" for bit, name, why in NEEDED_CAPABILITIES if not effective >> bit & 1]
    if os.geteuid() != 0:
        missing.insert(0, "uid 0 in the host's user namespace")
    return missing


def enter_namespaces(*, network: bool = True) -> None:
    """New mount, IPC, UTS (and network) namespaces for this process; its next child starts a new PID
    namespace as its PID 1. `network=False` exists only for the sandbox's own mutation tests."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if network:
        flags |= CLONE_NEWNET
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def loopback_up() -> None:
    """Bring up `lo` in this (fresh) network namespace: the kernel's channels to its grader use it; no other
    device exists, so nothing outside the job is reachable."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


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


def _drop_bounding_set(keep: frozenset[int] = frozenset()) -> None:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except OSError:
        last = 40
    for cap in range(last + 1):
        if cap not in keep:
            _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def _capset(bits: int) -> None:
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    data[0].effective = data[0].permitted = bits
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def set_dumpable(flag: bool) -> None:
    """Non-dumpable: this process's /proc files belong to root and nobody without CAP_SYS_PTRACE may read
    its memory, environment or descriptors or ptrace it."""
    _check(_libc.prctl(PR_SET_DUMPABLE, int(flag), 0, 0, 0), "prctl(dumpable)")


def _switch_uid(uid: int, gid: int, groups: list[int] | None = None) -> None:
    try:
        os.setgroups(groups or [])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as exc:
        raise SandboxError(exc.errno or 0, f"switching to uid {uid}/gid {gid}: {exc.strerror}") from None


def become_grader(uid: int, gid: int, groups: list[int] | None = None) -> None:
    """The grading process: its own uid and gid (and `groups`: the kernel's, to read what it wrote), CAP_KILL
    only (its kernels run under another uid), no new privileges, not dumpable."""
    _drop_bounding_set(keep=frozenset({CAP_KILL}))
    _check(_libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(keepcaps)")
    _switch_uid(uid, gid, groups)
    _capset(1 << CAP_KILL)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")
    set_dumpable(False)


def become_kernel(uid: int, gid: int) -> None:
    """A kernel: its own uid and gid, no capabilities (not even in the bounding set), no new privileges.
    It stays dumpable so student code may read its own /proc/self files (no other process shares its uid)."""
    _drop_bounding_set()
    _switch_uid(uid, gid)  # clears every capability: the uid is no longer 0 and keepcaps is off
    _capset(0)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")
    set_dumpable(True)


__all__ = [
    "SandboxError",
    "become_grader",
    "become_kernel",
    "enter_namespaces",
    "loopback_up",
    "missing_privileges",
    "set_dumpable",
    "set_limits",
]

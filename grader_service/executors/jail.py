"""The filesystem a job sees: a fresh root built from an allow-list, with a size- and inode-capped tmpfs
as the only place its kernel can write.

`build_jail` runs in the job's grading process, inside its private mount namespace and as PID 1 of its PID
namespace, before anything secret is read. It mounts a small tmpfs, bind-mounts into it (read-only) only
what a kernel needs (the Python installation, system libraries, /etc without the password hashes) and
(read-write) the job's scratch folder, adds a minimal /dev, a /proc that shows other users' processes to
nobody (hidepid=2), and the job's *box*: a tmpfs with `size=` and `nr_inodes=` (the scratch quota, on no
disk the service uses) where the kernel's working folder, HOME and TMPDIR live. Then it makes the new root
read-only and pivots into it, so every other host path (the data folder, other jobs' scratch folders,
/root, the checkout, config files) does not exist for the job, rather than being merely read-only.

Parent folders of allowed paths are created afresh (mode 0755) in the new root, so a Python installed
under a 0700 home is usable by the kernel's uid as long as the installation itself is world-readable.
"""

from __future__ import annotations

import ctypes
import os
import platform
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from grader_service.executors.sandbox import SandboxError, _check, _libc

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEVICES = ("null", "zero", "full", "random", "urandom")


@dataclass
class JailPlan:
    """What one job's root holds. Paths are host paths; they keep their names inside the jail."""

    root: str  #: an empty folder to build the new root on (inside the scratch folder)
    readonly: list[str]  #: folders and files bound read-only (missing ones are skipped)
    writable: list[str]  #: folders bound read-write (the job's scratch folder)
    box: str  #: where the job's tmpfs goes (inside a writable folder)
    box_bytes: int
    box_inodes: int
    kernel_uid: int
    kernel_gid: int
    masked: list[str] = field(default_factory=list)  #: paths inside allowed folders covered by empties


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


def _mountpoint(path: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(path, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        if not os.path.exists(path):
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))


def _submounts(target: str) -> list[str]:
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            point = line.split()[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
            if point == target or point.startswith(target.rstrip("/") + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def _bind(source: str, target: str, *, readonly: bool) -> None:
    is_dir = os.path.isdir(source)
    _mountpoint(target, is_dir)
    _mount(source, target, None, MS_BIND | (MS_REC if readonly else 0))
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (MS_RDONLY if readonly else 0)
    for point in _submounts(target) if readonly else [target]:
        try:
            _mount(None, point, None, flags)
        except SandboxError:
            if point == target:
                raise


def _existing(paths: Iterable[str]) -> list[str]:
    """Real paths that exist, outermost first, without ones already inside another."""
    real = sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)}, key=len)
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def build_jail(plan: JailPlan) -> None:
    """Build the job's root from `plan` and pivot into it (this process and its children stay inside)."""
    new = os.path.realpath(plan.root)

    def inside(path: str) -> str:
        return new + path

    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,nr_inodes=4096,mode=0755")
    for path in _existing(plan.readonly):
        _bind(path, inside(path), readonly=True)
    for path in plan.readonly:  # /bin -> usr/bin and the like: the same link inside
        if os.path.islink(path) and not os.path.lexists(inside(path)):
            os.makedirs(os.path.dirname(inside(path)), mode=0o755, exist_ok=True)
            os.symlink(os.readlink(path), inside(path))
    for path in _existing(plan.writable):
        _bind(path, inside(path), readonly=False)
    blank = inside("/.masked")  # what a masked file shows: empty, readable by nobody without privileges
    os.close(os.open(blank, os.O_CREAT | os.O_WRONLY, 0o000))
    for path in plan.masked:
        real = os.path.realpath(path)
        target = inside(real)
        if os.path.lexists(target):
            if os.path.isdir(target):
                _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=000")
            else:
                _mount(blank, target, None, MS_BIND)
    os.makedirs(inside("/proc"), mode=0o555)
    _mount("proc", inside("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
    _make_dev(inside("/dev"))
    box = inside(os.path.realpath(plan.box))
    os.makedirs(box, exist_ok=True)
    _mount(
        "tmpfs",
        box,
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"size={plan.box_bytes},nr_inodes={plan.box_inodes},mode=0755",
    )
    for name in ("graded", "home", "tmp"):  # the grader is in the kernel's group: it writes graded/ too
        os.mkdir(os.path.join(box, name))
        os.chown(os.path.join(box, name), plan.kernel_uid, plan.kernel_gid)
        os.chmod(os.path.join(box, name), 0o2770)
    os.mkdir(os.path.join(box, "shm"))
    os.chmod(os.path.join(box, "shm"), 0o1777)
    _mount(os.path.join(box, "shm"), inside("/dev/shm"), None, MS_BIND)
    _mount(None, inside("/dev"), None, MS_REMOUNT | MS_NOSUID | MS_NOEXEC | MS_RDONLY)
    _mount(None, new, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY)
    _pivot(new)


def _make_dev(dev: str) -> None:
    os.makedirs(dev, mode=0o755)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for name in DEVICES:
        if stat.S_ISCHR(os.stat(f"/dev/{name}").st_mode):
            _mountpoint(os.path.join(dev, name), False)
            _mount(f"/dev/{name}", os.path.join(dev, name), None, MS_BIND)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, os.path.join(dev, name))
    os.mkdir(os.path.join(dev, "shm"))


def _pivot(new: str) -> None:
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise SandboxError(0, f"pivot_root: unknown system call number on {platform.machine()}")
    os.chdir(new)
    _check(_libc.syscall(ctypes.c_long(number), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")


__all__ = ["JailPlan", "build_jail"]

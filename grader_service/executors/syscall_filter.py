"""The seccomp filter every kernel runs under (through libseccomp's ctypes bindings, `pyseccomp`).

The filter allows by default and refuses, with EPERM, the system calls a notebook has no use for and that
would widen its reach beyond its uid, namespaces and files: debugging other processes, reshaping the
filesystem or the namespaces, the kernel keyring, loading code into the Linux kernel, rebooting, and a few
calls with a long record of privilege-escalation bugs. clone3 answers ENOSYS (its flags sit in memory a
filter cannot read), so threads and processes are made with clone, whose namespace flags are refused.
The list is documented in docs/security.md; change both together.
"""

from __future__ import annotations

import contextlib
import errno

#: system calls refused with EPERM, by purpose
DENIED: dict[str, tuple[str, ...]] = {
    "other processes": ("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"),
    "filesystem and namespaces": (
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "unshare",
        "setns",
        "open_by_handle_at",
        "name_to_handle_at",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "move_mount",
        "open_tree",
        "mount_setattr",
        "quotactl",
    ),
    "kernel keyring": ("keyctl", "add_key", "request_key"),
    "kernel code and tracing": (
        "bpf",
        "perf_event_open",
        "init_module",
        "finit_module",
        "delete_module",
        "kexec_load",
        "kexec_file_load",
        "lookup_dcookie",
    ),
    "the machine": (
        "reboot",
        "swapon",
        "swapoff",
        "settimeofday",
        "clock_settime",
        "clock_adjtime",
        "adjtimex",
        "sethostname",
        "setdomainname",
        "acct",
        "iopl",
        "ioperm",
        "syslog",
        "vhangup",
    ),
    "risky interfaces": (
        "userfaultfd",
        "personality",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
    ),
}

#: namespace flags of clone(2) refused (a new user namespace would give the kernel root in it)
CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}


def denied_calls() -> list[str]:
    return [name for names in DENIED.values() for name in names]


def install() -> None:
    """Load the filter into this (single-threaded) process; every thread and child it makes inherits it.
    Needs no_new_privs (set by `sandbox.become_kernel`) or CAP_SYS_ADMIN."""
    import pyseccomp

    rules = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in denied_calls():
        with contextlib.suppress(OSError, RuntimeError, ValueError):  # not a call on this architecture
            rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    for flag in CLONE_NAMESPACE_FLAGS.values():
        rules.add_rule(
            pyseccomp.ERRNO(errno.EPERM), "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag)
        )
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.load()


__all__ = ["CLONE_NAMESPACE_FLAGS", "DENIED", "denied_calls", "install"]

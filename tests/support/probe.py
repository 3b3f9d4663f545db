"""The sandbox probe: an assignment whose locked test cells check, from inside the kernel, every defence of
the grading sandbox (docs/security.md). Each check is its own graded cell (1 point), so a failing defence
shows as the cell that lost its point; a last test cell holds a hidden-test marker the probe looks for in
the kernel's memory before that cell runs."""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from grader_service.demo_notebook import nbgrader_cell_meta

PROBE_NAME = "probe.ipynb"
#: the checks, in the order they run; each is one graded cell worth 1 point
CHECKS = ["network", "memory", "processes", "files", "identity", "quota"]


@dataclass
class ProbeTargets:
    """What the probe must find out of reach."""

    tcp: list[tuple[str, int]]  #: addresses no connection may reach (database, broker, Redis, service...)
    grader_uid: int  #: the grading process's uid (the kernel's must differ, and not be 0)
    forbidden: list[str]  #: host paths that must not be readable (data dir, another job, checkout...);
    #: a pattern with '*' must match nothing
    scratch_root: str  #: folder holding the jobs' scratch folders: only the probe's own may show
    quota_bytes: int
    quota_inodes: int
    marker: str = field(default_factory=lambda: "HIDDEN" + "MARK" + secrets.token_hex(16))


def host_address() -> str:
    """This machine's address on its default route (not loopback), or a private one if it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
        except OSError:
            return "10.0.0.1"


def default_tcp_targets(service_port: int | None = None) -> list[tuple[str, int]]:
    ports = [5432, 5672, 6379] + ([service_port] if service_port else [])
    host = host_address()
    return [("127.0.0.1", p) for p in ports] + [(host, p) for p in ports] + [("1.1.1.1", 443)]


def _cells(t: ProbeTargets) -> dict[str, str]:
    digest = hashlib.sha256(t.marker.encode()).hexdigest()
    return {
        "network": f"""import socket
reached = []
for host, port in {json.dumps(t.tcp)}:
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, port))
        reached.append((host, port))
    except OSError:
        pass
    finally:
        s.close()
devices = [name for _, name in socket.if_nameindex()]
print('reached', reached, 'devices', devices)
assert not reached and devices == ['lo'], (reached, devices)""",
        "memory": f"""import gc, hashlib, re
pattern = re.compile(b'HIDDEN' + b'MARK' + b'[0-9a-f]{{32}}')
want = {digest!r}
found = []
def look(blob):
    for m in pattern.finditer(blob):
        if hashlib.sha256(m.group()).hexdigest() == want:
            found.append(m.start())
for obj in gc.get_objects():
    for v in (obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()):
        if isinstance(v, str):
            look(v.encode('utf-8', 'replace'))
        elif isinstance(v, bytes):
            look(v)
scanned = 0
with open('/proc/self/maps') as maps, open('/proc/self/mem', 'rb', 0) as mem:
    for line in maps:
        span, perms = line.split()[:2]
        if not perms.startswith('r') or line.rstrip().endswith(('[vvar]', '[vsyscall]', '[vvar_vclock]')):
            continue
        start, end = (int(x, 16) for x in span.split('-'))
        for at in range(start, end, 1 << 22):
            try:
                mem.seek(at)
                look(mem.read(min(end - at, (1 << 22) + 64)))
                scanned += 1
            except (OSError, ValueError, OverflowError):
                pass
print('scanned chunks', scanned, 'found', len(found))
assert scanned > 10 and not found, found""",
        "processes": """import ctypes, os
opened = []
targets = sorted({1, os.getppid()} | {int(p) for p in os.listdir('/proc') if p.isdigit()} - {os.getpid()})
for pid in targets:
    for name, mode in (('environ', 'rb'), ('cmdline', 'rb'), ('mem', 'rb'), ('fd/0', 'rb'), ('fd/1', 'wb'),
                       ('fd/2', 'wb'), ('status', 'rb')):
        try:
            with open(f'/proc/{pid}/{name}', mode) as fh:
                opened.append((pid, name))
        except OSError:
            pass
    try:
        os.listdir(f'/proc/{pid}/fd')
        opened.append((pid, 'fd'))
    except OSError:
        pass
    try:
        os.kill(pid, 0)
        opened.append((pid, 'signal'))
    except OSError:
        pass
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, pid, 0, 0) == 0:
        opened.append((pid, 'ptrace'))
print('targets', targets, 'opened', opened)
assert targets and not opened, opened""",
        "files": f"""import glob, os
seen = []
for path in {json.dumps(t.forbidden)}:
    if '*' in path:
        seen += glob.glob(path)
        continue
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, 'rb').read(1)
        seen.append(path)
    except OSError:
        pass
mine = os.getcwd()
others = [p for p in glob.glob({json.dumps(t.scratch_root)} + '/*') if not mine.startswith(p + '/')]
for path in ('/tmp/escape.txt', '/usr/escape.txt', {json.dumps(t.scratch_root)} + '/escape.txt'):
    try:
        open(path, 'w').write('x')
        seen.append(path)
    except OSError:
        pass
print('readable', seen, 'other jobs', others)
assert not seen and not others, (seen, others)""",
        "identity": f"""import ctypes, os, sys
import wave  # not pre-imported by the fork server: read now, as the kernel uid, from the Python installation
assert wave.__file__.startswith(sys.base_prefix), wave.__file__
libc = ctypes.CDLL(None, use_errno=True)
status = open('/proc/self/status').read()
seccomp = status.split('Seccomp:')[1].split()[0]
caps = status.split('CapEff:')[1].split()[0]
unshared = libc.unshare(0x10000000) == 0
print('uid', os.getuid(), os.geteuid(), 'seccomp', seccomp, 'caps', caps, 'unshare', unshared)
assert os.getuid() not in (0, {t.grader_uid}) and os.geteuid() not in (0, {t.grader_uid})
assert seccomp == '2' and int(caps, 16) == 0 and not unshared""",
        "quota": f"""import errno, os
os.makedirs('quota', exist_ok=True)
chunk = b'x' * (1 << 20)
written, size_error = 0, None
try:
    for i in range({t.quota_bytes * 2 >> 22} + 8):
        with open(f'quota/big{{i}}', 'wb') as fh:
            for _ in range(4):
                fh.write(chunk)
                fh.flush()
                written += len(chunk)
except OSError as exc:
    size_error = exc.errno
for name in os.listdir('quota'):
    os.unlink('quota/' + name)
made, inode_error = 0, None
try:
    for i in range({t.quota_inodes * 2} + 100):
        open(f'quota/f{{i}}', 'w').close()
        made += 1
except OSError as exc:
    inode_error = exc.errno
for name in os.listdir('quota'):
    os.unlink('quota/' + name)
os.rmdir('quota')
print('bytes', written, size_error, 'files', made, inode_error)
assert size_error == errno.ENOSPC and written <= {t.quota_bytes}, (written, size_error)
assert inode_error == errno.ENOSPC and made <= {t.quota_inodes}, (made, inode_error)""",
    }


def probe_source(t: ProbeTargets) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [
        new_code_cell(
            "### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION",
            metadata=nbgrader_cell_meta("answer", solution=True),
        )
    ]
    for check, source in _cells(t).items():
        meta = nbgrader_cell_meta(f"probe_{check}", grade=True, locked=True, points=1)
        cells.append(new_code_cell(source, metadata=meta))
    hidden = (
        f"assert answer == 1\n### BEGIN HIDDEN TESTS\nassert {t.marker!r}.startswith('HIDDEN')\n"
        "### END HIDDEN TESTS"
    )
    cells.append(
        new_code_cell(hidden, metadata=nbgrader_cell_meta("hidden", grade=True, locked=True, points=1))
    )
    nb.cells = cells
    return nb


def write_probe(folder: Path, t: ProbeTargets) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PROBE_NAME
    nbformat.write(probe_source(t), path)
    return path


def failed_checks(result: dict) -> dict[str, str]:
    """check → status, for every probe cell that did not get its point (from an autograde result)."""
    cells = result["notebooks"][PROBE_NAME]["cells"]
    return {
        gid.removeprefix("probe_"): cell["status"]
        for gid, cell in cells.items()
        if gid.startswith("probe_") and cell["score"] != cell["max_score"]
    }


def check_outputs(notebook: bytes, checks: list[str] | None = None) -> str:
    """The printed lines and errors of the probe cells (all, or those of `checks`), for assertion messages."""
    lines = []
    for cell in json.loads(notebook)["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if gid.startswith("probe_") and (checks is None or gid.removeprefix("probe_") in checks):
            for out in cell.get("outputs", []):
                text = out.get("text") or f"{out.get('ename')}: {out.get('evalue')}"
                lines.append(f"{gid}: {''.join(text).strip()[:600]}")
    return "\n".join(lines)

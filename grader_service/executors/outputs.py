"""Reading an executor's output folder back: regular files only, never following links, size-capped."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class OutputTooLarge(ValueError):
    pass


def collect_files(root: Path, max_total_bytes: int) -> dict[str, bytes]:
    """path → bytes of every regular file under `root`; symlinks and special files are skipped."""
    files: dict[str, bytes] = {}
    total = 0
    if not root.is_dir():
        return files
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [
            d
            for d in dirnames
            if not os.path.islink(os.path.join(dirpath, d)) and d not in (".ipynb_checkpoints", "__pycache__")
        ]
        for name in filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if not stat.S_ISREG(st.st_mode):
                continue
            total += st.st_size
            if total > max_total_bytes:
                raise OutputTooLarge(f"the graded output is larger than {max_total_bytes} bytes")
            with open(full, "rb") as fh:
                files[os.path.relpath(full, root)] = fh.read()
    return files

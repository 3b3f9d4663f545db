"""Repo upkeep: merge the many small packs that pushes leave behind, so reads do not scan dozens of packs."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from dulwich.object_store import DiskObjectStore
from dulwich.repo import Repo

#: Every push adds a pack and every request opens each pack's index, so a few dozen packs make clones
#: several times slower (measured in benchmarks/git_http.py). Above this count, small packs are merged.
MAX_PACKS = 8
#: Only packs below this size are merged (their objects pass through memory); big packs stay as they are.
SMALL_PACK_BYTES = 8 * 1024 * 1024


def consolidate_small_packs(
    repo_path: Path, max_packs: int = MAX_PACKS, small_pack_bytes: int = SMALL_PACK_BYTES
) -> int:
    """Merge the small packs of the repo at ``repo_path`` into one if it has more than ``max_packs``.

    Returns the number of packs merged (0 if nothing was done). The caller holds the repo's write lock.
    The new pack is complete before any old one is removed, and an old pack's .idx goes before its .pack,
    so a concurrent reader always finds every object.
    """
    with Repo(str(repo_path)) as repo:
        store = repo.object_store
        assert isinstance(store, DiskObjectStore)
        packs = store.packs
        if len(packs) <= max_packs:
            return 0
        small = [p for p in packs if os.path.getsize(p._data_path) < small_pack_bytes]
        if len(small) < 2:
            return 0
        objects = {}
        for pack in small:
            for obj in pack.iterobjects():
                objects[obj.id] = obj
        merged = store.add_objects([(obj, None) for obj in objects.values()])
        merged_name = merged.name() if merged is not None else None
        for pack in small:
            if pack.name() == merged_name:
                continue
            base = pack._basename
            pack.close()
            for suffix in (".idx", ".rev", ".bitmap", ".pack"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(base + suffix)
        store.close()
        return len(small)

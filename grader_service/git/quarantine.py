"""Quarantine for an incoming pack: received beside the repo, checked, then moved in or thrown away."""

from __future__ import annotations

import os
import shutil
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from dulwich.object_store import DiskObjectStore
from dulwich.objects import ObjectID, sha_to_hex
from dulwich.pack import load_pack_index
from dulwich.repo import Repo

from . import refs as gitrefs
from .pack_limits import PackScanner

_OFS_DELTA, _REF_DELTA = 6, 7


def _varint_le(data: bytes, pos: int) -> tuple[int, int]:
    """Decode the little-endian base-128 size used in delta headers; return (value, next position)."""
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated delta header")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        shift += 7
        pos += 1
        if not byte & 0x80:
            return value, pos


def _object_size_at(fd: int, offset: int) -> int:
    """Uncompressed size of the pack entry at ``offset`` without inflating its body.

    Whole objects carry the size in the entry header; deltas carry the *result* size in the first bytes
    of their (compressed) delta data, so only a few bytes are inflated.
    """
    head = os.pread(fd, 64, offset)
    byte = head[0]
    kind = (byte >> 4) & 7
    size = byte & 0x0F
    shift, pos = 4, 1
    while byte & 0x80:
        byte = head[pos]
        size |= (byte & 0x7F) << shift
        shift += 7
        pos += 1
    if kind not in (_OFS_DELTA, _REF_DELTA):
        return size
    if kind == _REF_DELTA:
        pos += 20
    else:
        while head[pos] & 0x80:
            pos += 1
        pos += 1
    compressed = os.pread(fd, 256, offset + pos)
    delta_head = zlib.decompressobj().decompress(compressed, 32)
    _, pos = _varint_le(delta_head, 0)  # source size
    target_size, _ = _varint_le(delta_head, pos)
    return target_size


class Quarantine:
    """A temporary object directory inside ``repo``'s objects dir whose store also sees the repo's objects."""

    def __init__(self, repo: Repo) -> None:
        self.main = repo.object_store
        assert isinstance(self.main, DiskObjectStore)
        self.path = Path(tempfile.mkdtemp(prefix="incoming-", dir=self.main.path))
        self.store = DiskObjectStore.init(str(self.path))
        self.store.add_alternate_path(str(self.main.path))
        self._offsets: dict[bytes, tuple[Path, int]] | None = None

    def receive(
        self,
        read: Callable[[int], bytes],
        recv: Callable[[int], bytes] | None,
        max_input_size: int | None,
        scanner: PackScanner | None = None,
    ) -> None:
        """Read one pack from the client into the quarantine (completing thin packs from the repo); with a
        `scanner`, every byte passes its size checks before dulwich sees it (see git/pack_limits.py)."""
        if scanner is not None:
            read = scanner.wrap(read)
            recv = scanner.wrap(recv) if recv is not None else None
        self.store.add_thin_pack(read, recv, max_input_size=max_input_size)

    def is_new(self, sha: bytes) -> bool:
        """Whether the object came in with this push (is not already in the repo)."""
        return not gitrefs.has_object(self.main, sha)

    def _index(self) -> dict[bytes, tuple[Path, int]]:
        if self._offsets is None:
            self._offsets = {}
            for idx in (self.path / "pack").glob("*.idx"):
                index = load_pack_index(str(idx), self.main.object_format)
                try:
                    for raw_sha, offset, _ in index.iterentries():
                        self._offsets[sha_to_hex(raw_sha)] = (idx.with_suffix(".pack"), offset)
                finally:
                    index.close()
        return self._offsets

    def size_of(self, sha: bytes) -> int:
        """Uncompressed size of a blob received in this push, without loading it into memory."""
        where = self._index().get(sha)
        if where is None:
            return len(self.store[ObjectID(sha)].as_raw_string())
        pack, offset = where
        fd = os.open(pack, os.O_RDONLY)
        try:
            return _object_size_at(fd, offset)
        finally:
            os.close(fd)

    def migrate(self) -> None:
        """Move the received packs into the repo: .pack first, .idx last, as readers key on the .idx."""
        pack_dir = Path(self.main.pack_dir)
        for idx in (self.path / "pack").glob("*.idx"):
            base = idx.with_suffix("")
            for suffix in (".pack", ".rev", ".idx"):
                src = base.with_suffix(suffix)
                if src.exists():
                    os.replace(src, pack_dir / src.name)

    def discard(self) -> None:
        """Close the quarantine's stores and delete whatever is left of it."""
        for alt in self.store.alternates:
            alt.close()
        self.store.close()
        shutil.rmtree(self.path, ignore_errors=True)

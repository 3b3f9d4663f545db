"""Sizes of an incoming pack checked as it streams in, before dulwich inflates any object in memory.

A pack entry's header declares its inflated size, but the zlib stream after it may inflate to far more
(a 1.5 MiB pack can hold a 1.5 GiB blob), and dulwich inflates each object whole in memory. `PackScanner`
sits between the request body and dulwich: it inflates every entry itself, in 64 KiB pieces that it
throws away, and refuses the push as soon as an object is declared or inflates over the per-object limit,
the pack's total inflated size goes over its limit, or a delta would build more than it declares. dulwich
only ever sees bytes that passed, so memory stays bounded by the limits, not by the pack.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

_OFS_DELTA, _REF_DELTA = 6, 7
_VALID_KINDS = {1, 2, 3, 4, _OFS_DELTA, _REF_DELTA}
_PIECE = 64 * 1024


class PackLimitError(ValueError):
    """The pack breaks a size limit or is malformed; the message says which object and why."""


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


class _DeltaSizes:
    """Follows a delta's instructions as they inflate and adds up the bytes they would build."""

    def __init__(self, index: int, max_object: int) -> None:
        self.index = index
        self.max_object = max_object
        self.buf = bytearray()
        self.sizes: list[int] = []  # source size, target size (the two varints that open a delta)
        self.built = 0
        self.skip = 0  # bytes of an insert instruction still to come

    def feed(self, data: bytes) -> None:
        if self.skip:
            taken = min(self.skip, len(data))
            self.skip -= taken
            data = data[taken:]
        self.buf += data
        pos = 0
        buf = self.buf
        while pos < len(buf):
            if len(self.sizes) < 2:
                value, shift, end = 0, 0, pos
                while end < len(buf) and buf[end] & 0x80:
                    value |= (buf[end] & 0x7F) << shift
                    shift += 7
                    end += 1
                if end >= len(buf):
                    break  # the varint continues in the next piece
                value |= buf[end] << shift
                pos = end + 1
                self.sizes.append(value)
                if len(self.sizes) == 2 and value > self.max_object:
                    raise PackLimitError(
                        f"object {self.index} is a delta building {_mib(value)}, over the limit of "
                        f"{_mib(self.max_object)} per object"
                    )
                continue
            cmd = buf[pos]
            if cmd & 0x80:  # copy from the source: offset and size bytes as flagged
                need = 1 + bin(cmd & 0x7F).count("1")
                if pos + need > len(buf):
                    break
                size, at = 0, pos + 1 + bin(cmd & 0x0F).count("1")
                for bit in range(3):
                    if cmd & (0x10 << bit):
                        size |= buf[at] << (8 * bit)
                        at += 1
                self.built += size or 0x10000
                pos += need
            elif cmd:  # insert the next `cmd` bytes
                self.built += cmd
                pos += 1
                taken = min(cmd, len(buf) - pos)
                pos += taken
                self.skip = cmd - taken
            else:
                raise PackLimitError(f"object {self.index}: delta instruction 0 is invalid")
            if self.built > self.sizes[1]:
                raise PackLimitError(f"object {self.index}: the delta builds more than the size it declares")
        del buf[:pos]

    def finish(self) -> None:
        if len(self.sizes) < 2 or self.buf or self.skip or self.built != self.sizes[1]:
            raise PackLimitError(f"object {self.index}: the delta does not build the size it declares")


class PackScanner:
    """Wraps the read functions dulwich ingests a pack with; checks every byte before passing it on."""

    def __init__(self, max_object: int, max_total: int, max_objects: int) -> None:
        self.max_object = max_object
        self.max_total = max_total
        self.max_objects = max_objects
        self.total = 0  # inflated bytes so far (delta targets counted at their built size)
        self.count = -1  # objects in the pack, once its header is read
        self.index = 0
        self._head = bytearray()
        self._zlib: zlib._Decompress | None = None
        self._declared = 0
        self._inflated = 0
        self._delta: _DeltaSizes | None = None

    def wrap(self, read: Callable[[int], bytes]) -> Callable[[int], bytes]:
        def checked(n: int) -> bytes:
            data = read(n)
            self.feed(data)
            return data

        return checked

    @property
    def done(self) -> bool:
        return self.count >= 0 and self.index >= self.count

    def feed(self, data: bytes) -> None:
        rest = memoryview(data)
        while len(rest) and not self.done:
            if self._zlib is not None:
                rest = self._inflate(rest)
            else:
                self._head += rest
                rest = self._parse_head()

    def _parse_head(self) -> memoryview:
        head = self._head
        if self.count < 0:
            if len(head) < 12:
                return memoryview(b"")
            magic, version, count = struct.unpack(">4sLL", head[:12])
            if magic != b"PACK" or version not in (2, 3):
                raise PackLimitError("the pushed data is not a git pack")
            if count > self.max_objects:
                raise PackLimitError(
                    f"the pack has {count} objects, more than the limit of {self.max_objects}"
                )
            self.count = count
            del head[:12]
            return self._take_rest()
        byte, pos = head[0], 1
        kind, size, shift = (byte >> 4) & 7, byte & 0x0F, 4
        while byte & 0x80:
            if pos >= len(head):
                return memoryview(b"")
            byte = head[pos]
            size |= (byte & 0x7F) << shift
            shift += 7
            pos += 1
        if kind not in _VALID_KINDS:
            raise PackLimitError(f"object {self.index} has the invalid type {kind}")
        if kind == _REF_DELTA:
            pos += 20
        elif kind == _OFS_DELTA:
            while pos < len(head) and head[pos] & 0x80:
                pos += 1
            pos += 1
        if pos > len(head):
            return memoryview(b"")
        if size > self.max_object:
            raise PackLimitError(
                f"object {self.index} is {_mib(size)} inflated, "
                f"over the limit of {_mib(self.max_object)} per object"
            )
        delta = kind in (_OFS_DELTA, _REF_DELTA)
        self._delta = _DeltaSizes(self.index, self.max_object) if delta else None
        if not delta:
            self._count_total(size)
        self._declared, self._inflated = size, 0
        self._zlib = zlib.decompressobj()
        del head[:pos]
        return self._take_rest()

    def _take_rest(self) -> memoryview:
        rest = memoryview(bytes(self._head))
        self._head.clear()
        return rest

    def _count_total(self, size: int) -> None:
        self.total += size
        if self.total > self.max_total:
            raise PackLimitError(
                f"the pack inflates to more than {_mib(self.max_total)}, the limit for one push"
            )

    def _inflate(self, data: memoryview) -> memoryview:
        z = self._zlib
        assert z is not None
        chunk: bytes | memoryview = data
        while True:
            try:
                out = z.decompress(chunk, _PIECE)
            except zlib.error as exc:
                raise PackLimitError(f"object {self.index}: corrupt compressed data ({exc})") from None
            self._inflated += len(out)
            if self._inflated > self._declared:
                raise PackLimitError(
                    f"object {self.index} inflates to more than the {self._declared} bytes "
                    "its header declares"
                )
            if self._delta is not None:
                self._delta.feed(out)
            chunk = z.unconsumed_tail
            if z.eof:
                break
            if not chunk and len(out) < _PIECE:  # input used up and no output held back: wait for more
                return memoryview(b"")
        if self._inflated != self._declared:
            raise PackLimitError(f"object {self.index} inflates to less than its header declares")
        if self._delta is not None:
            self._delta.finish()
            self._count_total(self._delta.sizes[1])
        self._zlib, self._delta = None, None
        self.index += 1
        return memoryview(z.unused_data)

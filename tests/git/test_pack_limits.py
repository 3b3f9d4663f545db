"""PackScanner on packs no git client writes: lying headers and delta bombs, refused in bounded memory."""

from __future__ import annotations

import hashlib
import struct
import tracemalloc
import zlib

import pytest

from grader_service.git.pack_limits import PackLimitError, PackScanner

MiB = 1 << 20


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _entry_head(kind: int, size: int) -> bytes:
    n = size >> 4
    head = bytearray([(0x80 if n else 0) | (kind << 4) | (size & 0x0F)])
    while n:
        byte, n = n & 0x7F, n >> 7
        head.append(byte | (0x80 if n else 0))
    return bytes(head)


def _pack(*entries: bytes) -> bytes:
    pack = b"PACK" + struct.pack(">LL", 2, len(entries)) + b"".join(entries)
    return pack + hashlib.sha1(pack).digest()


def _scan(pack: bytes, piece: int = 65536, **limits: int) -> PackScanner:
    scanner = PackScanner(
        limits.get("max_object", 16 * MiB), limits.get("max_total", 64 * MiB), limits.get("max_objects", 1000)
    )
    for i in range(0, len(pack), piece):
        scanner.feed(pack[i : i + piece])
    return scanner


def test_honest_objects_pass_in_any_piece_size() -> None:
    blob = b"hello\n" * 1000
    delta = (
        _varint(len(blob))
        + _varint(len(blob) + 3)
        + bytes([0x80 | 0x10 | 0x20])
        + struct.pack("<H", len(blob))
    )
    delta += bytes([3]) + b"end"
    pack = _pack(
        _entry_head(3, len(blob)) + zlib.compress(blob),
        _entry_head(7, len(delta)) + b"\x11" * 20 + zlib.compress(delta),
    )
    for piece in (1, 7, 4096, len(pack)):
        scanner = _scan(pack, piece)
        assert scanner.done and scanner.total == 2 * len(blob) + 3


def test_header_lying_about_the_size_is_refused_in_small_memory() -> None:
    # declares 100 bytes, inflates to 256 MiB: stopped after the first 64 KiB piece
    data = zlib.compressobj(9)
    body = b"".join(data.compress(bytes(16 * MiB)) for _ in range(16)) + data.flush()
    pack = _pack(_entry_head(3, 100) + body)
    tracemalloc.start()
    try:
        with pytest.raises(PackLimitError, match="inflates to more than the 100 bytes its header declares"):
            _scan(pack)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB, f"scanning took {peak / MiB:.1f} MiB"


def test_declared_size_over_the_limit_is_refused_before_inflating() -> None:
    pack = _pack(_entry_head(3, 1536 * MiB) + b"\x78\x9c")
    with pytest.raises(PackLimitError, match="1536.0 MiB inflated, over the limit of 16.0 MiB"):
        _scan(pack)


def test_delta_building_more_than_it_declares_is_refused() -> None:
    # 1,000 copies of 64 KiB from a 16 MiB base, in a delta that declares a 1 KiB result
    ops = bytes([0x80 | 0x40]) + b"\x01"  # copy: only the third size byte, 0x01 -> 64 KiB
    delta = _varint(16 * MiB) + _varint(1024) + ops * 1000
    pack = _pack(_entry_head(7, len(delta)) + b"\x11" * 20 + zlib.compress(delta))
    with pytest.raises(PackLimitError, match="builds more than the size it declares"):
        _scan(pack)


def test_delta_declaring_a_huge_result_is_refused() -> None:
    delta = _varint(10) + _varint(1536 * MiB) + bytes([0x80 | 0x10]) + b"\x0a"
    pack = _pack(_entry_head(7, len(delta)) + b"\x11" * 20 + zlib.compress(delta))
    with pytest.raises(PackLimitError, match="a delta building 1536.0 MiB"):
        _scan(pack)


def test_total_and_count_limits() -> None:
    blob = bytes(MiB)
    pack = _pack(*[_entry_head(3, len(blob)) + zlib.compress(blob) for _ in range(5)])
    with pytest.raises(PackLimitError, match="the limit for one push"):
        _scan(pack, max_total=4 * MiB)
    with pytest.raises(PackLimitError, match="5 objects, more than the limit of 4"):
        _scan(pack, max_objects=4)


def test_not_a_pack_and_corrupt_data() -> None:
    with pytest.raises(PackLimitError, match="not a git pack"):
        _scan(b"GARBAGE-GARBAGE-")
    with pytest.raises(PackLimitError, match="corrupt compressed data"):
        _scan(_pack(_entry_head(3, 10) + b"\x00\x01\x02\x03\x04\x05"))

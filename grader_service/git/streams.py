"""Bridges between the IO loop and a worker thread: a bounded request-body pipe and a response channel."""

from __future__ import annotations

import asyncio
import threading
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any


class BadRequestBody(Exception):
    """The request body could not be decoded (e.g. corrupt or truncated gzip); answered with 400."""


class ClientGone(Exception):
    """The HTTP client disconnected or the request was aborted while the worker thread was using it."""


class BodyPipe:
    """Request body chunks from the IO loop to a worker thread, with back-pressure.

    ``feed`` (loop side) returns an awaitable that resolves once the reader has drained the buffer below
    ``low_water``, so Tornado stops reading from the socket while the worker is behind and memory stays
    bounded by roughly ``high_water`` per request.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, high_water: int = 4 << 20, low_water: int = 1 << 20
    ) -> None:
        self._loop = loop
        self._high = high_water
        self._low = low_water
        self._chunks: deque[memoryview] = deque()
        self._buffered = 0
        self._eof = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._drained: asyncio.Future[None] | None = None
        self.bytes_in = 0

    # -- loop side ---------------------------------------------------------------

    def feed(self, chunk: bytes) -> Awaitable[None] | None:
        """Queue a body chunk; returns a future to await when the buffer is over the high-water mark."""
        with self._cond:
            self._chunks.append(memoryview(chunk))
            self._buffered += len(chunk)
            self.bytes_in += len(chunk)
            self._cond.notify()
            if self._buffered < self._high:
                return None
            self._drained = self._loop.create_future()
            return self._drained

    def close(self, error: BaseException | None = None) -> None:
        """Mark the end of the body (or abort the reader with ``error``)."""
        with self._cond:
            self._eof = True
            if error is not None and self._error is None:
                self._error = error
            self._cond.notify_all()
            self._release_feeder()

    def _release_feeder(self) -> None:
        waiter, self._drained = self._drained, None
        if waiter is not None:

            def release() -> None:
                if not waiter.done():
                    waiter.set_result(None)

            self._loop.call_soon_threadsafe(release)

    # -- thread side ---------------------------------------------------------------

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes (blocking until at least one is there); b"" at the end of the body."""
        with self._cond:
            while not self._chunks and not self._eof and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise ClientGone(str(self._error)) from self._error
            if not self._chunks:
                return b""
            head = self._chunks[0]
            if len(head) <= size:
                self._chunks.popleft()
                out = head
            else:
                out, self._chunks[0] = head[:size], head[size:]
            self._buffered -= len(out)
            if self._drained is not None and self._buffered <= self._low:
                self._release_feeder()
            return bytes(out)


class GunzipReader:
    """Wraps a ``recv`` function whose bytes are gzip-compressed; yields the inflated stream."""

    def __init__(self, recv: Callable[[int], bytes]) -> None:
        self._recv = recv
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._done = False

    def recv(self, size: int) -> bytes:
        """Up to ``size`` inflated bytes; b"" at the end. Raises BadRequestBody on corrupt gzip data."""
        while True:
            if self._pending:
                out, self._pending = self._pending[:size], self._pending[size:]
                return out
            if self._done:
                return b""
            data = self._inflate.unconsumed_tail or self._recv(65536)
            if not data:
                if not self._inflate.eof:
                    raise BadRequestBody("gzip request body is truncated")
                self._done = True
                continue
            try:
                self._pending = self._inflate.decompress(data, max(size, 65536))
            except zlib.error as exc:
                raise BadRequestBody(f"gzip request body is corrupt: {exc}") from exc
            if self._inflate.eof:
                self._done = True


class ResponseChannel:
    """Collects output written by the worker thread and hands it to the IO loop in batches.

    ``send`` is a coroutine function run on the loop that writes and flushes one batch; the worker thread
    blocks until it completes, which gives back-pressure from the client's socket.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        send: Callable[[bytes], Coroutine[Any, Any, None]],
        batch: int = 256 * 1024,
    ) -> None:
        self._loop = loop
        self._send = send
        self._batch = batch
        self._buf = bytearray()
        self.started = False
        self.aborted = False

    def write(self, data: bytes) -> int:
        """Thread side: buffer ``data``; ships a batch to the loop once ``batch`` bytes are waiting."""
        self._buf += data
        if len(self._buf) >= self._batch:
            self.flush()
        return len(data)

    def flush(self) -> None:
        """Thread side: ship what is buffered and wait until the loop has written it to the socket."""
        if not self._buf or self.aborted:
            if self.aborted:
                raise ClientGone("the client went away")
            return
        data = bytes(self._buf)
        self._buf.clear()
        self.started = True
        try:
            asyncio.run_coroutine_threadsafe(self._send(data), self._loop).result()
        except Exception as exc:
            self.aborted = True
            raise ClientGone(f"could not write to the client: {exc}") from exc

    def take_rest(self) -> bytes:
        """Loop side, after the worker finished: whatever is still buffered."""
        data = bytes(self._buf)
        self._buf.clear()
        return data

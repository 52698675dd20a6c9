"""Judging beside the traffic: the forwarding side hands each exchange over as events (begin,
head, chunks, end) on a queue, never waiting; one thread judges them in order, streams frame by
frame as their chunks arrive. Whatever goes wrong here is a line in the log and an exchange not
judged, never a change to what the client receives.
"""

from __future__ import annotations

import queue
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import httpx

from assistants_conformance.proxy.har import HarWriter, wall_clock
from assistants_conformance.target import EXCERPT
from assistants_conformance.terminal import printable
from assistants_conformance.traffic import Seen, Traffic
from assistants_conformance.validate.transcript import StreamJudge

MAX_BODY = 8 << 20  # of one answer, judged (the client gets all of it)
MAX_QUEUED = 64 << 20  # bytes waiting to be judged; past it, new exchanges pass unjudged
HEAD, TAIL = EXCERPT // 4, EXCERPT - EXCERPT // 4


@dataclass
class _Pending:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    began: float
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    stream: StreamJudge | None = None
    whole: bytearray | None = None  # the body, when it is kept whole (JSON, or every body for a HAR)
    head: bytearray = field(default_factory=bytearray)
    tail: deque[bytes] = field(default_factory=deque)
    tail_size: int = 0
    size: int = 0
    decoder: Any = None
    over: bool = False  # past MAX_BODY: the rest is counted, not kept or judged


class Judge:
    """The one thread that judges what the proxy forwards, in the order each exchange ends."""

    def __init__(
        self,
        traffic: Traffic,
        *,
        har: HarWriter | None = None,
        log: Callable[[str], None] = lambda line: None,
        max_body: int = MAX_BODY,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.traffic = traffic
        self.har = har
        self.log = log
        self.max_body = max_body
        self.max_queued = max_queued
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._queued = 0
        self._count_lock = threading.Lock()
        self._dropped: set[int] = set()
        self._pending: dict[int, _Pending] = {}
        self._began = time.monotonic()
        self.failures = 0
        self._thread = threading.Thread(target=self._loop, name="proxy-judge", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- the forwarding side (never waits)
    def begin(self, xid: int, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        self._put(("begin", xid, method, url, headers, body, time.monotonic()), len(body))

    def head(self, xid: int, status: int, headers: httpx.Headers) -> None:
        self._put(("head", xid, status, headers), 0)

    def chunk(self, xid: int, data: bytes) -> None:
        self._put(("chunk", xid, data), len(data))

    def end(self, xid: int, cut: str | None = None, abandoned: bool = False) -> None:
        self._put(("end", xid, cut, abandoned, time.monotonic()), 0)

    def fail(self, xid: int, error: str) -> None:
        self._put(("fail", xid, error, time.monotonic()), 0)

    def _put(self, event: tuple[Any, ...], size: int) -> None:
        xid = event[1]
        if xid in self._dropped:
            if event[0] in ("end", "fail"):
                self._queue.put(("drop", xid))
                self._dropped.discard(xid)
            return
        with self._count_lock:
            if self._queued + size > self.max_queued:
                self._dropped.add(xid)
                full = True
            else:
                self._queued += size
                full = False
        if full:
            self.log(f"judging fell behind ({self.max_queued >> 20} MiB waiting): exchange {xid} passes unjudged")
            if event[0] in ("end", "fail"):
                self._queue.put(("drop", xid))
                self._dropped.discard(xid)
            return
        self._queue.put(event)

    # ---------------------------------------------------------------- anywhere
    def call(self, work: Callable[[], Any]) -> Future[Any]:
        """Run `work` in the judging thread, between exchanges (a report of the session so far)."""
        done: Future[Any] = Future()
        self._queue.put(("call", 0, work, done))
        return done

    def close(self, timeout: float = 30.0) -> bool:
        """Judge what is queued, then stop; False when that did not finish within `timeout`."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self.har is not None:
            self.har.close()
        return not self._thread.is_alive()

    # ---------------------------------------------------------------- the judging thread
    def _loop(self) -> None:
        while (event := self._queue.get()) is not None:
            kind, xid = event[0], event[1]
            try:
                if kind == "call":
                    self._call(event[2], event[3])
                elif kind == "begin":
                    self._pending[xid] = _Pending(event[2], event[3], event[4], event[5], event[6])
                elif kind == "drop":
                    self._pending.pop(xid, None)
                    self.traffic.unjudged += 1
                elif xid in self._pending:
                    getattr(self, f"_{kind}")(xid, *event[2:])
            except _NotJudged as why:
                self.traffic.unjudged += 1
                self._pending.pop(xid, None)
                self.log(printable(f"exchange {xid} passes unjudged: {why}"))
            except Exception as exc:  # a fault of ours: said, counted, and never the client's concern
                self.failures += 1
                self.traffic.unjudged += 1
                self._pending.pop(xid, None)
                self.log(printable(f"judging exchange {xid} failed: {exc.__class__.__name__}: {exc}"[:300]))
            finally:
                size = len(event[5]) if kind == "begin" else len(event[2]) if kind == "chunk" else 0
                if size:
                    with self._count_lock:
                        self._queued -= size

    @staticmethod
    def _call(work: Callable[[], Any], done: Future[Any]) -> None:
        try:
            done.set_result(work())
        except Exception as exc:
            done.set_exception(exc)

    def _head(self, xid: int, status: int, headers: httpx.Headers) -> None:
        pending = self._pending[xid]
        pending.status, pending.headers = status, headers
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            pending.decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            pending.decoder = _Deflate()
        elif encoding not in ("", "identity"):
            raise _NotJudged(f"the answer is compressed with {encoding!r}, which the proxy does not read")
        if headers.get("content-type", "").startswith("text/event-stream"):
            route = self.traffic.router.match(pending.method, pending.url)
            operation = route.operation.operation_id if route else None
            pending.stream = StreamJudge(operation=operation, keep_snapshots=True)
        if pending.stream is None or self.har is not None:
            pending.whole = bytearray()

    def _chunk(self, xid: int, data: bytes) -> None:
        pending = self._pending[xid]
        if pending.decoder is not None:
            data = pending.decoder.decompress(data, max(1, self.max_body + 1 - pending.size))
        if pending.over:
            pending.size += len(data)
            return
        pending.size += len(data)
        if pending.size > self.max_body:
            pending.over = True
            data = data[: len(data) - (pending.size - self.max_body)]
        if pending.stream is not None:
            pending.stream.feed(data)
            if len(pending.head) < HEAD:
                pending.head += data[: HEAD - len(pending.head)]
            pending.tail.append(data)
            pending.tail_size += len(data)
            while pending.tail and pending.tail_size - len(pending.tail[0]) >= TAIL:
                pending.tail_size -= len(pending.tail.popleft())
        if pending.whole is not None:
            pending.whole += data

    def _end(self, xid: int, cut: str | None, abandoned: bool, ended: float) -> None:
        pending = self._pending.pop(xid)
        if cut is not None:
            self.log(f"{pending.method} {self.traffic.scrub(pending.url)}: the answer broke off ({cut}); passed on cut")
        if pending.over and cut is None:
            cut = f"the answer exceeded {self.max_body:,} bytes, the most this tool reads of one answer"
        report = None
        if pending.stream is not None:
            report = pending.stream.finish(None if abandoned else cut)
            body = (
                bytes(pending.head) + b"".join(pending.tail)[-TAIL:] if pending.whole is None else bytes(pending.whole)
            )
        else:
            body = bytes(pending.whole or b"")
        self._judge(pending, body, cut, report, abandoned, ended, None)

    def _fail(self, xid: int, error: str, ended: float) -> None:
        self._judge(self._pending.pop(xid), b"", None, None, False, ended, error)

    def _judge(
        self,
        pending: _Pending,
        body: bytes,
        cut: str | None,
        report: Any,
        abandoned: bool,
        ended: float,
        error: str | None,
    ) -> None:
        seen = Seen(
            pending.method,
            pending.url,
            pending.request_headers,
            pending.request_body,
            pending.status,
            pending.headers,
            body,
            pending.size,
            pending.began,
            ended,
            cut,
            report,
            error,
            abandoned,
        )
        self.traffic.judge(seen)
        if self.har is not None and self.traffic.router.match(pending.method, pending.url) is not None:
            self.har.write(
                started=wall_clock(pending.began, time.monotonic()),
                method=pending.method,
                url=pending.url,
                request_headers=self.traffic.redacted(pending.request_headers),
                request_body=pending.request_body,
                status=pending.status,
                response_headers=self.traffic.redacted(pending.headers),
                body=body,
                elapsed_s=ended - pending.began,
                cut=cut or error,
                scrub=self.traffic.scrub,
            )


class _NotJudged(Exception):
    """An answer this proxy passes on but cannot read."""


class _Deflate:
    """`deflate` as servers send it: zlib-wrapped, or (by an old mistake of many) raw."""

    def __init__(self) -> None:
        self._inner: Any = None
        self._first = b""

    def decompress(self, data: bytes, limit: int) -> bytes:
        if self._inner is None:
            self._first += data
            try:
                inner = zlib.decompressobj()
                out = inner.decompress(self._first, limit)
            except zlib.error:
                inner = zlib.decompressobj(-zlib.MAX_WBITS)
                out = inner.decompress(self._first, limit)
            self._inner = inner
            return bytes(out)
        return bytes(self._inner.decompress(data, limit))

"""Deadlines the socket keeps: every connect, write and read of a request gets what is left of the
request's whole deadline, so a server that sends its status line one byte every two seconds, or
`100 Continue` forever, is cut off when the deadline passes, not when it stops sending. httpx's
own timeouts are per operation (each read may take the whole timeout again).

Reads wait in short slices, so a run being interrupted (a signal) is noticed within a fraction
of a second, whatever the server does.

The deadline is per thread (each worker sends its own requests); `Target` sets it around each
request, and installs `Backend` as the network backend of its connection pool.
"""

from __future__ import annotations

import contextlib
import threading
import time
import typing
from collections.abc import Callable, Iterable, Iterator

import httpcore

SLICE = 0.25  # seconds a read waits before it looks at the deadline and the interrupt again
_local = threading.local()


class Interrupted(httpcore.ReadError):
    """The run was interrupted while this request waited for the server."""


@contextlib.contextmanager
def bounded(at: float, cancelled: Callable[[], bool] = lambda: False) -> Iterator[None]:
    """Within the block, this thread's network operations end by `at` (a monotonic time), and
    give up as soon as `cancelled()` is true."""
    previous = getattr(_local, "bound", None)
    _local.bound = (at, cancelled)
    try:
        yield
    finally:
        _local.bound = previous


def _left(timeout: float | None, late: type[Exception]) -> float | None:
    bound = getattr(_local, "bound", None)
    if bound is None:
        return timeout
    at, cancelled = typing.cast(tuple[float, Callable[[], bool]], bound)
    if cancelled():
        raise Interrupted("the run was interrupted")
    left = at - time.monotonic()
    if left <= 0:
        raise late("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while True:
            left = _left(timeout, httpcore.ReadTimeout)
            wait = SLICE if left is None else min(left, SLICE)
            try:
                return self._inner.read(max_bytes, wait)
            except httpcore.ReadTimeout:
                if left is not None and wait >= left:
                    raise  # the whole deadline (or the read timeout) is spent

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: typing.Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class Backend(httpcore.NetworkBackend):
    """httpcore's own synchronous backend, with every operation bounded by the thread's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[typing.Any] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _left(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(transport: typing.Any) -> None:
    """Put `Backend` under an httpx transport's connection pool (plain, HTTP proxy or SOCKS)."""
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        raise TypeError(f"cannot bound the deadlines of {type(transport).__name__}")
    pool._network_backend = Backend(pool._network_backend)

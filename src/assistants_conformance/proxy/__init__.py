"""A live validating proxy: a real client's traffic to an Assistants server, forwarded unchanged
and judged beside it by the same checks a run uses (forward.py, judge.py, traffic.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import uvicorn

from assistants_conformance.listening import bind
from assistants_conformance.proxy.forward import Forward, QuietCuts
from assistants_conformance.proxy.har import HarWriter
from assistants_conformance.proxy.judge import Judge
from assistants_conformance.results import RunResult
from assistants_conformance.target import BaseURL
from assistants_conformance.terminal import printable
from assistants_conformance.traffic import Traffic

__all__ = ["Proxy", "bind", "running_proxy"]


@dataclass
class Proxy:
    """One proxy session: where it listens, what it forwards to, what it has judged."""

    upstream: BaseURL
    traffic: Traffic
    judge: Judge
    app: Forward
    server: uvicorn.Server
    sock: socket.socket
    thread: threading.Thread | None = None
    _final: RunResult | None = None

    @classmethod
    def make(
        cls,
        upstream: BaseURL,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        har: Path | None = None,
        timeout: float = 120.0,
        verify: ssl.SSLContext | bool = True,
        outbound_proxy: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> Proxy:
        sock = bind(host, port)
        traffic = Traffic(secrets=upstream.secrets)
        judge = Judge(traffic, har=HarWriter(har) if har is not None else None, log=log or _stderr)
        app = Forward(upstream, judge, timeout=timeout, verify=verify, proxy=outbound_proxy)
        config = uvicorn.Config(
            app,
            http="auto",  # httptools when installed: it passes a stream's chunks on about twice as fast as h11
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=30,
            server_header=False,  # the upstream's own Server and Date go to the client, not ours
            date_header=False,
        )
        logging.getLogger("uvicorn.error").addFilter(QuietCuts())
        return cls(upstream, traffic, judge, app, uvicorn.Server(config), sock)

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def serve(self) -> None:
        """Serve until should_exit (this thread's loop)."""
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(self.server.serve(sockets=[self.sock]))

    def report(self, timeout: float = 60.0) -> RunResult:
        """The session so far, built in the judging thread between exchanges."""
        try:
            result: RunResult = self.judge.call(lambda: self.traffic.result(self.upstream.root)).result(timeout)
        except FutureTimeout:
            raise RuntimeError(f"the report was not ready within {timeout:g} s (judging is behind)") from None
        return result

    def stop(self) -> RunResult:
        """Stop serving (answers in flight finish first, for a moment), judge what is queued, and
        the final report; again, the same report."""
        self.server.should_exit = True
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=10)
        return self.finish()

    def finish(self) -> RunResult:
        """Once serving has ended: judge what is queued, close, and the final report."""
        if self._final is None:
            if not self.judge.close():
                self.judge.log("judging did not finish within 30 s: the report holds what was judged")
            self.sock.close()
            self._final = self.traffic.result(self.upstream.root)
        return self._final


def _stderr(line: str) -> None:
    print(f"proxy: {printable(line)}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def running_proxy(
    upstream: str | BaseURL, *, har: Path | None = None, log: Callable[[str], None] | None = None
) -> Iterator[Proxy]:
    """A proxy in a background thread, in front of `upstream`, until the block ends (tests, the
    pytest plugin's fixture); `proxy.stop()` gives the final report."""
    base = upstream if isinstance(upstream, BaseURL) else BaseURL.parse(upstream)
    proxy = Proxy.make(base, har=har, log=log)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            proxy.serve()
        except BaseException as exc:  # surfaced to the caller below
            failure.append(exc)

    thread = proxy.thread = threading.Thread(target=serve, name="assistants-proxy", daemon=True)
    thread.start()
    for _ in range(500):
        if proxy.server.started or failure or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    if not proxy.server.started:
        proxy.server.should_exit = True
        raise RuntimeError(f"the proxy did not start: {failure[0] if failure else 'timeout'}")
    try:
        yield proxy
    finally:
        proxy.stop()


def write_log(out: TextIO) -> Callable[[str], None]:
    def log(line: str) -> None:
        print(f"proxy: {printable(line)}", file=out, flush=True)

    return log


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (it forwards a stream's chunks about twice as
    fast as asyncio's own); asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop

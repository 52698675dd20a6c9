"""Running the reference server on a real loopback socket, in a background thread.

Used by the test-suite, the benchmarks and `run --reference`: a real socket matters because
streams must be delivered incrementally, which in-process ASGI transports do not do.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from assistants_conformance.listening import bind
from assistants_conformance.reference.app import PREFIX, create_app

DEFAULT_KEY = "sk-reference-local"


def server_config(app: ASGIApp) -> uvicorn.Config:
    # h11 always: the server's answers to odd requests (tested, fuzzed) must not change because
    # httptools happens to be installed (the proxy uses it, when it is, for speed).
    return uvicorn.Config(
        app,
        http="h11",
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
    )


@dataclass(frozen=True, slots=True)
class RunningServer:
    base_url: str  # ends in /v1
    api_key: str
    root: str  # scheme://host:port


@contextlib.contextmanager
def running_server(
    *, api_key: str = DEFAULT_KEY, db: Path | None = None, pace: float = 0.0, app: ASGIApp | None = None
) -> Iterator[RunningServer]:
    """Serve the reference app (or `app`) on a free loopback port until the block ends."""
    sock = bind()
    port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(app or create_app(api_key=api_key, db=db, pace=pace)))
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # surfaced to the caller below
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"reference-server-{port}", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started or failure or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    if not server.started:
        server.should_exit = True
        raise RuntimeError(f"the reference server did not start: {failure[0] if failure else 'timeout'}")
    root = f"http://127.0.0.1:{port}"
    try:
        yield RunningServer(base_url=root + PREFIX, api_key=api_key, root=root)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

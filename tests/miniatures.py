"""Miniature servers shaped like the real ones the suite meets (bowtie style): each is the
reference server behind one small wrapper that is wrong, or merely different, in exactly one way,
and is so for every request of its kind, never only for the values the suite sends.

The transport-level ones (a connection closed after a 5xx, a single-threaded HTTP/1.1 server) are
real sockets in front of the reference server; the others wrap its ASGI app.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.server
import itertools
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.hostile import serve

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


# ----------------------------------------------------------------------------- transport
@contextlib.contextmanager
def closes_after_5xx(upstream: str) -> Iterator[str]:
    """A keep-alive HTTP/1.1 front that, like some servers' error paths, drops the connection after
    a 5xx without saying `Connection: close`, and does so as the client reuses it: the next request
    on that kept-alive connection is read and then meets a closed socket, before any byte of an
    answer (the race a client meets when a server closes an idle connection as it is reused)."""
    client = httpx.AsyncClient(timeout=30)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        doomed = False
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if doomed:
                writer.transport.abort()
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip()] = value.strip()
            length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0") or 0)
            body = await reader.readexactly(length) if length else b""
            sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
            answer = await client.request(method, upstream + target, headers=sent, content=body or None)
            out = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            head_out = f"HTTP/1.1 {answer.status_code} {answer.reason_phrase}\r\n"
            head_out += "".join(f"{k}: {v}\r\n" for k, v in out.items())
            head_out += f"content-length: {len(answer.content)}\r\n\r\n"
            writer.write(head_out.encode("latin-1") + answer.content)
            await writer.drain()
            doomed = answer.status_code >= 500

    with serve(handler) as url:
        yield url


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection is served until the client closes it
    upstream = ""
    client: httpx.Client
    connections = itertools.count()

    def setup(self) -> None:
        next(self.connections)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        sent = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        answer = self.client.request(self.command, self.upstream + self.path, headers=sent, content=body)
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _forward


@contextlib.contextmanager
def single_threaded(upstream: str, *, threaded: bool = False) -> Iterator[tuple[str, Any]]:
    """An HTTP/1.1 server that serves one connection at a time (http.server without threads),
    as small self-hosted servers do: a client holding a second connection waits until the first
    closes. Yields the URL and the handler class (its `connections` counter). `threaded` gives the
    same handler one thread per connection: the baseline it is measured against."""
    handler = type("Forward", (_Forward,), {"upstream": upstream, "client": httpx.Client(timeout=30)})
    handler.connections = itertools.count()
    kind = http.server.ThreadingHTTPServer if threaded else http.server.HTTPServer
    server = kind(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------- ASGI wrappers
def mounted_at(prefix: str, app: ASGIApp) -> ASGIApp:
    """The API served under `prefix` instead of /v1 (a gateway's own path); elsewhere a plain 404."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if not (path == prefix or path.startswith(prefix + "/")):
                await send(
                    {"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"Not Found"})
                return
            inner = "/v1" + path[len(prefix) :]
            scope = {**scope, "path": inner, "raw_path": inner.encode()}
        await app(scope, receive, send)

    return wrapped


def gateway(
    app: ASGIApp, *, key: str, header: str, query: dict[str, str], basic: tuple[str, str] | None = None
) -> ASGIApp:
    """An Azure-style gateway: the key comes as `header: KEY` (a bearer token is refused) and every
    request must carry the `query` parameters; both are stripped before the API sees the request.
    With `basic`, a proxy in front also wants those Basic credentials (from the URL's userinfo)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            missing = [f"{k}={v}" for k, v in query.items() if params.get(k) != v]
            if missing:
                await _error(send, 404, f"Resource not found: the gateway needs {', '.join(missing)}")
                return
            if basic is not None:
                wanted = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
                if headers.pop("authorization", None) != wanted:
                    await _error(send, 401, "the proxy wants its Basic credentials")
                    return
            if "authorization" in headers:
                await _error(send, 401, "this gateway takes the key in its own header, not as a bearer token")
                return
            dropped = {header.lower(), "authorization"}
            rest = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in dropped]
            if header.lower() in headers:
                given = headers[header.lower()]
                rest.append((b"authorization", f"Bearer {given if given == key else 'wrong'}".encode()))
            kept = "&".join(f"{k}={v}" for k, v in params.items() if k not in query)
            scope = {**scope, "headers": rest, "query_string": kept.encode()}
        await app(scope, receive, send)

    return wrapped


async def _error(send: Send, status: int, message: str) -> None:
    import json

    body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}})
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})

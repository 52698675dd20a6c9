"""The forwarding half of the proxy: an ASGI app that sends each request on to the upstream as
it came (method, path below the upstream's base, query, headers, body bytes) and the answer back
as it comes, chunk by chunk: a client's first event arrives when the upstream sends it. A cut
upstream answer reaches the client cut. Judging happens beside it (judge.py), never in its way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import ssl
from collections.abc import Iterable

import httpx
from starlette.types import Message, Receive, Scope, Send

from assistants_conformance.proxy.judge import Judge
from assistants_conformance.target import BaseURL

# Headers of one connection, not of the message (RFC 9110 7.6.1): never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
MAX_REQUEST = 64 << 20  # a request body the proxy holds to send on (Assistants bodies are far smaller)


def _passed_on(headers: Iterable[tuple[bytes, bytes]], *, request: bool) -> list[tuple[bytes, bytes]]:
    """The end-to-end headers: less the hop-by-hop ones and those `Connection` names, and for a
    request less Host and Content-Length (the HTTP client sets them for the upstream)."""
    pairs = list(headers)
    named = {
        token.strip().lower().encode()
        for name, value in pairs
        if name.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    dropped = {name.encode() for name in HOP_BY_HOP} | named | ({b"host", b"content-length"} if request else set())
    return [(name, value) for name, value in pairs if name.lower() not in dropped]


class Forward:
    """The ASGI app. One httpx client, made on startup in the server's loop, keeps connections
    to the upstream alive between requests."""

    def __init__(
        self,
        upstream: BaseURL,
        judge: Judge,
        *,
        timeout: float = 120.0,
        verify: ssl.SSLContext | bool = True,
        proxy: str | None = None,
    ) -> None:
        self.upstream = upstream
        self.judge = judge
        self.timeout = timeout
        self.verify = verify
        self.proxy = proxy
        self.client: httpx.AsyncClient | None = None
        self._ids = itertools.count()

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            # No redirects followed (a 3xx goes back to the client as it came), no environment
            # read; the deadline is per read: a stream may pause between events as long as this.
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                follow_redirects=False,
                trust_env=False,
                verify=self.verify,
                proxy=self.proxy,
                auth=httpx.BasicAuth(*self.upstream.userinfo) if self.upstream.userinfo else None,
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            )
            for name in ("accept", "accept-encoding", "user-agent", "connection"):
                client.headers.pop(name, None)  # only what the client sent goes on
            self.client = client
        return self.client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_REQUEST:
                await _own_answer(
                    send, 413, f"the request body is over {MAX_REQUEST >> 20} MiB, more than this proxy holds"
                )
                return
            if not message.get("more_body"):
                break
        await self._forward(scope, bytes(body), receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        xid = next(self._ids)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        url = self.upstream.root + raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
        headers = _passed_on(scope["headers"], request=True)
        self.judge.begin(
            xid, scope["method"], url, {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}, body
        )
        client = self._client()
        try:
            request = client.build_request(scope["method"], url, headers=headers, content=body or None)
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            error = f"{exc.__class__.__name__}: {exc or 'no detail'}"
            self.judge.fail(xid, error)
            await _own_answer(send, 502, f"the upstream did not answer ({error})")
            return
        gone = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, gone))
        cut: str | None = None
        try:
            self.judge.head(xid, response.status_code, response.headers)
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": _passed_on(response.headers.raw, request=False),
                }
            )
            try:
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    self.judge.chunk(xid, chunk)
                    if gone.is_set():
                        break
            except httpx.HTTPError as exc:
                cut = f"{exc.__class__.__name__}: {exc or 'the upstream connection broke'}"
            if gone.is_set():
                self.judge.end(xid, abandoned=True)
                return
            self.judge.end(xid, cut)
            if cut is None:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            # A cut answer is left incomplete: the server closes the client's connection, and the
            # client meets the same broken answer the upstream sent.
        finally:
            watcher.cancel()
            with contextlib.suppress(Exception):
                await response.aclose()


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


async def _own_answer(send: Send, status: int, message: str) -> None:
    """The proxy's own answer, in the contract's error envelope, saying it is the proxy's."""
    body = json.dumps(
        {
            "error": {
                "message": f"assistants-conformance proxy: {message}",
                "type": "proxy_error",
                "param": None,
                "code": None,
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class QuietCuts(logging.Filter):
    """uvicorn says "ASGI callable returned without completing response" when a cut answer is
    left cut on purpose: the proxy's log says what happened instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()

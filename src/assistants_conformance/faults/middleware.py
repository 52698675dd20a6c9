"""The ASGI middleware that puts one defect in front of the reference app.

A fault may rewrite the request before the app sees it, answer in the app's place, or rewrite
the (buffered) response. Small and explicit, so each test names exactly what it breaks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _JsonBody:
    """A fault reads bodies leniently: a body that is not JSON is simply not rewritten."""

    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Req(_JsonBody):
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Res(_JsonBody):
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Fault:
    """`before(req)` may change req or return a Res to answer directly; `after(req, res)` may change res."""

    name: str
    before: Callable[[Req], Res | None] | None = None
    after: Callable[[Req, Res], None] | None = None
    state: dict[str, Any] = field(default_factory=dict)


def answer(status: int, body: Any) -> Res:
    return Res(status, {"content-type": "application/json"}, json.dumps(body).encode())


def error(status: int, message: str, param: str | None = None) -> Res:
    return answer(
        status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}
    )


def set_json(res: Res, value: Any) -> None:
    res.body = json.dumps(value).encode()


def set_json_body(req: Req, value: Any) -> None:
    req.body = json.dumps(value).encode()


class FaultyApp:
    def __init__(self, app: ASGIApp, fault: Fault) -> None:
        self.app = app
        self.fault = fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        # ASGI header and query bytes are Latin-1: decoding them as UTF-8 would turn a client's odd
        # byte into a 500 from the middleware, a defect the fault did not name.
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        req = Req(scope["method"], scope["path"], dict(query), headers, b"".join(chunks))
        res = self.fault.before(req) if self.fault.before else None
        if res is None:
            res = await self._call_app(scope, req, untouched=req.query == query)
        if self.fault.after:
            self.fault.after(req, res)
        res.headers["content-length"] = str(len(res.body))
        await send(
            {
                "type": "http.response.start",
                "status": res.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in res.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": res.body})

    async def _call_app(self, scope: Scope, req: Req, *, untouched: bool) -> Res:
        """Pass the request on; the query string goes through byte for byte unless the fault changed
        it (re-encoding would drop repeated keys and alter what the server sees: no defect of its own)."""
        inner = dict(scope)
        if not untouched:
            inner["query_string"] = urlencode(req.query).encode()
        inner["headers"] = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in req.headers.items() if k != "content-length"
        ]
        inner["headers"].append((b"content-length", str(len(req.body)).encode()))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:  # the client stays connected: never report a disconnect (streams would stop)
                await asyncio.Event().wait()
            sent = True
            return {"type": "http.request", "body": req.body, "more_body": False}

        out = Res(500, {}, b"")
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                out.status = message["status"]
                out.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(inner, replay, capture)
        out.body = b"".join(parts)
        out.headers.pop("transfer-encoding", None)
        return out

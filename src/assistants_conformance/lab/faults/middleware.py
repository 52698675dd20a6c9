"""The ASGI middleware that puts one defect in front of the reference app.

A fault may rewrite the request before the app sees it, answer in the app's place, rewrite the
(buffered) response, or edit an event stream frame by frame as it goes out. An answer no part of
the fault is for goes out as the server sends it, a stream live: a client can act mid-stream (cancel
a run) as on a real server. Small and explicit, so each test names exactly what it breaks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode

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
    # Set by a fault: send this many bytes of the body, then drop the connection mid-answer.
    cut_after: int | None = None


class CutConnection(Exception):
    """Raised by a frame editor to drop the connection mid-stream, after sending `sent`: the
    server (uvicorn) then closes the socket with the answer unfinished, as a crashed worker does."""

    def __init__(self, sent: bytes = b"") -> None:
        super().__init__("the fault cut the connection")
        self.sent = sent


class _QuietCuts(logging.Filter):
    """The server and uvicorn log an error when an answer is abandoned; a cut the fault made is none
    (it passes through the wrapped app, whose own error handler sees it too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], CutConnection))


for _logger in ("uvicorn.error", "assistants_conformance.reference"):
    logging.getLogger(_logger).addFilter(_QuietCuts())


class FrameEditor(Protocol):
    """Edits one event stream as it goes out: `feed` gets each frame (its raw bytes, blank line
    included) and returns what to send in its place; `end` returns what to send last."""

    def feed(self, raw: bytes) -> bytes: ...

    def end(self) -> bytes: ...


@dataclass
class Fault:
    """`before(req)` may change req or return a Res to answer directly; `after(req, res)` may change res.
    `sees(req)`, when given, names the requests whose answers `after` is for (asked once `before`
    ran). `frames(req)` may return an editor for that request's event stream, which then goes out
    live, edited frame by frame, and never reaches `after`."""

    name: str
    before: Callable[[Req], Res | None] | None = None
    after: Callable[[Req, Res], None] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    sees: Callable[[Req], bool] | None = None
    frames: Callable[[Req], FrameEditor | None] | None = None


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
        watched = self.fault.after is not None and (self.fault.sees is None or self.fault.sees(req))
        if res is None:
            relay = _Relay(send, watched=watched, editor=lambda: self.fault.frames(req) if self.fault.frames else None)
            await self.app(self._inner(scope, req, untouched=req.query == query), _replay(req), relay.send)
            if relay.held is None:  # it went out as it came, or edited live
                return
            res = relay.held
        if watched and self.fault.after is not None:
            self.fault.after(req, res)
        res.headers["content-length"] = str(len(res.body))
        await send(
            {
                "type": "http.response.start",
                "status": res.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in res.headers.items()],
            }
        )
        if res.cut_after is not None and res.cut_after < len(res.body):
            await send({"type": "http.response.body", "body": res.body[: res.cut_after], "more_body": True})
            raise CutConnection()
        await send({"type": "http.response.body", "body": res.body})

    def _inner(self, scope: Scope, req: Req, *, untouched: bool) -> Scope:
        """The request as the fault left it, method and path included; the query string goes through
        byte for byte unless the fault changed it (re-encoding would drop repeated keys and alter
        what the server sees: no defect of its own)."""
        inner = dict(scope)
        if (req.method, req.path) != (scope["method"], scope["path"]):  # a fault sends another request
            inner.update(method=req.method, path=req.path, raw_path=quote(req.path, safe="/").encode("ascii"))
        if not untouched:
            inner["query_string"] = urlencode(req.query).encode()
        inner["headers"] = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in req.headers.items() if k != "content-length"
        ]
        inner["headers"].append((b"content-length", str(len(req.body)).encode()))
        return inner


class _Relay:
    """Between the app and the client, decided when the answer starts: held whole for `after`;
    an event stream edited frame by frame when the fault has an editor for it; else sent on as is."""

    def __init__(self, send: Send, *, watched: bool, editor: Callable[[], FrameEditor | None]) -> None:
        self._send = send
        self._watched = watched
        self._editor_for = editor
        self._editor: FrameEditor | None = None
        self._pending = b""
        self._parts: list[bytes] = []
        self.held: Res | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message["headers"]}
            if headers.get("content-type", "").startswith("text/event-stream"):
                self._editor = self._editor_for()
            if self._editor is None and self._watched:
                self.held = Res(message["status"], headers, b"")
                return
            if self._editor is not None:  # its length changes as it is edited
                message = {
                    **message,
                    "headers": [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"],
                }
            await self._send(message)
        elif message["type"] == "http.response.body":
            if self.held is not None:
                self._parts.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.held.body = b"".join(self._parts)
                    self.held.headers.pop("transfer-encoding", None)
                return
            if self._editor is not None:
                try:
                    edited = self._edit(message.get("body", b""), last=not message.get("more_body"))
                except CutConnection as cut:
                    await self._send({"type": "http.response.body", "body": cut.sent, "more_body": True})
                    raise
                message = {**message, "body": edited}
            await self._send(message)
        else:
            await self._send(message)

    def _edit(self, body: bytes, *, last: bool) -> bytes:
        assert self._editor is not None
        self._pending += body
        out = []
        while (cut := self._pending.find(b"\n\n")) >= 0:
            raw, self._pending = self._pending[: cut + 2], self._pending[cut + 2 :]
            try:
                out.append(self._editor.feed(raw))
            except CutConnection as dropped:  # what this chunk's earlier frames became goes out first
                raise CutConnection(b"".join(out) + dropped.sent) from None
        if last:
            if self._pending:  # a last frame without its blank line: the server's bytes, as sent
                out.append(self._editor.feed(self._pending))
                self._pending = b""
            out.append(self._editor.end())
        return b"".join(out)


def _replay(req: Req) -> Receive:
    """The body read once; the client then stays connected: never report a disconnect (streams
    would stop)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": req.body, "more_body": False}

    return replay

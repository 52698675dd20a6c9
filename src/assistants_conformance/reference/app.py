"""The ASGI application: routes built from the contract, auth, validation, error envelopes.

Routes are generated from the contract's operations (one per path, dispatching on method),
so the server serves exactly the operations the document declares, under `/v1`.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from assistants_conformance.contract import Contract, Operation, get_contract
from assistants_conformance.reference import objects
from assistants_conformance.reference.engine import RunEngine
from assistants_conformance.reference.errors import ApiError
from assistants_conformance.reference.handlers import HANDLERS, Api, Call, Stream
from assistants_conformance.reference.store import Store
from assistants_conformance.reference.validation import RequestValidator

PREFIX = "/v1"
# A client can ask the reference server to answer with a documented error status, so that
# clients (and our own tests) can exercise 429 and 5XX paths: `X-Reference-Simulate-Status: 429`.
SIMULATE_HEADER = "x-reference-simulate-status"
SIMULATED = {
    429: ApiError(
        429,
        "Rate limit reached (simulated by X-Reference-Simulate-Status).",
        type="requests",
        code="rate_limit_exceeded",
        headers={"Retry-After": "1"},
    ),
    500: ApiError(500, "The server had an error (simulated by X-Reference-Simulate-Status).", type="server_error"),
    503: ApiError(503, "The server is overloaded (simulated by X-Reference-Simulate-Status).", type="server_error"),
}
log = logging.getLogger("assistants_conformance.reference")


def _auth(request: Request, api_key: str) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "You didn't provide an API key. Provide it in the Authorization header as 'Bearer YOUR_KEY'.",
            param=None,
            code="missing_api_key",
        )
    if not hmac.compare_digest(token.strip().encode(), api_key.encode()):
        raise ApiError(401, "Incorrect API key provided.", param=None, code="invalid_api_key")


def _endpoint(ops: dict[str, Operation], api: Api, validator: RequestValidator, api_key: str) -> Any:
    allowed = ", ".join(sorted(ops))

    async def endpoint(request: Request) -> Response:
        op = ops.get(request.method)
        if op is None:
            raise ApiError(
                405, f"Method {request.method} is not allowed on {request.url.path}.", headers={"Allow": allowed}
            )
        _auth(request, api_key)
        simulate = request.headers.get(SIMULATE_HEADER)
        if simulate is not None:
            # ASCII digits, three at most: `²` is a digit to str.isdigit, and int() of 5,000 digits raises.
            number = int(simulate) if simulate.isascii() and simulate.isdigit() and len(simulate) <= 3 else 0
            raise SIMULATED.get(number) or ApiError(
                400, f"{SIMULATE_HEADER} takes one of {sorted(SIMULATED)}.", param=SIMULATE_HEADER
            )
        query = validator.query(op.operation_id, request.query_params, _multi(request))
        body = validator.body(op.operation_id, await _bounded_body(request))
        result = await HANDLERS[op.operation_id](api, Call(dict(request.path_params), query, body))
        if isinstance(result, Stream):
            return StreamingResponse(
                result, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            )
        return JSONResponse(result)

    return endpoint


MAX_BODY = 8 << 20  # bytes; the largest legitimate request (128 tools, 256k-character instructions) is far below


async def _bounded_body(request: Request) -> bytes:
    """The request body, refused with 413 once it passes MAX_BODY: a declared length over it is
    refused before reading, and an undeclared one is not read past it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, f"The request body is {int(declared):,} bytes; at most {MAX_BODY:,} are accepted.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, f"The request body passes {MAX_BODY:,} bytes, the most accepted.")
        chunks.append(chunk)
    return b"".join(chunks)


def _multi(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for key, value in request.query_params.multi_items():
        out[key].append(value)
    return out


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return ApiError(404, f"Invalid URL ({request.method} {request.url.path}).", code="unknown_url").response()
    return ApiError(exc.status_code, str(exc.detail)).response()


async def _server_error(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return ApiError(500, "The server had an error while processing your request.", type="server_error").response()


def create_app(
    *, api_key: str, db: Path | None = None, pace: float = 0.0, contract: Contract | None = None
) -> Starlette:
    """A reference server app. `pace` (seconds) spaces streamed events; 0 streams at full speed."""
    contract = contract or get_contract()
    store = Store(db)
    # Runs a previous process left active can never finish now: they expire (a status the contract
    # allows), so their threads take new runs again.
    store.expire_interrupted(objects.now())
    engine = RunEngine(store, pace=pace)
    api = Api(store, engine)
    validator = RequestValidator(contract)

    by_path: dict[str, dict[str, Operation]] = defaultdict(dict)
    for op in contract.operations:
        if op.operation_id not in HANDLERS:  # pragma: no cover - guarded by a test
            raise RuntimeError(f"no handler for {op.operation_id}")
        by_path[op.path][op.method] = op
    # Literal segments must win over templates (/threads/runs before /threads/{thread_id}).
    ordered = sorted(by_path.items(), key=lambda item: item[0].count("{"))
    routes = [
        Route(
            PREFIX + path,
            _endpoint(ops, api, validator, api_key),
            methods=["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "QUERY"],
        )
        for path, ops in ordered
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.shutdown()
            store.close()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
    )
    app.state.store = store
    app.state.engine = engine
    return app

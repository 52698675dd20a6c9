"""Servers the benchmarks start in their own process: the reference server and a bare baseline.

The baseline is the same stack (starlette on uvicorn, same config) answering a constant JSON
body and a constant event stream, so ratios against it isolate what our server adds.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from assistants_conformance.listening import bind
from assistants_conformance.reference import create_app
from assistants_conformance.reference.testing import server_config

BODY = (
    b'{"id":"asst_0123456789abcdef01234567","object":"assistant","created_at":1732000000,'
    b'"name":"bench","description":null,"model":"gpt-4o","instructions":null,"tools":[],'
    b'"tool_resources":{},"metadata":{},"temperature":1.0,"top_p":1.0,"response_format":"auto"}'
)
FRAME = b'event: thread.message.delta\ndata: {"id":"msg_1","object":"thread.message.delta","delta":{}}\n\n'


def baseline_app(frames: int) -> Starlette:
    async def constant(_: Request) -> Response:
        return Response(BODY, media_type="application/json")

    async def stream(_: Request) -> Response:
        async def body():  # type: ignore[no-untyped-def]
            for _ in range(frames):
                yield FRAME
                await asyncio.sleep(0)
            yield b"event: done\ndata: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(
        routes=[Route("/v1/{rest:path}", constant, methods=["GET", "POST"]), Route("/stream", stream, methods=["POST"])]
    )


def replay_app(path: str, pace: float) -> Starlette:
    """Answers every POST with the event stream recorded in `path` (frames split by blank
    lines), one frame every `pace` seconds: an upstream for the proxy's stream figures."""
    with open(path, "rb") as handle:
        frames = [frame + b"\n\n" for frame in handle.read().split(b"\n\n") if frame.strip()]

    async def stream(_: Request) -> Response:
        async def body():  # type: ignore[no-untyped-def]
            for frame in frames:
                yield frame
                await asyncio.sleep(pace)

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/{rest:path}", stream, methods=["POST"])])


def main() -> None:
    kind, key = sys.argv[1], sys.argv[2]
    if kind == "reference":
        app = create_app(api_key=key)
    elif kind == "replay":
        app = replay_app(sys.argv[3], float(sys.argv[4]))
    else:
        app = baseline_app(int(sys.argv[3]))
    sock = bind()
    print(sock.getsockname()[1], flush=True)
    asyncio.run(uvicorn.Server(server_config(app)).serve(sockets=[sock]))


if __name__ == "__main__":
    main()

"""HTTP in front of the `openai-responses` mock, which is an in-process router (respx) for tests.

Run with the mock's own venv: `python openai_responses_http.py PORT`. Every request is handed to
the mock's router as the OpenAI client would send it to https://api.openai.com/v1 and its answer
is returned as it is; a request no route of the mock matches answers what the mock has no route
for: 404 with the error envelope; an exception the mock raises (on input it cannot take) becomes
the 500 any ASGI server answers. Nothing else is added, so every verdict is the mock's own.
"""

from __future__ import annotations

import sys

import httpx
import uvicorn
from openai_responses import OpenAIMock
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MOCK = OpenAIMock()
UPSTREAM = "https://api.openai.com"
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding"}


async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    request = Request(scope, receive)
    body = await request.body()
    url = UPSTREAM + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    outgoing = httpx.Request(request.method, url, headers=list(request.headers.items()), content=body)
    try:
        answer = MOCK.router.handler(outgoing)
    except Exception as exc:  # respx: no route matched (AllMockedAssertionError) and the like
        if "not mocked" in str(exc).lower() or exc.__class__.__name__ == "AllMockedAssertionError":
            message = f"the mock has no route for {request.method} {request.url.path}"
            reply: Response = JSONResponse(
                {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}},
                status_code=404,
            )
        else:
            raise
    else:
        content = answer.read()
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        reply = Response(content, status_code=answer.status_code, headers=headers)
    await reply(scope, receive, send)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")

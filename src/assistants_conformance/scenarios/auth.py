"""No key and a wrong key are refused with 401 and the envelope, on every operation family."""

from __future__ import annotations

from typing import Any

from assistants_conformance.context import Context
from assistants_conformance.target import WRONG_KEY, Response

FAMILIES = [
    ("GET", "/assistants"),
    ("POST", "/threads"),
    ("GET", "/threads/thread_conformance_x/messages"),
    ("GET", "/threads/thread_conformance_x/runs"),
    ("GET", "/threads/thread_conformance_x/runs/run_x/steps"),
]


def _created_anyway(ctx: Context, method: str, path: str, response: Response) -> None:
    """A server that wrongly accepted a keyless create made a thread: it is ours to delete."""
    if method == "POST" and path == "/threads":
        ctx.track(response, "thread")


def run(ctx: Context) -> None:
    for method, path in FAMILIES:
        body: dict[str, Any] | None = {} if method == "POST" else None
        missing = ctx.call(method, path, json_body=body, auth=False)
        _created_anyway(ctx, method, path, missing)
        ctx.expect(
            "AUTH-001",
            missing.status == 401 and ctx.envelope_ok(missing),
            f"{method} {path} without a key {ctx.refusal(missing, 401)}",
            missing,
        )
        wrong = ctx.call(method, path, json_body=body, headers=ctx.target.auth(WRONG_KEY))
        _created_anyway(ctx, method, path, wrong)
        ctx.expect(
            "AUTH-002",
            wrong.status == 401 and ctx.envelope_ok(wrong),
            f"{method} {path} with a wrong key {ctx.refusal(wrong, 401)}",
            wrong,
        )

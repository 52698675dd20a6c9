"""No key and a wrong key are refused with 401 and the envelope, on every operation family."""

from __future__ import annotations

from assistants_conformance.context import Context

FAMILIES = [
    ("GET", "/assistants"),
    ("POST", "/threads"),
    ("GET", "/threads/thread_conformance_x/messages"),
    ("GET", "/threads/thread_conformance_x/runs"),
    ("GET", "/threads/thread_conformance_x/runs/run_x/steps"),
]


def run(ctx: Context) -> None:
    for method, path in FAMILIES:
        body = {} if method == "POST" else None
        missing = ctx.call(method, path, json_body=body, auth=False)
        ctx.expect(
            "AUTH-001",
            missing.status == 401 and ctx.envelope_ok(missing),
            f"{method} {path} without a key answered {missing.status}; expected 401 with the error envelope",
            missing,
        )
        wrong = ctx.call(method, path, json_body=body, headers={"Authorization": "Bearer sk-conformance-wrong-key"})
        ctx.expect(
            "AUTH-002",
            wrong.status == 401 and ctx.envelope_ok(wrong),
            f"{method} {path} with a wrong key answered {wrong.status}; expected 401 with the error envelope",
            wrong,
        )

"""Documented limits: the boundary is accepted; one past it is a 400 naming the field."""

from __future__ import annotations

from typing import Any

from assistants_conformance.context import Context
from assistants_conformance.target import Response

CASES: list[tuple[str, str, Any, Any]] = [
    ("name", "name", "n" * 256, "n" * 257),
    ("description", "description", "d" * 512, "d" * 513),
    ("metadata pairs", "metadata", {f"k{i}": "v" for i in range(16)}, {f"k{i}": "v" for i in range(17)}),
    ("metadata key", "metadata", {"k" * 64: "v"}, {"k" * 65: "v"}),
    ("metadata value", "metadata", {"k": "v" * 512}, {"k": "v" * 513}),
    ("tools", "tools", [{"type": "code_interpreter"}] * 128, [{"type": "code_interpreter"}] * 129),
    ("temperature", "temperature", 2, 2.01),
    ("top_p", "top_p", 1, 1.01),
    ("reasoning_effort", "reasoning_effort", "low", "extreme"),
    (
        "function name",
        "tools",
        [{"type": "function", "function": {"name": "f" * 64}}],
        [{"type": "function", "function": {"name": "bad name"}}],
    ),
]


def run(ctx: Context) -> None:
    for label, field, good, bad in CASES:
        extra = {} if field == "metadata" else {"metadata": ctx.tag}
        accepted = _create(ctx, {"model": ctx.model, field: good, **extra})
        ctx.expect(
            "VALID-001",
            accepted.ok,
            f"{label} at its documented limit was refused with {accepted.status}",
            accepted,
        )
        refused = _create(ctx, {"model": ctx.model, field: bad, **extra})
        ok = ctx.expect(
            "VALID-002",
            refused.status == 400 and ctx.envelope_ok(refused),
            f"{label} one past its limit {ctx.refusal(refused, 400)}",
            refused,
        )
        if ok:
            param = str(refused.object()["error"].get("param") or "")
            ctx.expect(
                "VALID-003",
                param.split(".")[0].split("[")[0] == field,
                f"the 400 for {label} names param {param!r}; expected {field!r}",
                refused,
            )
    malformed = ctx.call("POST", "/assistants", raw=b'{"model": "x", ', headers={"Content-Type": "application/json"})
    ctx.expect(
        "VALID-004",
        malformed.status == 400 and ctx.envelope_ok(malformed),
        f"a malformed JSON body {ctx.refusal(malformed, 400)}",
        malformed,
    )
    unknown = _create(ctx, {"model": ctx.model, "metadata": ctx.tag, "conformance_unknown_field": 1})
    ctx.expect(
        "VALID-005",
        unknown.status == 400,
        f"an unknown field was answered {unknown.status}; expected 400 (request bodies are closed)",
        unknown,
    )


def _create(ctx: Context, body: dict[str, Any]) -> Response:
    """POST an assistant; whatever a lenient server accepts (any 2xx) is recorded for clean-up."""
    response = ctx.call("POST", "/assistants", json_body=body)
    ctx.track(response, "assistant")
    return response

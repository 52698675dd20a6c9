"""Documented limits: the boundary is accepted; one past it is a 400 naming the field."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from assistants_conformance.checks.catalogue import judged_in
from assistants_conformance.context import Context
from assistants_conformance.findings import shown
from assistants_conformance.target import Response

CHECKS = judged_in("validation")
# Limits count characters: the non-ASCII tails make a server that counts UTF-8 bytes refuse them.
NAME, DESCRIPTION, VALUE = "n" * 253 + "é☃ü", "d" * 509 + "é☃ü", "v" * 509 + "é☃ü"
INSTRUCTIONS = "i" * 255_997 + "é☃ü"
TOOLS = [{"type": "function", "function": {"name": f"tool_{i:03d}"}} for i in range(128)]

CASES: list[tuple[str, str, Any, Any]] = [
    ("name", "name", NAME, "n" * 257),
    ("description", "description", DESCRIPTION, "d" * 513),
    ("instructions", "instructions", INSTRUCTIONS, "i" * 256_001),
    ("metadata pairs", "metadata", {f"k{i:02d}": f"value {i}" for i in range(16)}, {f"k{i}": "v" for i in range(17)}),
    ("metadata key", "metadata", {"k" * 63 + "é": "v"}, {"k" * 65: "v"}),
    ("metadata value", "metadata", {"k": VALUE}, {"k": "v" * 513}),
    ("tools", "tools", TOOLS, [{"type": "code_interpreter"}] * 129),
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
# What a modify sends for the echo: another value at the same limit (a reversed list, so an
# order the server does not keep shows).
CHANGED: dict[str, Any] = {
    "name": "m" * 253 + "☃üé",
    "description": "e" * 509 + "☃üé",
    "instructions": "j" * 255_997 + "☃üé",
    "metadata pairs": {f"k{i:02d}": f"changed {i}" for i in range(16)},
    "metadata value": {"k": "w" * 509 + "☃üé"},
    "tools": TOOLS[::-1],
}


def run(ctx: Context) -> None:
    # Every probe is read against its control: the same create at ordinary values and the same
    # model, accepted in this run (runner.control). A server that refuses that refuses everything,
    # and no refusal of a probe can then be told from it.
    control = ctx.control
    if control is None or not control.ok:
        ctx.cannot(
            CHECKS,
            "the control, an ordinary createAssistant with the same model, "
            + (f"answered HTTP {control.status}" if control is not None else "was never sent")
            + ", so no refusal of a probe could be told from a refusal of every create",
        )
        return
    for label, field, good, bad in CASES:
        extra = {} if field == "metadata" else {"metadata": ctx.tag}
        accepted = _create(ctx, {"model": ctx.model, field: good, **extra})
        ctx.expect(
            "VALID-001",
            accepted.ok,
            f"{label} at its documented limit was refused with {accepted.status}",
            accepted,
        )
        if accepted.ok and label in CHANGED:
            _echo(ctx, label, field, good, accepted)
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
                f"the 400 for {label} names param {shown(param or None)}; expected {shown(field)}",
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


def _echo(ctx: Context, label: str, field: str, sent: Any, created: Response) -> None:
    """The value at its limit, exactly, from create; then another from modify, and on read-back."""
    made = created.object()
    ctx.expect(
        "VALID-ECHO-001",
        made.get(field) == sent,
        f"createAssistant with {label} at its limit answered another `{field}`: {_difference(sent, made.get(field))}",
        created,
    )
    if not isinstance(made.get("id"), str):
        return
    path = f"/assistants/{quote(made['id'], safe='')}"
    changed = CHANGED[label]
    modified = ctx.call("POST", path, json_body={field: changed})
    if not modified.ok:
        ctx.expect(
            "VALID-ECHO-001", False, f"modifyAssistant of {label} at its limit answered {modified.status}", modified
        )
        return
    ctx.expect(
        "VALID-ECHO-001",
        modified.object().get(field) == changed,
        f"modifyAssistant of {label} at its limit answered a different `{field}`: "
        f"{_difference(changed, modified.object().get(field))}",
        modified,
    )
    reread = ctx.call("GET", path)
    ctx.expect(
        "VALID-ECHO-001",
        reread.ok and reread.object().get(field) == changed,
        f"getAssistant after modifying {label} answered {reread.status} with a different `{field}`: "
        f"{_difference(changed, reread.object().get(field))}",
        reread,
    )


def _difference(sent: Any, got: Any) -> str:
    """What changed, in a line: a shortened string, an order, a missing key."""
    if isinstance(sent, str) and isinstance(got, str):
        at = next((i for i, (a, b) in enumerate(zip(sent, got, strict=False)) if a != b), min(len(sent), len(got)))
        return f"{len(sent)} characters sent, {len(got)} returned, first difference at {at}"
    if isinstance(sent, list) and isinstance(got, list):
        if sorted(map(repr, sent)) == sorted(map(repr, got)):
            return f"the same {len(sent)} items in another order"
        return f"{len(sent)} items sent, {len(got)} returned"
    if isinstance(sent, dict) and isinstance(got, dict):
        changed = sorted(k for k in sent if sent.get(k) != got.get(k))
        return f"{len(changed)} of {len(sent)} pairs differ (e.g. {changed[:2]})"
    return f"sent a {type(sent).__name__}, got {shown(got, 60)}"


def _create(ctx: Context, body: dict[str, Any]) -> Response:
    """POST an assistant; whatever a lenient server accepts (any 2xx) is recorded for clean-up."""
    response = ctx.call("POST", "/assistants", json_body=body)
    ctx.track(response, "assistant")
    return response

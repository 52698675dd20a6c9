"""Failed checks that share one cause, so that a server author reads one fix, not seven.

The cause recognised is the one that fans out widest in practice: every error answer shaped
otherwise than the contract's `{"error": {...}}` (FastAPI's `{"detail": …}`, an HTML error page),
which fails the schema check and each probe whose point is a well-formed refusal. Checks are
grouped when the error answers their findings point at have the same wrong shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cause:
    text: str  # what to fix, in one sentence
    checks: tuple[str, ...]  # the failed checks it explains


def _shape(exchange: dict[str, Any]) -> str | None:
    """How an error answer is shaped, when that is not the contract's envelope; None otherwise."""
    status = exchange.get("status")
    if not isinstance(status, int) or status < 400:
        return None
    body = exchange.get("response_body") or ""
    try:
        parsed = json.loads(body)
    except ValueError:
        # A cut-off excerpt of a long JSON body is still JSON-looking: not a cause we can name.
        return None if body.lstrip().startswith(("{", "[")) else "a body that is not JSON"
    if isinstance(parsed, dict):
        if isinstance(parsed.get("error"), dict):
            return None
        keys = ", ".join(key[:40] for key in sorted(parsed)[:4]) + (", …" if len(parsed) > 4 else "")
        return f"{{{keys}}}" if parsed else "{}"
    return f"a JSON {type(parsed).__name__}"


def shared_causes(report: dict[str, Any]) -> list[Cause]:
    """Causes shared by two or more failed checks, widest first."""
    exchanges = report.get("exchanges") or []
    by_shape: dict[str, set[str]] = {}
    for check in report.get("checks", []):
        if check.get("outcome") != "failed":
            continue
        for finding in check.get("findings", []):
            if finding.get("severity") != "error" or finding.get("accepted"):
                continue
            for index in {finding.get("exchange"), *finding.get("examples", ())}:
                if isinstance(index, int) and 0 <= index < len(exchanges):
                    shape = _shape(exchanges[index])
                    if shape is not None:
                        by_shape.setdefault(shape, set()).add(check["id"])
    causes = [
        Cause(
            f'error answers are shaped {shape}, not {{"error": {{"message", "type", "param", "code"}}}}: '
            f"one fix to the error envelope",
            tuple(sorted(ids)),
        )
        for shape, ids in by_shape.items()
        if len(ids) >= 2
    ]
    return sorted(causes, key=lambda c: -len(c.checks))

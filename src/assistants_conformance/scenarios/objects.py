"""Objects compared by what the contract documents: a field of the server's own (say `updated_at`)
changing between two answers is not a changed value; it is an extra field, noted once."""

from __future__ import annotations

from functools import cache
from typing import Any

from assistants_conformance.context import Context
from assistants_conformance.contract import get_contract


@cache
def documented(schema: str) -> frozenset[str]:
    """The fields the contract documents for an object; others are the server's own additions."""
    return frozenset(get_contract().document["components"]["schemas"][schema].get("properties", {}))


def changed_fields(before: dict[str, Any], after: dict[str, Any], schema: str) -> list[str]:
    """Documented fields whose value differs between two answers for the same object."""
    return sorted(k for k in documented(schema) if before.get(k) != after.get(k))


def note_extra_fields(ctx: Context, body: dict[str, Any], schema: str) -> None:
    extra = sorted(set(body) - documented(schema))
    line = f"the server adds fields the contract does not document to {schema} objects: {', '.join(extra)}"
    if extra and line not in ctx.notes:
        ctx.notes.append(line)

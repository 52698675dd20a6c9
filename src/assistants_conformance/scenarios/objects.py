"""Objects compared by what the contract documents: a field of the server's own (say `updated_at`)
changing between two answers is not a changed value; it is an extra field, noted once."""

from __future__ import annotations

from typing import Any

from assistants_conformance.context import Context
from assistants_conformance.observations import changed_fields, documented

__all__ = ["changed_fields", "documented", "note_extra_fields"]


def note_extra_fields(ctx: Context, body: dict[str, Any], schema: str) -> None:
    extra = sorted(set(body) - documented(schema))
    line = f"the server adds fields the contract does not document to {schema} objects: {', '.join(extra)}"
    if extra and line not in ctx.notes:
        ctx.notes.append(line)

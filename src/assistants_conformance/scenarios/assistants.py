"""The assistants CRUD lifecycle."""

from __future__ import annotations

from assistants_conformance.context import Context
from assistants_conformance.findings import shown
from assistants_conformance.scenarios.objects import changed_fields, note_extra_fields

EVERY_FIELD = {
    "name": "conformance: every field",
    "description": "d" * 64,
    "instructions": "Answer in one short sentence.",
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ],
    "temperature": 0.5,
    "top_p": 0.9,
    "response_format": "auto",
}


def run(ctx: Context) -> None:
    minimal = ctx.make_assistant()
    ctx.expect(
        "ASST-CRUD-001",
        minimal is not None and minimal.get("model") == ctx.model,
        "createAssistant with only a model did not return an assistant with that model",
    )
    full = ctx.make_assistant(**EVERY_FIELD)
    if full is None:
        ctx.expect("ASST-CRUD-001", False, "createAssistant with every field did not answer an assistant")
        full = minimal  # the rest of the lifecycle can still be judged on the minimal one
    if full is None:
        ctx.cannot(
            ("ASST-CRUD-002", "ASST-CRUD-003", "ASST-CRUD-004", "ASST-CRUD-005", "ASST-CRUD-006"),
            "no createAssistant answered an assistant, so there was none to read, modify, list or delete",
        )
        _unknown(ctx)
        return
    note_extra_fields(ctx, full, "Assistant")
    if full is not minimal:
        sent = {**EVERY_FIELD, "metadata": ctx.tag}
        differing = sorted(k for k, v in sent.items() if full.get(k) != v)
        ctx.expect("ASST-CRUD-001", not differing, f"createAssistant changed fields it was sent: {differing}")
    path = f"/assistants/{full['id']}"
    got = ctx.call("GET", path)
    differing = changed_fields(full, got.object(), "Assistant")
    ctx.expect(
        "ASST-CRUD-002",
        got.ok and not differing,
        f"getAssistant differs from what create returned in {differing}"
        if got.ok
        else f"getAssistant of the assistant just created answered HTTP {got.status}",
        got,
    )
    changed = ctx.call("POST", path, json_body={"description": "changed by the conformance suite"})
    after = changed.object()
    moved = [k for k in changed_fields(full, after, "Assistant") if k != "description"]
    ctx.expect(
        "ASST-CRUD-003",
        changed.ok and not moved and after.get("description") == "changed by the conformance suite",
        f"modifyAssistant of only `description` answered HTTP {changed.status}"
        if not changed.ok
        else "modifyAssistant of only `description` " + (f"also changed {moved}" if moved else "did not change it"),
        changed,
    )
    if changed.ok and after.get("id") == full["id"]:
        # Read-back after a write: a read cache that the write did not invalidate shows here only.
        reread = ctx.call("GET", path)
        stale = changed_fields(after, reread.object(), "Assistant")
        ctx.expect(
            "ASST-CRUD-002",
            reread.ok and not stale,
            f"getAssistant after modifyAssistant differs from what modify returned in {stale}"
            if reread.ok
            else f"getAssistant after modifyAssistant answered HTTP {reread.status}",
            reread,
        )
    latest = after if changed.ok and after.get("id") == full["id"] else full
    listed = ctx.call("GET", "/assistants", params={"limit": 100})
    listed_one = next((item for item in listed.items() if item.get("id") == full["id"]), None)
    differing = changed_fields(latest, listed_one, "Assistant") if listed_one is not None else []
    ctx.expect(
        "ASST-CRUD-004",
        listed_one is not None and not differing,
        "listAssistants (limit 100) "
        + (
            f"shows the new assistant differing from its latest answer in {differing}"
            if listed_one
            else "does not include the new assistant"
        ),
        listed,
    )
    deleted = ctx.call("DELETE", path)
    body = deleted.object()
    ctx.expect(
        "ASST-CRUD-005",
        deleted.ok and body.get("deleted") is True,
        f"deleteAssistant answered HTTP {deleted.status} with {shown(body, 100)}",
        deleted,
    )
    if not deleted.ok:  # nothing was deleted: what follows a delete cannot be judged
        ctx.cannot(
            ("ASST-CRUD-006",), f"deleteAssistant answered HTTP {deleted.status}, so there was nothing to delete again"
        )
        _unknown(ctx)
        return
    ctx.deleted.add(path)
    gone = ctx.call("GET", path)
    ctx.expect(
        "ASST-CRUD-005", gone.status == 404, f"getAssistant after delete answered {gone.status}; expected 404", gone
    )
    again = ctx.call("DELETE", path)
    ctx.expect("ASST-CRUD-006", again.status == 404, f"a second delete answered {again.status}; expected 404", again)
    _unknown(ctx)


def _unknown(ctx: Context) -> None:
    unknown = ctx.call("GET", "/assistants/asst_conformance_does_not_exist")
    ctx.expect(
        "ASST-CRUD-007",
        unknown.status == 404 and ctx.envelope_ok(unknown),
        f"an unknown id {ctx.refusal(unknown, 404)}",
        unknown,
    )

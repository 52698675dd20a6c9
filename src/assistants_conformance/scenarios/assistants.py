"""The assistants CRUD lifecycle."""

from __future__ import annotations

from assistants_conformance.context import Context

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
        ctx.expect("ASST-CRUD-001", False, "createAssistant with every field failed")
        return
    sent = {**EVERY_FIELD, "metadata": ctx.tag}
    differing = sorted(k for k, v in sent.items() if full.get(k) != v)
    ctx.expect("ASST-CRUD-001", not differing, f"createAssistant changed fields it was sent: {differing}")
    path = f"/assistants/{full['id']}"
    got = ctx.call("GET", path)
    ctx.expect(
        "ASST-CRUD-002",
        got.status == 200 and got.json() == full,
        f"getAssistant answered {got.status} with a different object than create returned",
        got,
    )
    changed = ctx.call("POST", path, json_body={"description": "changed by the conformance suite"})
    after = changed.json() if changed.status == 200 else None
    kept = isinstance(after, dict) and all(after.get(k) == full.get(k) for k in EVERY_FIELD if k != "description")
    ctx.expect(
        "ASST-CRUD-003",
        kept and after.get("description") == "changed by the conformance suite",
        "modifyAssistant of only `description` changed other fields (or did not change description)",
        changed,
    )
    listed = ctx.call("GET", "/assistants", params={"limit": 100})
    ids = [a.get("id") for a in (listed.json() or {}).get("data", []) if isinstance(a, dict)]
    ctx.expect(
        "ASST-CRUD-004", full["id"] in ids, "listAssistants (limit 100) does not include the new assistant", listed
    )
    deleted = ctx.call("DELETE", path)
    body = deleted.json() or {}
    ctx.expect(
        "ASST-CRUD-005",
        deleted.status == 200 and body.get("deleted") is True,
        f"deleteAssistant answered {deleted.status} {str(body)[:100]}",
        deleted,
    )
    ctx.deleted.add(path)
    gone = ctx.call("GET", path)
    ctx.expect(
        "ASST-CRUD-005", gone.status == 404, f"getAssistant after delete answered {gone.status}; expected 404", gone
    )
    again = ctx.call("DELETE", path)
    ctx.expect("ASST-CRUD-006", again.status == 404, f"a second delete answered {again.status}; expected 404", again)
    unknown = ctx.call("GET", "/assistants/asst_conformance_does_not_exist")
    ctx.expect(
        "ASST-CRUD-007",
        unknown.status == 404 and ctx.envelope_ok(unknown),
        f"an unknown id answered {unknown.status}; expected 404 with the error envelope",
        unknown,
    )

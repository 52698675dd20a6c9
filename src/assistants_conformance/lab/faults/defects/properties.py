"""Defects only generated requests reach."""

from __future__ import annotations

from assistants_conformance.lab.faults.middleware import Fault, Req, Res, answer, error, set_json_body
from assistants_conformance.lab.faults.registry import (
    before,
    fault,
    json_post,
)


# ----------------------------------------------------------------------------- found by the property phase
@fault(
    "500-on-non-ascii-text",
    "createAssistant crashes (500) when a text field holds non-ASCII characters (a Latin-1 database column).",
    "properties",
    {"PROP-5XX-001"},
    phase="properties",
)
def _crash_on_non_ascii(key: str) -> Fault:
    def crash(req: Req) -> Res | None:
        body = json_post(req, "/v1/assistants")
        texts = [body.get(k) for k in ("name", "description", "instructions")] if body else []
        if any(isinstance(t, str) and not t.isascii() for t in texts):
            return answer(500, {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}})
        return None

    return before(crash)(key)


@fault(
    "invalid-assistants-accepted",
    "createAssistant accepts anything with a model and ignores the rest.",
    "properties",
    {"PROP-NEG-001", "ASST-CRUD-001", "VALID-002", "VALID-005"},
    phase="properties",
)
def _accept_anything(key: str) -> Fault:
    def strip(req: Req) -> None:
        body = json_post(req, "/v1/assistants")
        if body is not None:
            set_json_body(req, {"model": str(body.get("model")) or "m"})

    return before(strip)(key)


@fault(
    "thread-tool-resources-refused",
    "createThread refuses the documented `tool_resources` field.",
    "properties",
    set(),
    warns={"PROP-POS-001"},
    phase="properties",
)
def _thread_tool_resources(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        body = json_post(req, "/v1/threads")
        return (
            error(400, "tool_resources is not supported", "tool_resources")
            if body and "tool_resources" in body
            else None
        )

    return before(refuse)(key)

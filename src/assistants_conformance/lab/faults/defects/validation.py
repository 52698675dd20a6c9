"""Defects in request validation: limits not enforced, refused at the wrong place, values changed on the way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistants_conformance.lab.faults.middleware import Fault, Req, Res, answer, error, set_json, set_json_body
from assistants_conformance.lab.faults.registry import (
    ASSISTANT,
    after,
    before,
    fault,
    json_answer,
    json_post,
    on_objects,
)


# ----------------------------------------------------------------------------- validation
@fault(
    "boundary-name-refused",
    "A name of the documented maximum length (256 characters) is refused on create and modify: the length "
    "check uses `<` where `<=` was meant.",
    "validation",
    {"VALID-001"},
)
def _off_by_one(key: str) -> Fault:
    return _refuse_names(lambda name: len(name) >= 256)(key)


def _refuse_names(too_long: Callable[[str], bool]) -> Callable[[str], Fault]:
    """createAssistant and modifyAssistant refuse a name that `too_long` (a wrong limit check) says is."""

    def refuse(req: Req) -> Res | None:
        body = json_post(req, "/v1/assistants") or json_post(req, ASSISTANT)
        name = body.get("name") if body is not None else None
        if isinstance(name, str) and too_long(name):
            return error(400, "name is too long", "name")
        return None

    return before(refuse)


@fault("too-long-name-accepted", "A 257-character name is truncated and accepted.", "validation", {"VALID-002"})
def _truncate_name(key: str) -> Fault:
    def truncate(req: Req) -> None:
        body = req.json()
        if req.method == "POST" and isinstance(body, dict) and len(str(body.get("name") or "")) > 256:
            body["name"] = body["name"][:256]
            set_json_body(req, body)

    return before(truncate)(key)


@fault(
    "17-metadata-keys-accepted", "Metadata beyond 16 pairs is dropped instead of refused.", "validation", {"VALID-002"}
)
def _metadata_17(key: str) -> Fault:
    def trim(req: Req) -> None:
        body = req.json()
        metadata = body.get("metadata") if req.method == "POST" and isinstance(body, dict) else None
        if isinstance(metadata, dict) and len(metadata) > 16:
            body["metadata"] = dict(list(metadata.items())[:16])
            set_json_body(req, body)

    return before(trim)(key)


@fault(
    "metadata-values-cut-at-255",
    "Metadata values are stored in a 255-character column that truncates silently: any value of 256 to 512 "
    "characters (valid, so accepted) comes back cut, on every object that has metadata.",
    "validation",
    {"VALID-ECHO-001"},
)
def _metadata_cut(key: str) -> Fault:
    def cut(req: Req) -> None:
        body = req.json()
        metadata = body.get("metadata") if req.method == "POST" and isinstance(body, dict) else None
        if isinstance(metadata, dict) and any(isinstance(v, str) and 255 < len(v) <= 512 for v in metadata.values()):
            body["metadata"] = {k: v[:255] if isinstance(v, str) and len(v) <= 512 else v for k, v in metadata.items()}
            set_json_body(req, body)

    return before(cut)(key)


@fault(
    "instructions-cut-at-65535-bytes",
    "Instructions are stored in a 64 KiB text column (MySQL's TEXT) that truncates silently: any instructions "
    "over 65,535 bytes of UTF-8 (valid up to 256,000 characters, so accepted) are cut, on create and modify.",
    "validation",
    {"VALID-ECHO-001"},
)
def _instructions_cut(key: str) -> Fault:
    def cut(req: Req) -> None:
        body = json_post(req, "/v1/assistants") or json_post(req, ASSISTANT)
        text = body.get("instructions") if body else None
        if isinstance(text, str) and len(encoded := text.encode("utf-8", "surrogatepass")) > 65_535:
            body["instructions"] = encoded[:65_535].decode("utf-8", "ignore")  # type: ignore[index]
            set_json_body(req, body)

    return before(cut)(key)


@fault(
    "tools-come-back-sorted",
    "An assistant's tools come back sorted by type and function name, not in the order sent (kept in a map).",
    "validation",
    {"VALID-ECHO-001"},
)
def _tools_sorted(key: str) -> Fault:
    def order(tool: Any) -> tuple[str, str]:
        if not isinstance(tool, dict):
            return ("", "")
        found = tool.get("function")
        function: dict[str, Any] = found if isinstance(found, dict) else {}
        return (str(tool.get("type")), str(function.get("name", "")))

    def sort(assistant: dict[str, Any]) -> None:
        if isinstance(assistant.get("tools"), list):
            assistant["tools"] = sorted(assistant["tools"], key=order)

    return on_objects("assistant", sort)(key)


@fault(
    "name-limit-counts-bytes",
    "The 256-character limit on names is checked in UTF-8 bytes: a name at the limit with non-ASCII "
    "characters is refused on create and modify.",
    "validation",
    {"VALID-001"},
)
def _name_bytes(key: str) -> Fault:
    return _refuse_names(lambda name: len(name) <= 256 < len(name.encode("utf-8", "surrogatepass")))(key)


@fault("temperature-3-accepted", "A temperature above 2 is clamped instead of refused.", "validation", {"VALID-002"})
def _temperature_clamped(key: str) -> Fault:
    def clamp(req: Req) -> None:
        body = req.json()
        value = body.get("temperature") if req.method == "POST" and isinstance(body, dict) else None
        if isinstance(value, int | float) and value > 2:
            body["temperature"] = 2
            set_json_body(req, body)

    return before(clamp)(key)


ASSISTANT_FIELDS = frozenset(
    {"model", "name", "description", "instructions", "reasoning_effort", "tools", "tool_resources", "metadata"}
    | {"temperature", "top_p", "response_format"}
)


@fault(
    "unknown-field-accepted",
    "createAssistant and modifyAssistant ignore every field they do not know instead of refusing it "
    "(a model class that drops extra keys).",
    "validation",
    {"VALID-005"},
)
def _unknown_field(key: str) -> Fault:
    def drop(req: Req) -> None:
        body = req.json()
        is_assistant = req.path == "/v1/assistants" or ASSISTANT.match(req.path)
        if req.method == "POST" and is_assistant and isinstance(body, dict) and set(body) - ASSISTANT_FIELDS:
            set_json_body(req, {k: v for k, v in body.items() if k in ASSISTANT_FIELDS})

    return before(drop)(key)


@fault("no-param-on-400", "400 answers never name the offending field.", "validation", set(), warns={"VALID-003"})
def _no_param(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = json_answer(res)
        if res.status == 400 and isinstance(body, dict) and "error" in body:
            body["error"]["param"] = None
            set_json(res, body)

    return after(change)(key)


@fault("malformed-json-is-500", "A body that is not JSON crashes the handler (500).", "validation", {"VALID-004"})
def _malformed_500(key: str) -> Fault:
    def crash(req: Req) -> Res | None:
        if req.method == "POST" and req.body and req.json() is None:
            return answer(500, {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}})
        return None

    return before(crash)(key)

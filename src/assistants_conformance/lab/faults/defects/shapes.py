"""Defects in the shape of answers: fields, types, statuses, media types and error envelopes."""

from __future__ import annotations

from typing import Any

from assistants_conformance.lab.faults.middleware import Fault, Req, Res, answer, set_json
from assistants_conformance.lab.faults.registry import (
    ASSISTANT,
    THREAD,
    after,
    before,
    fault,
    json_answer,
    on_objects,
)


# ----------------------------------------------------------------------------- response shapes
@fault(
    "assistant-without-created-at",
    "Assistant objects lack the required `created_at`.",
    "schema",
    {"RESP-SCHEMA-001"},
)
def _no_created_at(key: str) -> Fault:
    return on_objects("assistant", lambda a: a.pop("created_at", None))(key)


@fault("wrong-object-value", 'Assistants say `object: "assistants"`.', "schema", {"RESP-SCHEMA-001"})
def _wrong_object(key: str) -> Fault:
    def change(res: Res) -> None:
        body = json_answer(res)
        if isinstance(body, dict) and body.get("object") == "assistant":
            body["object"] = "assistants"
            set_json(res, body)

    return after(lambda req, res: change(res))(key)


@fault(
    "timestamp-as-string",
    "Threads carry `created_at` as an ISO string, not Unix seconds.",
    "schema",
    {"RESP-SCHEMA-001"},
)
def _timestamp_string(key: str) -> Fault:
    return on_objects("thread", lambda t: t.update(created_at="2024-01-01T00:00:00Z"))(key)


@fault(
    "timestamps-in-milliseconds",
    "Assistants carry `created_at` in milliseconds (a JavaScript `Date.now()` stored as is).",
    "schema",
    {"RESP-TIME-001"},
)
def _timestamp_ms(key: str) -> Fault:
    return on_objects("assistant", lambda a: a.update(created_at=a["created_at"] * 1000))(key)


@fault(
    "integer-written-as-float",
    "Threads carry `created_at` as a float (`1796004006.0`): a store that keeps numbers as doubles.",
    "schema",
    {"RESP-SCHEMA-001"},
)
def _timestamp_float(key: str) -> Fault:
    return on_objects("thread", lambda t: t.update(created_at=float(t["created_at"])))(key)


@fault("null-tools", "An assistant without tools answers `tools: null` instead of `[]`.", "schema", {"RESP-SCHEMA-001"})
def _null_tools(key: str) -> Fault:
    return on_objects("assistant", lambda a: a.update(tools=a["tools"] or None))(key)


@fault(
    "legacy-v1-assistant",
    "Assistants in the v1 shape: a leftover `file_ids`, and a `retrieval` tool instead of `file_search` "
    "(the suite sends no file_search tool, so what it meets is the v1 field, which v2 clients ignore).",
    "schema",
    set(),
    warns={"RESP-V1-001"},
)
def _legacy_v1(key: str) -> Fault:
    def change(assistant: dict[str, Any]) -> None:
        assistant["file_ids"] = []
        assistant.pop("tool_resources", None)
        assistant["tools"] = [
            {"type": "retrieval"} if t.get("type") == "file_search" else t for t in assistant["tools"]
        ]

    return on_objects("assistant", change)(key)


@fault(
    "errors-as-detail",
    'Client errors answer `{"detail": ...}` (a web framework default) instead of the error envelope.',
    "errors",
    {"RESP-SCHEMA-001", "ASST-CRUD-007", "AUTH-001", "AUTH-002", "PAGE-005", "VALID-002", "VALID-004"},
)
def _detail_errors(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = json_answer(res)
        if 400 <= res.status < 500 and isinstance(body, dict) and "error" in body:
            set_json(res, {"detail": body["error"]["message"]})

    return after(change)(key)


@fault(
    "validation-as-422",
    "Invalid requests answer 422 Unprocessable Entity instead of 400.",
    "errors",
    {"RESP-STATUS-001", "PAGE-005", "RUN-BUSY-001", "VALID-002", "VALID-004", "VALID-005"},
)
def _as_422(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if res.status == 400:
            res.status = 422

    return after(change)(key)


@fault("json-as-text-plain", "Retrieved assistants come back as `text/plain`.", "responses", {"RESP-MEDIA-001"})
def _text_plain(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if req.method == "GET" and ASSISTANT.match(req.path):
            res.headers["content-type"] = "text/plain; charset=utf-8"

    return after(change)(key)


@fault("500-on-valid-request", "Modifying a thread fails with 500.", "responses", {"THREAD-001", "RUN-STREAM-001"})
def _modify_thread_500(key: str) -> Fault:
    def crash(req: Req) -> Res | None:
        if req.method == "POST" and THREAD.match(req.path):
            return answer(500, {"error": {"message": "internal", "type": "server_error", "param": None, "code": None}})
        return None

    return before(crash)(key)


@fault(
    "html-error-page-as-json",
    "getAssistant answers an HTML page labelled `application/json` (a proxy's error page).",
    "responses",
    {"RESP-JSON-001", "ASST-CRUD-002"},
)
def _html_as_json(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if req.method == "GET" and ASSISTANT.match(req.path) and res.status == 200:
            res.body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"

    return after(change)(key)


@fault(
    "429-without-retry-after",
    "The first createThread is rate-limited with 429 but no `Retry-After` header.",
    "responses",
    {"RESP-HEADER-001"},
)
def _429_without_retry_after(key: str) -> Fault:
    limited: list[bool] = []

    def limit(req: Req) -> Res | None:
        if req.method == "POST" and req.path == "/v1/threads" and not limited:
            limited.append(True)
            return Res(
                429,
                {"content-type": "application/json"},
                b'{"error":{"message":"slow down","type":"rate_limit_exceeded","param":null,"code":null}}',
            )
        return None

    return before(limit)(key)


@fault(
    "large-answers-cut",
    "A proxy with a 64 KiB buffer drops the connection partway through any larger JSON answer.",
    "responses",
    {"RESP-WHOLE-001"},
)
def _large_answers_cut(key: str) -> Fault:
    def cut(req: Req, res: Res) -> None:
        if len(res.body) > 65_536:
            res.cut_after = 65_536

    return after(cut)(key)

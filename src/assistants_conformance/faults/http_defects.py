"""Defects in plain HTTP answers: auth, shapes, CRUD, threads, pagination, validation, runs, and the
ones only generated requests reach."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from assistants_conformance.faults import sse
from assistants_conformance.faults.catalogue import (
    ASSISTANT,
    MESSAGE,
    RUN,
    RUNS,
    THREAD,
    after,
    before,
    fault,
    json_answer,
    json_post,
    on_objects,
    rewrite_objects,
)
from assistants_conformance.faults.middleware import Fault, Req, Res, answer, error, set_json, set_json_body
from assistants_conformance.reference.engine import TERMINAL


def _answer_gets_from(pattern: re.Pattern[str], held: dict[str, Any]) -> Callable[[Req], Res | None]:
    """A GET of an object the fault holds (by the id `pattern` captures) is answered from it."""

    def serve(req: Req) -> Res | None:
        found = pattern.match(req.path)
        if found and req.method == "GET" and found.group(1) in held:
            return answer(200, held[found.group(1)])
        return None

    return serve


# ----------------------------------------------------------------------------- auth
@fault("missing-auth-accepted", "Requests without an API key are served as if authenticated.", "auth", {"AUTH-001"})
def _missing_auth(key: str) -> Fault:
    def inject(req: Req) -> None:
        req.headers.setdefault("authorization", f"Bearer {key}")

    return Fault("", before=inject)


@fault("any-key-accepted", "Any bearer key is accepted, not only the configured one.", "auth", {"AUTH-002"})
def _any_key(key: str) -> Fault:
    def replace(req: Req) -> None:
        if req.headers.get("authorization", "").startswith("Bearer "):
            req.headers["authorization"] = f"Bearer {key}"

    return Fault("", before=replace)


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
    "list-without-has-more",
    "List envelopes leave out `has_more`.",
    "pagination",
    {"RESP-SCHEMA-001", "PAGE-001", "PAGE-003"},
)
def _no_has_more(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = json_answer(res)
        if isinstance(body, dict) and body.get("object") == "list":
            body.pop("has_more", None)
            set_json(res, body)

    return after(change)(key)


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


# ----------------------------------------------------------------------------- assistants CRUD
@fault(
    "create-ignores-a-field",
    "`temperature` is validated but never stored: every assistant carries the default 1.0, whatever was "
    "sent (a column missing from the INSERT).",
    "assistants",
    {"ASST-CRUD-001"},
)
def _drop_temperature(key: str) -> Fault:
    return on_objects("assistant", lambda a: a.update(temperature=1.0))(key)


@fault(
    "get-answers-a-stale-copy",
    "getAssistant answers the copy cached when the assistant was first seen: a modification never shows on "
    "GET (a read cache that writes do not invalidate).",
    "assistants",
    {"ASST-CRUD-002"},
)
def _stale_get(key: str) -> Fault:
    cached: dict[str, Any] = {}

    def remember(req: Req, res: Res) -> None:
        body = json_answer(res)
        found = ASSISTANT.match(req.path)
        if found and req.method == "DELETE" and res.status == 200:
            cached.pop(found.group(1), None)  # a delete does evict: only writes that keep it are missed
        elif res.status == 200 and isinstance(body, dict) and body.get("object") == "assistant":
            cached.setdefault(body["id"], body)

    return Fault("", before=_answer_gets_from(ASSISTANT, cached), after=remember)


@fault(
    "modify-replaces-the-object",
    "modifyAssistant replaces the whole object: unsent fields are reset.",
    "assistants",
    {"ASST-CRUD-003"},
)
def _modify_replaces(key: str) -> Fault:
    reset = {"name": None, "instructions": None, "tools": [], "temperature": None, "top_p": None}

    def replace(req: Req) -> None:
        body = json_post(req, ASSISTANT)
        if body is not None:
            set_json_body(req, {**reset, "response_format": None, **body})

    return before(replace)(key)


@fault(
    "list-omits-an-item",
    "listAssistants' first page leaves out the newest assistant (an off-by-one in the page query), "
    "whatever the assistants are.",
    "assistants",
    # the item is missing; a short page still says has_more, and an emptied page with has_more is
    # a shape the contract rules out (has_more is false on an empty page)
    {"ASST-CRUD-004", "PAGE-001", "PAGE-003", "RESP-SCHEMA-001"},
)
def _list_hides(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        first_page = "after" not in req.query and "before" not in req.query
        if req.method == "GET" and req.path == "/v1/assistants" and res.status == 200 and first_page:
            body = res.json()
            body["data"] = body["data"][1:]
            body["first_id"] = body["data"][0]["id"] if body["data"] else None
            body["last_id"] = body["data"][-1]["id"] if body["data"] else None
            set_json(res, body)

    return after(change)(key)


@fault(
    "delete-leaves-it-retrievable",
    "deleteAssistant answers `deleted: true`, yet GET still returns the assistant.",
    "assistants",
    {"ASST-CRUD-005"},
    leaves_objects=True,
)
def _soft_delete(key: str) -> Fault:
    seen: dict[str, Any] = {}
    deleted: dict[str, Any] = {}

    def remember(req: Req, res: Res) -> None:
        found = ASSISTANT.match(req.path)
        if found and req.method == "GET" and res.status == 200:
            seen[found.group(1)] = res.json()
        if found and req.method == "DELETE" and res.status == 200 and found.group(1) in seen:
            deleted[found.group(1)] = seen[found.group(1)]

    return Fault("", before=_answer_gets_from(ASSISTANT, deleted), after=remember)


@fault(
    "delete-is-a-no-op",
    "deleteAssistant answers `deleted: true` without deleting anything.",
    "assistants",
    {"ASST-CRUD-005", "ASST-CRUD-006", "PROP-GONE-001"},
    phase="properties",  # the stateful phase finds it too (Schemathesis' use_after_free)
    leaves_objects=True,
)
def _noop_delete(key: str) -> Fault:
    def pretend(req: Req) -> Res | None:
        found = ASSISTANT.match(req.path)
        if found and req.method == "DELETE":  # for any id, held or not
            return answer(200, {"id": found.group(1), "object": "assistant.deleted", "deleted": True})
        return None

    return before(pretend)(key)


@fault(
    "delete-twice-answers-200", "Deleting an already deleted assistant answers 200.", "assistants", {"ASST-CRUD-006"}
)
def _idempotent_delete(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        found = ASSISTANT.match(req.path)
        if found and req.method == "DELETE" and res.status == 404:
            res.status = 200
            set_json(res, {"id": found.group(1), "object": "assistant.deleted", "deleted": True})

    return after(change)(key)


@fault(
    "unknown-id-is-400",
    "Any assistant id the server does not hold (never created, or deleted) answers 400 instead of 404.",
    "assistants",
    {"ASST-CRUD-005", "ASST-CRUD-006", "ASST-CRUD-007"},  # a deleted id is unknown too
)
def _unknown_400(key: str) -> Fault:
    def refuse(req: Req, res: Res) -> None:
        if ASSISTANT.match(req.path) and res.status == 404:
            res.status = 400
            set_json(
                res, {"error": {"message": "invalid id", "type": "invalid_request_error", "param": None, "code": None}}
            )

    return after(refuse)(key)


# ----------------------------------------------------------------------------- threads and messages
@fault("thread-survives-delete", "A deleted thread stays retrievable.", "threads", {"THREAD-001"}, leaves_objects=True)
def _thread_survives(key: str) -> Fault:
    seen: dict[str, Any] = {}
    deleted: dict[str, Any] = {}

    def remember(req: Req, res: Res) -> None:
        found = THREAD.match(req.path)
        if found and req.method == "GET" and res.status == 200:
            seen[found.group(1)] = res.json()
        if found and req.method == "DELETE" and res.status == 200 and found.group(1) in seen:
            deleted[found.group(1)] = seen[found.group(1)]

    return Fault("", before=_answer_gets_from(THREAD, deleted), after=remember)


def _strip_query(name: str, when: Callable[[str], bool] = lambda v: True) -> Callable[[str], Fault]:
    def strip(req: Req) -> None:
        if name in req.query and when(req.query[name]):
            del req.query[name]

    return before(strip)


@fault("run-id-filter-ignored", "listMessages ignores `run_id` and returns every message.", "threads", {"MSG-001"})
def _run_id_ignored(key: str) -> Fault:
    return _strip_query("run_id")(key)


# ----------------------------------------------------------------------------- pagination
@fault(
    "limit-out-of-range-accepted",
    "A `limit` outside 1..100 (or not a number) is served with the default page size instead of refused.",
    "pagination",
    {"PAGE-005"},
)
def _limit_range(key: str) -> Fault:
    return _strip_query("limit", lambda v: not (v.isascii() and v.isdigit() and 1 <= int(v) <= 100))(key)


@fault(
    "limit-ignored",
    "`limit` is ignored: every page has the default size.",
    "pagination",
    {"PAGE-001", "PAGE-005"},
    warns={"PAGE-004"},
)
def _limit_ignored(key: str) -> Fault:
    return _strip_query("limit")(key)


@fault(
    "order-ignored",
    "`order` is ignored: lists always come newest first.",
    "pagination",
    {"PAGE-006"},  # the walks follow the server's own listing, so the one defect is reported once
)
def _order_ignored(key: str) -> Fault:
    return _strip_query("order")(key)


@fault("default-order-asc", "listMessages defaults to oldest first.", "pagination", {"PAGE-006"})
def _default_asc(key: str) -> Fault:
    def change(req: Req) -> None:
        if req.method == "GET" and req.path.endswith("/messages"):
            req.query.setdefault("order", "asc")

    return before(change)(key)


@fault("first-last-id-swapped", "`first_id` and `last_id` are swapped in ascending pages.", "pagination", {"PAGE-002"})
def _swap_cursors(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = json_answer(res)
        if req.query.get("order") == "asc" and isinstance(body, dict) and len(body.get("data") or []) > 1:
            body["first_id"], body["last_id"] = body["last_id"], body["first_id"]
            set_json(res, body)

    return after(change)(key)


@fault(
    "has-more-when-page-is-full",
    "`has_more` is true whenever the page is full, even on the last page.",
    "pagination",
    {"PAGE-003"},
)
def _has_more_full(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = json_answer(res)
        if req.method == "GET" and isinstance(body, dict) and body.get("object") == "list" and body["data"]:
            body["has_more"] = len(body["data"]) == int(req.query.get("limit", 20))
            set_json(res, body)

    return after(change)(key)


@fault(
    "after-ignored",
    "`after` is ignored in ascending order, on every list: each page starts from the oldest item again "
    "(the cursor is only wired into the descending query).",
    "pagination",
    {"PAGE-001"},
)
def _after_ignored(key: str) -> Fault:
    def change(req: Req) -> None:
        if req.method == "GET" and req.query.get("order") == "asc":
            req.query.pop("after", None)

    return before(change)(key)


@fault("before-ignored", "`before` is ignored.", "pagination", set(), warns={"PAGE-004"})
def _before_ignored(key: str) -> Fault:
    return _strip_query("before")(key)


@fault(
    "cursor-item-repeated",
    "A page fetched with `after=X` starts with X again (inclusive cursor).",
    "pagination",
    {"PAGE-001", "PAGE-002", "PAGE-003"},
    warns={"PAGE-004"},
)
def _inclusive_cursor(key: str) -> Fault:
    last_seen: dict[str, Any] = {}

    def change(req: Req, res: Res) -> None:
        body = json_answer(res)
        if req.method != "GET" or not isinstance(body, dict) or body.get("object") != "list":
            return
        for item in body["data"]:
            last_seen[item.get("id")] = item
        cursor = req.query.get("after")
        if cursor in last_seen and body["data"]:
            body["data"] = [last_seen[cursor], *body["data"][:-1]]
            body["first_id"] = cursor
            set_json(res, body)

    return after(change)(key)


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
        function = tool.get("function") if isinstance(tool.get("function"), dict) else {}
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


# ----------------------------------------------------------------------------- runs
@fault("run-get-drifts", "GET on a finished run differs from its last streamed snapshot.", "runs", {"RUN-SNAP-001"})
def _run_get_drifts(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if req.method == "GET" and RUN.match(req.path) and res.status == 200:
            body = res.json()
            body["metadata"] = {**body["metadata"], "drift": "yes"}
            set_json(res, body)

    return after(change)(key)


@fault(
    "message-get-drifts",
    "GET on a message differs from the message the stream completed.",
    "runs",
    {"RUN-SNAP-001"},
)
def _message_get_drifts(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if req.method == "GET" and MESSAGE.match(req.path) and res.status == 200:
            body = res.json()
            if body.get("role") == "assistant" and body.get("content"):
                body["content"][0]["text"]["value"] += " (edited)"
                set_json(res, body)

    return after(change)(key)


@fault("tool-choice-ignored", "A run ignores `tool_choice` naming a function.", "runs", {"RUN-TOOL-001"})
def _tool_choice_ignored(key: str) -> Fault:
    def drop(req: Req) -> None:
        body = json_post(req, RUNS)
        if body is not None and "tool_choice" in body:
            body.pop("tool_choice")
            set_json_body(req, body)

    return before(drop)(key)


@fault(
    "submit-tool-outputs-refused",
    "submit_tool_outputs is refused with 400.",
    "runs",
    {"RUN-TOOL-002", "RUN-STREAM-001"},
)
def _submit_refused(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        return error(400, "tool outputs are not supported") if req.path.endswith("/submit_tool_outputs") else None

    return before(refuse)(key)


@fault("cancel-refused", "cancelRun is refused with 400.", "runs", {"RUN-CANCEL-001"}, warns={"RUN-CANCEL-002"})
def _cancel_refused(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        return error(400, "runs cannot be cancelled") if req.path.endswith("/cancel") else None

    return before(refuse)(key)


@fault(
    "cancel-acknowledged-not-carried-out",
    "A gateway answers cancelRun itself, with the run marked `cancelling`, and never passes the cancel on:"
    " a run waiting for tool outputs stays waiting, one being generated completes.",
    "runs",
    {"RUN-CANCEL-001"},
    warns={"RUN-CANCEL-002"},
)
def _cancel_not_carried_out(key: str) -> Fault:
    asked = "x-fault-asked-to-cancel"

    def read_instead(req: Req) -> None:
        found = re.match(r"^(/v1/threads/[^/]+/runs/[^/]+)/cancel$", req.path)
        if req.method == "POST" and found:  # it reads the run to answer with, and cancels nothing
            req.method, req.path, req.body = "GET", found.group(1), b""
            req.headers[asked] = "1"

    def acknowledge(req: Req, res: Res) -> None:
        run = json_answer(res)
        if res.status != 200 or not isinstance(run, dict):
            return
        if run.get("status") in TERMINAL:  # as a server should: a finished run is not cancelled
            res.status, res.body = 400, error(400, f"Cannot cancel run with status '{run['status']}'.").body
            return
        run.update(status="cancelling", required_action=None)
        set_json(res, run)

    return Fault("", before=read_instead, after=acknowledge, sees=lambda req: asked in req.headers)


def _runs_in(res: Res) -> list[dict[str, Any]]:
    """The runs an answer announces: a JSON run, or a stream's `thread.run.created`."""
    if res.headers.get("content-type", "").startswith("text/event-stream"):
        found = [f.json() for f in sse.parse(res.body) if f.event == "thread.run.created"]
    else:
        found = [json_answer(res)]
    return [item for item in found if isinstance(item, dict) and item.get("object") == "thread.run"]


@fault(
    "busy-thread-accepts-runs",
    "A second run is started on a thread whose run is still active.",
    "runs",
    {"RUN-BUSY-001"},
)
def _busy_accepts(key: str) -> Fault:
    active: dict[str, Any] = {}
    seconds: list[str] = []

    def change(req: Req, res: Res) -> None:
        found = RUNS.match(req.path)
        if req.method != "POST" or not found:
            return
        if res.status == 200:
            # A streamed create started a run just the same (the lock is missing for both kinds).
            for run in _runs_in(res)[:1]:
                active[found.group(1)] = run
            return
        body = json_answer(res)
        if not isinstance(body, dict):
            return
        if res.status == 400 and body["error"].get("code") == "thread_busy" and found.group(1) in active:
            res.status = 200
            second = f"{active[found.group(1)]['id']}_{len(seconds)}"  # an id like any other, never repeated
            seconds.append(second)
            set_json(res, {**active[found.group(1)], "id": second, "status": "queued"})

    return after(change)(key)


@fault(
    "polled-run-never-finishes",
    "getRun always reports a run as in_progress (the status is read from a cache never updated), whatever the run did.",
    "runs",
    # nothing polled ever ends or pauses; GET after a stream disagrees with the stream
    {"RUN-POLL-001", "RUN-SNAP-001", "RUN-TOOL-001"},
)
def _never_finishes(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = json_answer(res)
        if (
            req.method == "GET"
            and RUN.match(req.path)
            and isinstance(body, dict)
            and body.get("object") == "thread.run"
        ):
            body.update(status="in_progress", completed_at=None, cancelled_at=None, failed_at=None, usage=None)
            body.update(required_action=None, last_error=None, incomplete_details=None)
            body.update(expires_at=body["created_at"] + 600)
            set_json(res, body)

    return after(change)(key)


@fault(
    "stream-as-json",
    "`stream: true` answers a JSON run object instead of an event stream.",
    "runs",
    {"RUN-STREAM-001"},
)
def _stream_as_json(key: str) -> Fault:
    def unstream(req: Req) -> None:
        body = req.json()
        if req.method == "POST" and isinstance(body, dict) and body.get("stream") is True:
            body["stream"] = False
            set_json_body(req, body)

    return before(unstream)(key)


def _everywhere(*kinds: str, change: Callable[[dict[str, Any]], None]) -> Callable[[str], Fault]:
    """Apply `change` to every object of these kinds (`thread.run`, `thread.run.step`, …) a client
    sees: JSON answers, alone or in lists, and the data of stream events."""

    def rewrite(req: Req, res: Res) -> None:
        if res.headers.get("content-type", "").startswith("text/event-stream"):
            frames = sse.parse(res.body)
            for frame in frames:
                data = frame.json() if (frame.event or "").startswith("thread.") else None
                if isinstance(data, dict) and data.get("object") in kinds:
                    change(data)
                    frame.set_json(data)
            res.body = sse.serialise(frames)
        else:
            for kind in kinds:
                rewrite_objects(res, kind, change)

    return after(rewrite)


def _function_calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    """The `function` objects of a tool_calls step, or of a step delta."""
    delta = step.get("delta")
    details = (delta if isinstance(delta, dict) else step).get("step_details")
    calls = details.get("tool_calls") if isinstance(details, dict) else None
    functions = [c.get("function") for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []
    return [f for f in functions if isinstance(f, dict)]


@fault(
    "usage-reported-while-running",
    "Runs report token usage from the start (counted as they go) instead of null until a terminal status.",
    "runs",
    {"RESP-SCHEMA-001", "STREAM-SCHEMA-001"},
)
def _live_usage(key: str) -> Fault:
    def count(run: dict[str, Any]) -> None:
        if run.get("status") in ("queued", "in_progress", "requires_action", "cancelling") and run.get("usage") is None:
            run["usage"] = {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}

    return _everywhere("thread.run", change=count)(key)


@fault(
    "completed-without-completed-at",
    "A completed run carries `completed_at: null` (the column is never written on completion).",
    "runs",
    {"RESP-SCHEMA-001", "STREAM-SCHEMA-001"},
)
def _no_completed_at(key: str) -> Fault:
    def forget(run: dict[str, Any]) -> None:
        if run.get("status") == "completed":
            run["completed_at"] = None

    return _everywhere("thread.run", change=forget)(key)


@fault(
    "null-ids-as-empty-strings",
    'Messages carry `run_id: ""` and `assistant_id: ""` where there is none (a language\'s zero-value '
    "string serialised instead of null).",
    "threads",
    {"RESP-SCHEMA-001"},
)
def _empty_ids(key: str) -> Fault:
    def zero(message: dict[str, Any]) -> None:
        for name in ("run_id", "assistant_id"):
            if message.get(name) is None:
                message[name] = ""

    return on_objects("thread.message", zero)(key)


@fault(
    "user-messages-credited-to-the-assistant",
    "Once a thread has a run, reading its messages credits the user's messages to the run's assistant and run "
    "(a join on the thread that should have been on the message): their assistant_id and run_id change.",
    "threads",
    {"RESP-IDENTITY-001"},
)
def _credited(key: str) -> Fault:
    runs: dict[str, tuple[str, str]] = {}  # thread id → (assistant id, run id) of its latest run

    def change(req: Req, res: Res) -> None:
        if req.method == "POST" and res.status == 200:
            for item in _runs_in(res):
                if isinstance(item.get("thread_id"), str):
                    runs[item["thread_id"]] = (str(item.get("assistant_id")), str(item.get("id")))
            return
        if req.method != "GET" or "/messages" not in req.path:
            return

        def credit(message: dict[str, Any]) -> None:
            if message.get("role") == "user" and message.get("thread_id") in runs:
                message["assistant_id"], message["run_id"] = runs[message["thread_id"]]

        rewrite_objects(res, "thread.message", credit)

    return after(change)(key)


@fault(
    "tool-outputs-blank-before-submit",
    "A tool call's `output` is an empty string from the moment the step is created (a language's zero-value "
    "string), where the documentation says null until the outputs are submitted.",
    "runs",
    {"RUN-TOOL-003"},
)
def _blank_outputs(key: str) -> Fault:
    def blank(step: dict[str, Any]) -> None:
        for function in _function_calls(step):
            if function.get("output") is None:
                function["output"] = ""

    return _everywhere("thread.run.step", "thread.run.step.delta", change=blank)(key)


@fault(
    "submitted-outputs-not-kept",
    "The submitted tool outputs reach the model but are never written to the run step: each call's `output` "
    "stays null after submit_tool_outputs.",
    "runs",
    {"RUN-TOOL-003"},
)
def _outputs_not_kept(key: str) -> Fault:
    def forget(step: dict[str, Any]) -> None:
        for function in _function_calls(step):
            function["output"] = None

    return _everywhere("thread.run.step", "thread.run.step.delta", change=forget)(key)


@fault(
    "assistants-listed-without-instructions",
    "listAssistants serves a lighter projection of each assistant: `instructions` is null and `tools` empty in "
    "lists (the columns a summary query leaves out), while getAssistant shows them.",
    "lifecycle",
    {"ASST-CRUD-004"},
)
def _listed_light(key: str) -> Fault:
    def lighten(assistant: dict[str, Any]) -> None:
        assistant["instructions"], assistant["tools"] = None, []

    def rewrite(req: Req, res: Res) -> None:
        if req.method == "GET" and req.path == "/v1/assistants":
            rewrite_objects(res, "assistant", lighten)

    return after(rewrite)(key)


@fault(
    "deletion-confirmed-with-a-new-id",
    "A deletion is confirmed with a freshly generated id of the same kind (the server serialises a new "
    "`…deleted` object instead of echoing the id it deleted), for assistants, threads and messages alike.",
    "lifecycle",
    {"RESP-ID-001"},
)
def _deleted_new_id(key: str) -> Fault:
    def renew(item: dict[str, Any]) -> None:
        if isinstance(item.get("id"), str):
            prefix = item["id"].split("_", 1)[0] if "_" in item["id"] else "obj"
            item["id"] = f"{prefix}_{uuid.uuid4().hex[:24]}"

    def rewrite(req: Req, res: Res) -> None:
        if req.method == "DELETE":
            for kind in ("assistant.deleted", "thread.deleted", "thread.message.deleted"):
                rewrite_objects(res, kind, renew)

    return after(rewrite)(key)


@fault(
    "modify-run-ignores-metadata",
    "modifyRun answers 200 with the run as it was: the metadata sent is never written (an endpoint wired up "
    "only so that clients do not get a 404).",
    "runs",
    {"RUN-MODIFY-001"},
)
def _modify_run_noop(key: str) -> Fault:
    def ignore(req: Req) -> None:
        body = json_post(req, RUN)
        if body is not None and "metadata" in body:
            set_json_body(req, {})

    return before(ignore)(key)


def _run_request(req: Req) -> dict[str, Any] | None:
    """The body of a createRun or createThreadAndRun request."""
    return json_post(req, RUNS) or json_post(req, "/v1/threads/runs")


@fault(
    "run-overrides-ignored",
    "A run always uses the assistant's model, instructions and tools: the values a run request sends in their "
    "place are dropped (a server that copies the assistant and never reads the request's settings).",
    "runs",
    {"RUN-SETTINGS-001"},
)
def _overrides_ignored(key: str) -> Fault:
    def drop(req: Req) -> None:
        body = _run_request(req)
        if body is not None and any(name in body for name in ("model", "instructions", "tools")):
            set_json_body(req, {k: v for k, v in body.items() if k not in ("model", "instructions", "tools")})

    return before(drop)(key)


@fault(
    "run-settings-not-inherited",
    "A run that names no instructions or tools of its own runs with none (blank instructions, no tools) instead "
    "of the assistant's: a gateway that passes the request through without reading the assistant.",
    "runs",
    {"RUN-SETTINGS-001"},
)
def _not_inherited(key: str) -> Fault:
    def blank(req: Req) -> None:
        body = _run_request(req)
        if body is not None and (body.get("instructions") is None or body.get("tools") is None):
            instructions = body.get("instructions")
            tools = body.get("tools")
            set_json_body(
                req, {**body, "instructions": instructions or "", "tools": tools if tools is not None else []}
            )

    return before(blank)(key)


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


@fault(
    "message-delete-is-a-no-op",
    "deleteMessage answers `deleted: true` but the message stays.",
    "threads",
    {"THREAD-001"},
)
def _message_delete_noop(key: str) -> Fault:
    def pretend(req: Req) -> Res | None:
        found = MESSAGE.match(req.path)
        if found and req.method == "DELETE":
            message_id = req.path.rsplit("/", 1)[1]
            return answer(200, {"id": message_id, "object": "thread.message.deleted", "deleted": True})
        return None

    return before(pretend)(key)


@fault(
    "message-modify-unimplemented",
    "modifyMessage is not implemented and answers 404 for every message.",
    "threads",
    {"RESP-ROUTE-002"},
)
def _message_modify_404(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        if req.method == "POST" and MESSAGE.match(req.path):
            return error(404, "No message found.", None)
        return None

    return before(refuse)(key)


@fault(
    "thread-modify-unimplemented",
    "modifyThread is not implemented and answers 404 for every thread.",
    "threads",
    {"THREAD-001"},
)
def _thread_modify_404(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        found = THREAD.match(req.path)
        if req.method == "POST" and found and found.group(1) != "runs":
            return error(404, f"No thread found with id '{found.group(1)}'.", None)
        return None

    return before(refuse)(key)


@fault(
    "message-delete-not-routed",
    "deleteMessage has no route: every DELETE of a message answers 405 Method Not Allowed, a web "
    "framework's default (seen on a Node middleware).",
    "threads",
    {"RESP-ROUTE-002"},
)
def _message_delete_405(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        if req.method == "DELETE" and MESSAGE.match(req.path):
            return Res(405, {"content-type": "text/plain", "allow": "GET, POST"}, b"Method Not Allowed")
        return None

    return before(refuse)(key)


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


@fault(
    "usage-null-when-done",
    "Runs and run steps keep `usage: null` after they end: the server never counts tokens.",
    "runs",
    set(),
    warns={"RUN-USAGE-001"},
)
def _usage_never_reported(key: str) -> Fault:
    def forget(item: dict[str, Any]) -> None:
        item["usage"] = None

    def rewrite(req: Req, res: Res) -> None:
        if res.headers.get("content-type", "").startswith("text/event-stream"):
            frames = sse.parse(res.body)
            for frame in frames:
                data = frame.json() if (frame.event or "").startswith("thread.run.") else None
                if isinstance(data, dict) and "usage" in data:
                    data["usage"] = None
                    frame.set_json(data)
            res.body = sse.serialise(frames)
            return
        rewrite_objects(res, "thread.run", forget)
        rewrite_objects(res, "thread.run.step", forget)

    return after(rewrite)(key)

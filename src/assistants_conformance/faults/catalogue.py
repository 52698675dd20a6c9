"""The named contract defects: each a realistic mistake an implementer makes, and the checks that must catch it.

`expects` is the exact set of MUST checks that fail when the default run meets the fault, and
`warns` the SHOULD checks that warn: the detection matrix holds the suite to both, so a fault
that starts firing a different check (or none) is a visible change. `phase` says which part of
the run can see the defect: `scenarios` faults are found without generated requests; the
`properties` ones only by the Schemathesis phase.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistants_conformance.faults import sse
from assistants_conformance.faults.middleware import Fault, Req, Res, answer, error, set_json, set_json_body
from assistants_conformance.faults.sse import Frame

ASSISTANT = re.compile(r"^/v1/assistants/([^/]+)$")
THREAD = re.compile(r"^/v1/threads/([^/]+)$")
RUN = re.compile(r"^/v1/threads/([^/]+)/runs/([^/]+)$")
MESSAGE = re.compile(r"^/v1/threads/[^/]+/messages/[^/]+$")
RUNS = re.compile(r"^/v1/threads/([^/]+)/runs$")
UNKNOWN_ASSISTANT = "asst_conformance_does_not_exist"


@dataclass(frozen=True)
class FaultSpec:
    name: str
    summary: str
    category: str
    build: Callable[[str], Fault] = field(repr=False)
    expects: frozenset[str] = frozenset()
    warns: frozenset[str] = frozenset()
    phase: str = "scenarios"

    def make(self, api_key: str) -> Fault:
        """A fresh fault (faults that remember objects keep that state per server)."""
        fault = self.build(api_key)
        fault.name = self.name
        return fault


FAULTS: dict[str, FaultSpec] = {}


def fault(
    name: str, summary: str, category: str, expects: set[str], warns: set[str] | None = None, phase: str = "scenarios"
) -> Callable[[Callable[[str], Fault]], Callable[[str], Fault]]:
    def register(build: Callable[[str], Fault]) -> Callable[[str], Fault]:
        assert name not in FAULTS, name
        FAULTS[name] = FaultSpec(name, summary, category, build, frozenset(expects), frozenset(warns or ()), phase)
        return build

    return register


def before(fn: Callable[[Req], Res | None]) -> Callable[[str], Fault]:
    return lambda key: Fault("", before=fn)


def after(fn: Callable[[Req, Res], None]) -> Callable[[str], Fault]:
    return lambda key: Fault("", after=fn)


def _body(res: Res) -> Any:
    return res.json() if res.headers.get("content-type", "").startswith("application/json") else None


def _rewrite_objects(res: Res, kind: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change` to every object of `kind` in a JSON answer (alone or in a list page)."""
    body = _body(res)
    if not isinstance(body, dict):
        return
    items = body.get("data") if body.get("object") == "list" else [body]
    touched = False
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("object") == kind:
            change(item)
            touched = True
    if touched:
        set_json(res, body)


def _on_objects(kind: str, change: Callable[[dict[str, Any]], None]) -> Callable[[str], Fault]:
    return after(lambda req, res: _rewrite_objects(res, kind, change))


def _stream(edit: Callable[[Req, list[Frame]], list[Frame] | bytes | None]) -> Callable[[str], Fault]:
    """A fault on event streams: `edit` changes the frames in place, or returns new frames or raw bytes."""

    def rewrite(req: Req, res: Res) -> None:
        if not res.headers.get("content-type", "").startswith("text/event-stream"):
            return
        frames = sse.parse(res.body)
        edited = edit(req, frames)
        res.body = edited if isinstance(edited, bytes) else sse.serialise(edited if edited is not None else frames)

    return after(rewrite)


def _json_post(req: Req, path: str | re.Pattern[str]) -> dict[str, Any] | None:
    """The request's JSON object body when it is a POST to `path`."""
    matches = path.match(req.path) if isinstance(path, re.Pattern) else req.path == path
    body = req.json()
    return body if req.method == "POST" and matches and isinstance(body, dict) else None


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
    return _on_objects("assistant", lambda a: a.pop("created_at", None))(key)


@fault("wrong-object-value", 'Assistants say `object: "assistants"`.', "schema", {"RESP-SCHEMA-001"})
def _wrong_object(key: str) -> Fault:
    def change(res: Res) -> None:
        body = _body(res)
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
    return _on_objects("thread", lambda t: t.update(created_at="2024-01-01T00:00:00Z"))(key)


@fault("null-tools", "An assistant without tools answers `tools: null` instead of `[]`.", "schema", {"RESP-SCHEMA-001"})
def _null_tools(key: str) -> Fault:
    return _on_objects("assistant", lambda a: a.update(tools=a["tools"] or None))(key)


@fault(
    "legacy-v1-assistant",
    "Assistants in the v1 shape: `file_ids` and a `retrieval` tool instead of `file_search`.",
    "schema",
    {"RESP-SCHEMA-001"},
)
def _legacy_v1(key: str) -> Fault:
    def change(assistant: dict[str, Any]) -> None:
        assistant["file_ids"] = []
        assistant.pop("tool_resources", None)
        assistant["tools"] = [
            {"type": "retrieval"} if t.get("type") == "file_search" else t for t in assistant["tools"]
        ]

    return _on_objects("assistant", change)(key)


@fault(
    "list-without-has-more",
    "List envelopes leave out `has_more`.",
    "pagination",
    {"RESP-SCHEMA-001", "PAGE-001", "PAGE-003"},
)
def _no_has_more(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = _body(res)
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
        body = _body(res)
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
@fault("create-ignores-a-field", "createAssistant drops `temperature` silently.", "assistants", {"ASST-CRUD-001"})
def _drop_temperature(key: str) -> Fault:
    def drop(req: Req) -> None:
        body = _json_post(req, "/v1/assistants")
        if body is not None and body.get("temperature") == 0.5:
            body.pop("temperature")
            set_json_body(req, body)

    return before(drop)(key)


@fault("get-answers-a-stale-copy", "getAssistant answers a stale cached copy.", "assistants", {"ASST-CRUD-002"})
def _stale_get(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if req.method == "GET" and ASSISTANT.match(req.path) and res.status == 200:
            body = res.json()
            body["description"] = "stale cached copy"
            set_json(res, body)

    return after(change)(key)


@fault(
    "modify-replaces-the-object",
    "modifyAssistant replaces the whole object: unsent fields are reset.",
    "assistants",
    {"ASST-CRUD-003"},
)
def _modify_replaces(key: str) -> Fault:
    reset = {"name": None, "instructions": None, "tools": [], "temperature": None, "top_p": None}

    def replace(req: Req) -> None:
        body = _json_post(req, ASSISTANT)
        if body is not None:
            set_json_body(req, {**reset, "response_format": None, **body})

    return before(replace)(key)


@fault("list-omits-an-item", "listAssistants leaves out a newly created assistant.", "assistants", {"ASST-CRUD-004"})
def _list_hides(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if req.method == "GET" and req.path == "/v1/assistants" and res.status == 200:
            body = res.json()
            body["data"] = [a for a in body["data"] if not str(a.get("name")).startswith("conformance: every")]
            body["first_id"] = body["data"][0]["id"] if body["data"] else None
            body["last_id"] = body["data"][-1]["id"] if body["data"] else None
            set_json(res, body)

    return after(change)(key)


@fault(
    "delete-leaves-it-retrievable",
    "deleteAssistant answers `deleted: true`, yet GET still returns the assistant.",
    "assistants",
    {"ASST-CRUD-005"},
)
def _soft_delete(key: str) -> Fault:
    seen: dict[str, Any] = {}
    deleted: dict[str, Any] = {}

    def serve_ghost(req: Req) -> Res | None:
        found = ASSISTANT.match(req.path)
        if found and req.method == "GET" and found.group(1) in deleted:
            return answer(200, deleted[found.group(1)])
        return None

    def remember(req: Req, res: Res) -> None:
        found = ASSISTANT.match(req.path)
        if found and req.method == "GET" and res.status == 200:
            seen[found.group(1)] = res.json()
        if found and req.method == "DELETE" and res.status == 200 and found.group(1) in seen:
            deleted[found.group(1)] = seen[found.group(1)]

    return Fault("", before=serve_ghost, after=remember)


@fault(
    "delete-is-a-no-op",
    "deleteAssistant answers `deleted: true` without deleting anything.",
    "assistants",
    {"ASST-CRUD-005", "ASST-CRUD-006", "PROP-GONE-001"},
    phase="properties",  # the stateful phase finds it too (Schemathesis' use_after_free)
)
def _noop_delete(key: str) -> Fault:
    def pretend(req: Req) -> Res | None:
        found = ASSISTANT.match(req.path)
        if found and req.method == "DELETE" and found.group(1) != UNKNOWN_ASSISTANT:
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


@fault("unknown-id-is-400", "An unknown assistant id answers 400 instead of 404.", "assistants", {"ASST-CRUD-007"})
def _unknown_400(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        return error(400, "invalid id") if req.path.endswith(f"/assistants/{UNKNOWN_ASSISTANT}") else None

    return before(refuse)(key)


# ----------------------------------------------------------------------------- threads and messages
@fault("thread-survives-delete", "A deleted thread stays retrievable.", "threads", {"THREAD-001"})
def _thread_survives(key: str) -> Fault:
    seen: dict[str, Any] = {}
    deleted: dict[str, Any] = {}

    def serve_ghost(req: Req) -> Res | None:
        found = THREAD.match(req.path)
        if found and req.method == "GET" and found.group(1) in deleted:
            return answer(200, deleted[found.group(1)])
        return None

    def remember(req: Req, res: Res) -> None:
        found = THREAD.match(req.path)
        if found and req.method == "GET" and res.status == 200:
            seen[found.group(1)] = res.json()
        if found and req.method == "DELETE" and res.status == 200 and found.group(1) in seen:
            deleted[found.group(1)] = seen[found.group(1)]

    return Fault("", before=serve_ghost, after=remember)


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
    "`limit` 0 and 101 are served with the default page size.",
    "pagination",
    {"PAGE-005"},
)
def _limit_range(key: str) -> Fault:
    return _strip_query("limit", lambda v: v in ("0", "101"))(key)


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
    {"PAGE-001", "PAGE-003", "PAGE-006", "THREAD-001"},
    warns={"PAGE-004"},
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
        body = _body(res)
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
        body = _body(res)
        if req.method == "GET" and isinstance(body, dict) and body.get("object") == "list" and body["data"]:
            body["has_more"] = len(body["data"]) == int(req.query.get("limit", 20))
            set_json(res, body)

    return after(change)(key)


@fault(
    "after-ignored",
    "`after` is ignored in ascending order: every page starts from the beginning.",
    "pagination",
    {"PAGE-001"},
)
def _after_ignored(key: str) -> Fault:
    def change(req: Req) -> None:
        if req.method == "GET" and req.path.endswith("/messages") and req.query.get("order") == "asc":
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
        body = _body(res)
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
@fault("boundary-name-refused", "A name of exactly 256 characters is refused.", "validation", {"VALID-001"})
def _off_by_one(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        body = _json_post(req, "/v1/assistants")
        if body is not None and len(str(body.get("name") or "")) == 256:
            return error(400, "name too long", "name")
        return None

    return before(refuse)(key)


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


@fault("temperature-3-accepted", "A temperature above 2 is clamped instead of refused.", "validation", {"VALID-002"})
def _temperature_clamped(key: str) -> Fault:
    def clamp(req: Req) -> None:
        body = req.json()
        value = body.get("temperature") if req.method == "POST" and isinstance(body, dict) else None
        if isinstance(value, int | float) and value > 2:
            body["temperature"] = 2
            set_json_body(req, body)

    return before(clamp)(key)


@fault("unknown-field-accepted", "Unknown request fields are ignored instead of refused.", "validation", {"VALID-005"})
def _unknown_field(key: str) -> Fault:
    def drop(req: Req) -> None:
        body = req.json()
        if isinstance(body, dict) and "conformance_unknown_field" in body:
            body.pop("conformance_unknown_field")
            set_json_body(req, body)

    return before(drop)(key)


@fault("no-param-on-400", "400 answers never name the offending field.", "validation", set(), warns={"VALID-003"})
def _no_param(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = _body(res)
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
        body = _json_post(req, RUNS)
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


@fault("cancel-refused", "cancelRun is refused with 400.", "runs", {"RUN-CANCEL-001"})
def _cancel_refused(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        return error(400, "runs cannot be cancelled") if req.path.endswith("/cancel") else None

    return before(refuse)(key)


@fault(
    "busy-thread-accepts-runs",
    "A second run is started on a thread whose run is still active.",
    "runs",
    {"RUN-BUSY-001"},
)
def _busy_accepts(key: str) -> Fault:
    active: dict[str, Any] = {}

    def change(req: Req, res: Res) -> None:
        body = _body(res)
        found = RUNS.match(req.path)
        if req.method != "POST" or not found or not isinstance(body, dict):
            return
        if res.status == 200 and body.get("object") == "thread.run":
            active[found.group(1)] = body
        elif res.status == 400 and body["error"].get("code") == "thread_busy" and found.group(1) in active:
            res.status = 200
            set_json(res, {**active[found.group(1)], "id": "run_second", "status": "queued"})

    return after(change)(key)


@fault(
    "polled-run-never-finishes",
    "A polled run stays in_progress for ever.",
    "runs",
    {"RUN-POLL-001", "RUN-SNAP-001"},
)
def _never_finishes(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = _body(res)
        if req.method == "GET" and RUN.match(req.path) and isinstance(body, dict) and body.get("tool_choice") == "none":
            body.update(status="in_progress", completed_at=None, usage=None, expires_at=body["created_at"] + 600)
            set_json(res, body)

    return after(change)(key)


@fault(
    "stream-as-json",
    "`stream: true` answers a JSON run object instead of an event stream.",
    "runs",
    {"RUN-STREAM-001", "RUN-TOOL-001"},
)
def _stream_as_json(key: str) -> Fault:
    def unstream(req: Req) -> None:
        body = req.json()
        if req.method == "POST" and isinstance(body, dict) and body.get("stream") is True:
            body["stream"] = False
            set_json_body(req, body)

    return before(unstream)(key)


# ----------------------------------------------------------------------------- event streams: framing
@fault("done-missing", "The stream ends without the `done` event.", "sse", {"STREAM-DONE-001"})
def _done_missing(key: str) -> Fault:
    return _stream(lambda req, frames: [f for f in frames if f.event != "done"])(key)


@fault(
    "done-not-last",
    "`done` is sent before the run's final event.",
    "sse",
    {"STREAM-DONE-002", "STREAM-RUN-003", "RUN-SNAP-001", "RUN-TOOL-001"},
)
def _done_not_last(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        if len(frames) > 1 and frames[-1].event == "done":
            frames[-2], frames[-1] = frames[-1], frames[-2]

    return _stream(edit)(key)


@fault("done-with-other-data", "`done` carries `{}` instead of `[DONE]`.", "sse", {"STREAM-DONE-001"})
def _done_data(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            if frame.event == "done":
                frame.data = "{}"

    return _stream(edit)(key)


@fault("data-not-json", "A delta's data is cut short: not JSON.", "sse", {"SSE-JSON-001"})
def _data_not_json(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.step.in_progress")
        if at is not None:
            frames[at].data = frames[at].data[: len(frames[at].data) // 2]

    return _stream(edit)(key)


@fault(
    "blank-line-missing",
    "Two frames run together: the blank line between them is missing.",
    "sse",
    {"SSE-FRAME-001", "SSE-JSON-001", "STREAM-ITEM-002", "STREAM-ITEM-004"},
)
def _blank_line_missing(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> bytes:
        raw = sse.serialise(frames).decode()
        return raw.replace(
            "\n\nevent: thread.run.step.in_progress\n", "\nevent: thread.run.step.in_progress\n", 1
        ).encode()

    return _stream(edit)(key)


@fault("frames-without-event", "Step frames carry only `data:`, no `event:` line.", "sse", {"SSE-EVENT-001"})
def _no_event_name(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            if frame.event == "thread.run.step.in_progress":
                frame.event = None

    return _stream(edit)(key)


@fault("invalid-utf8", "A delta's text is sent as Latin-1 bytes.", "sse", {"SSE-UTF8-001", "STREAM-FOLD-001"})
def _invalid_utf8(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> bytes:
        raw = sse.serialise(frames)
        return raw.replace(b'"You said: ', b'"You said\xe9 ', 1)

    return _stream(edit)(key)


@fault(
    "stream-ends-mid-frame",
    "The last frame is not terminated by a blank line.",
    "sse",
    {"SSE-EOF-001", "STREAM-DONE-001"},
)
def _ends_mid_frame(key: str) -> Fault:
    return _stream(lambda req, frames: sse.serialise(frames)[:-1])(key)


@fault(
    "event-without-data",
    "`thread.run.step.in_progress` frames carry no `data:` line.",
    "sse",
    {"SSE-FIELD-002"},
)
def _event_without_data(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> bytes:
        raw = sse.serialise(frames).decode()
        return re.sub(r"(event: thread\.run\.step\.in_progress\n)data: [^\n]*\n", r"\1", raw).encode()

    return _stream(edit)(key)


@fault(
    "nonstandard-sse-field",
    "Frames carry a non-standard `type:` field next to `event:`.",
    "sse",
    set(),
    warns={"SSE-FIELD-001"},
)
def _nonstandard_field(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> bytes:
        raw = sse.serialise(frames).decode()
        return raw.replace("event: thread.run.created\n", "event: thread.run.created\ntype: run\n").encode()

    return _stream(edit)(key)


# ----------------------------------------------------------------------------- event streams: the conversation
@fault(
    "run-completed-before-message",
    "`thread.run.completed` arrives before the message it produced completes.",
    "stream",
    {"STREAM-RUN-005"},
)
def _run_before_message(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        run, message = sse.index(frames, "thread.run.completed"), sse.index(frames, "thread.message.completed")
        if run is not None and message is not None:
            frames.insert(message, frames.pop(run))

    return _stream(edit)(key)


@fault(
    "delta-for-unknown-message",
    "A `thread.message.delta` names a message the stream never created.",
    "stream",
    {"STREAM-ITEM-002"},
)
def _unknown_delta(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.message.delta")
        if at is not None:
            frames.insert(at, Frame("thread.message.delta", frames[at].data))
            data = frames[at].json()
            data["id"] = "msg_never_created"
            frames[at].set_json(data)

    return _stream(edit)(key)


@fault(
    "deltas-do-not-add-up",
    "A text delta is lost: the deltas do not add up to the completed message.",
    "stream",
    {"STREAM-FOLD-001"},
)
def _lost_delta(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.message.delta")
        if at is not None:
            del frames[at]

    return _stream(edit)(key)


@fault(
    "tool-arguments-do-not-add-up",
    "A tool call's argument deltas differ from the arguments the run asks for.",
    "stream",
    {"STREAM-FOLD-002", "RUN-SNAP-001"},
)
def _tool_arguments(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            data = frame.json() if frame.event == "thread.run.step.delta" else None
            calls = (((data or {}).get("delta") or {}).get("step_details") or {}).get("tool_calls") or []
            for call in calls:
                if call.get("function", {}).get("arguments"):
                    call["function"]["arguments"] = call["function"]["arguments"].upper()
                    frame.set_json(data)
                    return

    return _stream(edit)(key)


@fault(
    "event-disagrees-with-status",
    "`thread.run.in_progress` carries `status: queued`.",
    "stream",
    {"STREAM-STATUS-001"},
)
def _event_status(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.in_progress")
        if at is not None:
            data = frames[at].json()
            data["status"] = "queued"
            frames[at].set_json(data)

    return _stream(edit)(key)


@fault(
    "run-status-goes-back",
    "After `in_progress` the run is announced `queued` again.",
    "stream",
    {"STREAM-RUN-002"},
)
def _status_back(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        queued, progress = sse.index(frames, "thread.run.queued"), sse.index(frames, "thread.run.in_progress")
        if queued is not None and progress is not None:
            frames.insert(progress + 1, Frame("thread.run.queued", frames[queued].data))

    return _stream(edit)(key)


@fault("two-terminal-events", "The run completes twice.", "stream", {"STREAM-RUN-003", "STREAM-RUN-002"})
def _two_terminals(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.completed")
        if at is not None:
            frames.insert(at, Frame("thread.run.completed", frames[at].data))

    return _stream(edit)(key)


@fault(
    "message-chunk-event",
    "Text arrives as `thread.message.chunk` (not a documented event) instead of `thread.message.delta`.",
    "stream",
    {"STREAM-FOLD-001"},
    warns={"STREAM-UNKNOWN-001"},
)
def _message_chunk(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            if frame.event == "thread.message.delta":
                frame.event = "thread.message.chunk"

    return _stream(edit)(key)


@fault(
    "delta-after-message-completed",
    "A text delta arrives after its message completed.",
    "stream",
    {"STREAM-ITEM-001"},
)
def _late_delta(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        delta, done = sse.index(frames, "thread.message.delta"), sse.index(frames, "thread.message.completed")
        if delta is not None and done is not None:
            late = Frame("thread.message.delta", frames[delta].data)
            data = late.json()
            data["delta"]["content"][0]["text"]["value"] = ""  # adds nothing: only the order is wrong
            late.set_json(data)
            frames.insert(done + 1, late)

    return _stream(edit)(key)


@fault(
    "requires-action-without-tool-calls",
    "A run pauses in `requires_action` with an empty list of tool calls.",
    "stream",
    {"STREAM-ACTION-001", "STREAM-SCHEMA-001", "RUN-SNAP-001", "RUN-STREAM-001", "RUN-TOOL-001", "RUN-TOOL-002"},
)
def _action_without_calls(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.requires_action")
        if at is not None:
            data = frames[at].json()
            data["required_action"]["submit_tool_outputs"]["tool_calls"] = []
            frames[at].set_json(data)

    return _stream(edit)(key)


@fault(
    "submit-stream-restarts-the-run",
    "The submit_tool_outputs stream starts over with `thread.run.created` instead of resuming.",
    "stream",
    {"STREAM-RUN-001"},
)
def _submit_restarts(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        if not req.path.endswith("/submit_tool_outputs") or not frames:
            return
        first = next(
            (f for f in frames if f.event and f.event.startswith("thread.run.") and "step" not in f.event), None
        )
        if first is not None:
            data = copy.deepcopy(first.json())
            data.update(status="queued", started_at=None, required_action=None)
            frames.insert(0, Frame("thread.run.created", ""))
            frames[0].set_json(data)

    return _stream(edit)(key)


@fault(
    "thread-created-missing",
    "A thread-and-run stream never announces its thread.",
    "stream",
    {"STREAM-THREAD-001"},
)
def _no_thread_created(key: str) -> Fault:
    return _stream(lambda req, frames: [f for f in frames if f.event != "thread.created"])(key)


@fault(
    "ids-disagree",
    "A streamed message names a different thread than its run.",
    "stream",
    {"STREAM-IDS-001"},
)
def _ids_disagree(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.message.in_progress")
        if at is not None:
            data = frames[at].json()
            data["thread_id"] = "thread_elsewhere"
            frames[at].set_json(data)

    return _stream(edit)(key)


@fault(
    "step-names-unknown-message",
    "A message_creation step points at a message the stream never created.",
    "stream",
    {"STREAM-ITEM-004", "RUN-SNAP-001"},
)
def _step_unknown_message(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            data = frame.json() if (frame.event or "").startswith("thread.run.step.") else None
            details = (data or {}).get("step_details") or {}
            if details.get("type") == "message_creation":
                details["message_creation"]["message_id"] = "msg_never_created"
                frame.set_json(data)

    return _stream(edit)(key)


@fault(
    "event-data-off-schema",
    "`thread.run.created` data has no `status`.",
    "stream",
    {"STREAM-SCHEMA-001", "STREAM-RUN-001"},
)
def _event_off_schema(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.created")
        if at is not None:
            data = frames[at].json()
            data.pop("status", None)
            frames[at].set_json(data)

    return _stream(edit)(key)


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
        body = _json_post(req, "/v1/assistants")
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
        body = _json_post(req, "/v1/assistants")
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
        body = _json_post(req, "/v1/threads")
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
    {"THREAD-001"},
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


def names() -> list[str]:
    return list(FAULTS)


def get(name: str) -> FaultSpec:
    return FAULTS[name]


# Checks no fault here reaches, each proven by its own test instead: a route the suite itself gets
# wrong (RESP-ROUTE-001, test_validate_http), a line over 16 MiB (SSE-LINE-001, test_cli_validate),
# a server `error` event and interleaved message deltas (STREAM-ERROR-001, STREAM-ITEM-003:
# test_validate_stream; the reference server emits neither, so no rewrite of its streams can).
MUST_BE_SHOWN_ELSEWHERE = frozenset({"RESP-ROUTE-001", "SSE-LINE-001", "STREAM-ERROR-001", "STREAM-ITEM-003"})

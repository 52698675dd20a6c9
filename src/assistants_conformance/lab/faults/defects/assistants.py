"""Defects in the assistants lifecycle: create, read, modify, list, delete."""

from __future__ import annotations

import uuid
from typing import Any

from assistants_conformance.lab.faults.defects.shared import answer_gets_from
from assistants_conformance.lab.faults.middleware import Fault, Req, Res, answer, set_json, set_json_body
from assistants_conformance.lab.faults.registry import (
    ASSISTANT,
    after,
    before,
    fault,
    json_answer,
    json_post,
    on_objects,
    rewrite_objects,
)


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

    return Fault("", before=answer_gets_from(ASSISTANT, cached), after=remember)


@fault(
    "modify-replaces-the-object",
    "modifyAssistant replaces the whole object: unsent fields are reset.",
    "assistants",
    {"ASST-CRUD-003"},
)
def _modify_replaces(key: str) -> Fault:
    reset: dict[str, Any] = {"name": None, "instructions": None, "tools": [], "temperature": None, "top_p": None}

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

    return Fault("", before=answer_gets_from(ASSISTANT, deleted), after=remember)


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

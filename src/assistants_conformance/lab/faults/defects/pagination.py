"""Defects in list pages: cursors, order, limits, has_more."""

from __future__ import annotations

from typing import Any

from assistants_conformance.lab.faults.defects.shared import strip_query
from assistants_conformance.lab.faults.middleware import Fault, Req, Res, set_json
from assistants_conformance.lab.faults.registry import (
    after,
    before,
    fault,
    json_answer,
)


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


# ----------------------------------------------------------------------------- pagination
@fault(
    "limit-out-of-range-accepted",
    "A `limit` outside 1..100 (or not a number) is served with the default page size instead of refused.",
    "pagination",
    {"PAGE-005"},
)
def _limit_range(key: str) -> Fault:
    return strip_query("limit", lambda v: not (v.isascii() and v.isdigit() and 1 <= int(v) <= 100))(key)


@fault(
    "limit-ignored",
    "`limit` is ignored: every page has the default size.",
    "pagination",
    {"PAGE-001", "PAGE-005"},
    warns={"PAGE-004"},
)
def _limit_ignored(key: str) -> Fault:
    return strip_query("limit")(key)


@fault(
    "order-ignored",
    "`order` is ignored: lists always come newest first.",
    "pagination",
    {"PAGE-006"},  # the walks follow the server's own listing, so the one defect is reported once
)
def _order_ignored(key: str) -> Fault:
    return strip_query("order")(key)


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
    return strip_query("before")(key)


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

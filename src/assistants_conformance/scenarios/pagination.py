"""Cursor pagination invariants, on the messages of a thread the suite owns."""

from __future__ import annotations

from typing import Any

from assistants_conformance.context import Context

ITEMS = 5


def run(ctx: Context) -> None:
    thread = ctx.make_thread(*[f"page item {i}" for i in range(ITEMS)])
    if thread is None:
        raise RuntimeError("could not create a thread to paginate")
    url = f"/threads/{thread['id']}/messages"
    full = ctx.call("GET", url, params={"limit": 100, "order": "asc"})
    created = [m.get("id") for m in (full.json() or {}).get("data", [])]
    texts = [_text(m) for m in (full.json() or {}).get("data", [])]
    ctx.expect(
        "PAGE-006",
        texts == [f"page item {i}" for i in range(ITEMS)],
        f"order=asc does not list messages in creation order: {texts}",
        full,
    )
    default = ctx.call("GET", url)
    ctx.expect(
        "PAGE-006",
        [m.get("id") for m in (default.json() or {}).get("data", [])] == created[::-1],
        "the default order is not newest first (desc)",
        default,
    )
    for order, expected in (("asc", created), ("desc", created[::-1])):
        for limit in range(1, ITEMS + 1):
            walk(ctx, url, order, limit, expected)
    _before(ctx, url, created[::-1])
    _assistants(ctx)
    for bad in (0, 101):
        response = ctx.call("GET", url, params={"limit": bad})
        ctx.expect(
            "PAGE-005",
            response.status == 400 and ctx.envelope_ok(response),
            f"limit={bad} answered {response.status}; expected 400 with the error envelope",
            response,
        )


def _text(message: Any) -> str:
    try:
        return str(message["content"][0]["text"]["value"])
    except (KeyError, IndexError, TypeError):
        return ""


def walk(ctx: Context, url: str, order: str, limit: int, expected: list[str]) -> None:
    seen: list[str] = []
    after = None
    for _ in range(len(expected) + 2):
        params: dict[str, Any] = {"limit": limit, "order": order, **({"after": after} if after else {})}
        response = ctx.call("GET", url, params=params)
        body = response.json() or {}
        ids = [m.get("id") for m in body.get("data", []) if isinstance(m, dict)]
        where = f"order={order} limit={limit} after={after}"
        ctx.expect(
            "PAGE-002",
            body.get("first_id") == (ids[0] if ids else None) and body.get("last_id") == (ids[-1] if ids else None),
            f"{where}: first_id/last_id {body.get('first_id')}/{body.get('last_id')} do not match the page",
            response,
        )
        ctx.expect("PAGE-001", len(ids) <= limit, f"{where}: {len(ids)} items on a page of limit {limit}", response)
        seen += ids
        # Judge has_more by where this page ends in the true list, so that a cursor bug is
        # reported once (PAGE-001) rather than again as a has_more bug.
        end = expected.index(ids[-1]) + 1 if ids and ids[-1] in expected else len(seen)
        remaining = len(expected) - end
        ctx.expect(
            "PAGE-003",
            body.get("has_more") is (remaining > 0),
            f"{where}: has_more is {body.get('has_more')} with {max(remaining, 0)} items still to come",
            response,
        )
        if not body.get("has_more") or not ids:
            break
        after = ids[-1]
    ctx.expect(
        "PAGE-001",
        seen == expected,
        f"order={order} limit={limit}: walking with `after` gave {len(seen)} items "
        f"({len(set(seen))} distinct) instead of the {len(expected)} in order",
    )


def _before(ctx: Context, url: str, desc: list[str]) -> None:
    """From page 3 (limit 2, desc), `before` its first item must give page 2 again (not page 1)."""
    page3 = ctx.call("GET", url, params={"limit": 2, "order": "desc", "after": desc[3]})
    first = (page3.json() or {}).get("first_id")
    back = ctx.call("GET", url, params={"limit": 2, "order": "desc", "before": first})
    ids = [m.get("id") for m in (back.json() or {}).get("data", [])]
    ctx.expect("PAGE-004", ids == desc[2:4], f"`before` the first id of page 3 gave {ids}; expected {desc[2:4]}", back)


def _assistants(ctx: Context) -> None:
    """The assistants list is shared with whatever else the account holds: walk it newest first,
    only as far as the suite's own five assistants, and check they come exactly once, in order."""
    ours = []
    for i in range(ITEMS):
        made = ctx.make_assistant(name=f"conformance: page {i}")
        if made is None:
            raise RuntimeError("could not create assistants to paginate")
        ours.append(made["id"])
    newest_first = ours[::-1]
    for limit in range(1, ITEMS + 1):
        seen: list[str] = []
        after = None
        for _ in range(ITEMS * 4):
            params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}
            response = ctx.call("GET", "/assistants", params=params)
            body = response.json() or {}
            ids = [a.get("id") for a in body.get("data", []) if isinstance(a, dict)]
            ctx.expect(
                "PAGE-002",
                body.get("first_id") == (ids[0] if ids else None) and body.get("last_id") == (ids[-1] if ids else None),
                f"assistants limit={limit}: first_id/last_id do not match the page",
                response,
            )
            ctx.expect(
                "PAGE-003",
                not (len(ids) < limit and body.get("has_more")),
                f"assistants limit={limit}: a short page ({len(ids)}) says has_more",
                response,
            )
            seen += [i for i in ids if i in ours]
            if len(seen) >= ITEMS or not body.get("has_more") or not ids:
                break
            after = ids[-1]
        ctx.expect(
            "PAGE-001",
            seen == newest_first,
            f"assistants limit={limit}: the suite's assistants came as {seen}, expected {newest_first} "
            "(each once, newest first)",
        )

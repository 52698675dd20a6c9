"""Cursor pagination invariants, on the messages of a thread the suite owns.

Order is judged only where timestamps decide it: objects created in the same second may be listed
in any order the server likes (the contract orders by `created_at` and says nothing of ties), so
the walk compares pages with the server's own full listing in that order, and PAGE-006 judges
that listing against the timestamps and the creation order between distinct seconds.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from assistants_conformance.checks.catalogue import judged_in
from assistants_conformance.context import Context
from assistants_conformance.findings import shown

ITEMS = 5
CHECKS = judged_in("pagination")


def run(ctx: Context) -> None:
    began = time.monotonic()
    thread = ctx.make_thread(*[f"page item {i}" for i in range(ITEMS - 1)])
    if thread is None:
        ctx.cannot(CHECKS, "createThread with four messages failed, so there was nothing of ours to paginate")
        _assistants(ctx)
        return
    url = f"/threads/{thread['id']}/messages"
    # The last item is created in a later second than the others, so that its created_at differs
    # on any server: there, at least, order is decided by timestamps and can be judged. The wait
    # ends when the thread's own second is over by our clock, and never lasts over a second.
    stamp = thread.get("created_at")
    at = stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else None
    skewed = at is None or abs(at - time.time()) > 2
    until = 1.05 if at is None or skewed else at + 1.02 - time.time()  # a skewed server clock: a whole second
    time.sleep(max(0.0, min(until, 1.05 - (time.monotonic() - began))))
    ctx.call("POST", url, json_body={"role": "user", "content": f"page item {ITEMS - 1}"})
    asc = ctx.call("GET", url, params={"limit": 100, "order": "asc"})
    items = asc.items()
    _judge_order(ctx, asc, items, "asc", [f"page item {i}" for i in range(ITEMS)])
    default = ctx.call("GET", url, params={"limit": 100})
    _judge_order(ctx, default, default.items(), "desc", [f"page item {i}" for i in range(ITEMS)][::-1])
    desc = ctx.call("GET", url, params={"limit": 100, "order": "desc"})
    orders = {"asc": asc.ids(), "desc": desc.ids()}
    if len(orders["asc"]) != ITEMS:
        ctx.expect(
            "PAGE-001",
            False,
            f"listMessages (limit 100) of a thread created with {ITEMS} messages gave {len(orders['asc'])}",
            asc,
        )
    for order, expected in orders.items():
        for limit in range(1, len(expected) + 1):
            walk(ctx, url, order, limit, expected)
    _before(ctx, url, orders["desc"])
    _assistants(ctx)
    for bad in (0, 101):
        response = ctx.call("GET", url, params={"limit": bad})
        ctx.expect(
            "PAGE-005",
            response.status == 400 and ctx.envelope_ok(response),
            f"limit={bad} {ctx.refusal(response, 400)}",
            response,
        )


def _text(message: Any) -> str:
    try:
        return str(message["content"][0]["text"]["value"])
    except (KeyError, IndexError, TypeError):
        return ""


def _stamp(item: dict[str, Any]) -> float | None:
    value = item.get("created_at")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _judge_order(ctx: Context, response: Any, items: list[dict[str, Any]], order: str, made: list[str]) -> None:
    """PAGE-006 on one full listing: sorted by created_at in `order`, and, between messages created in
    different seconds, in creation order. Ties are the server's to order; they are noted, not judged."""
    where = "order=asc" if order == "asc" else "the default order (desc)"
    found = [_stamp(i) for i in items]
    stamps = [s for s in found if s is not None]
    if not items or len(stamps) < len(found):
        return  # RESP-SCHEMA-001 reports a missing or non-numeric created_at; PAGE-001 a short list
    pairs = list(itertools.pairwise(stamps))
    sorted_ok = all(a <= b for a, b in pairs) if order == "asc" else all(a >= b for a, b in pairs)
    distinct = len(set(stamps)) >= 2  # one item, or one second for all: no order to judge
    if not distinct:
        ctx.cannot(("PAGE-006",), f"{where} listed {len(items)} item(s) sharing one created_at: no order to judge")
    ctx.expect(
        "PAGE-006",
        sorted_ok,
        f"{where} lists created_at {[int(s) for s in stamps if s is not None]}, not sorted {order}",
        response,
        evidence=distinct,
    )
    texts = [_text(i) for i in items]
    position = {text: n for n, text in enumerate(made)}
    known = [(position[t], s) for t, s in zip(texts, stamps, strict=True) if t in position]
    # Two messages whose created_at differ must appear in creation order for this `order`.
    misplaced = [
        (made[a], made[b])
        for (a, sa), (b, sb) in ((x, y) for n, x in enumerate(known) for y in known[n + 1 :])
        if sa != sb and a > b
    ]
    ctx.expect(
        "PAGE-006",
        not misplaced,
        f"{where}: {misplaced[0][1]!r} is listed after {misplaced[0][0]!r}, though their created_at differ and "
        f"{order} order puts it first"
        if misplaced
        else "",
        response,
        evidence=distinct,
    )
    if len(set(stamps)) < len(stamps) and not any("share a created_at" in n for n in ctx.notes):
        ctx.notes.append(
            f"pagination: {len(stamps) - len(set(stamps)) + 1} messages share a created_at second; their order "
            "among themselves is the server's choice and was not judged (the walks follow the server's own order)"
        )


def walk(ctx: Context, url: str, order: str, limit: int, expected: list[Any]) -> None:
    """Walk `url` with `after` at page size `limit`; `expected` is the server's own full listing.
    Only a walk over two items or more with a next page to reach is evidence for the walk's rules
    (a one-page walk of a short list cannot show a cursor or has_more wrong); any walk can fail them."""
    paged = len(expected) >= 2 and limit < len(expected)
    seen: list[Any] = []
    after = None
    for _ in range(len(expected) + 2):
        params: dict[str, Any] = {"limit": limit, "order": order, **({"after": after} if after else {})}
        response = ctx.call("GET", url, params=params)
        body = response.object()
        ids = response.ids()
        where = f"order={order} limit={limit} after={after or '(none)'}"
        ctx.expect(
            "PAGE-002",
            body.get("first_id") == (ids[0] if ids else None) and body.get("last_id") == (ids[-1] if ids else None),
            f"{where}: first_id {shown(body.get('first_id'))} and last_id {shown(body.get('last_id'))} are not the "
            f"ids of the page's first and last items ({shown(ids[0] if ids else None)}, "
            f"{shown(ids[-1] if ids else None)})",
            response,
            evidence=bool(ids),
        )
        ctx.expect(
            "PAGE-001",
            len(ids) <= limit,
            f"{where}: {len(ids)} items on a page of limit {limit}",
            response,
            evidence=paged,
        )
        seen += ids
        # Judge has_more by where this page ends in the true list, so that a cursor bug is
        # reported once (PAGE-001) rather than again as a has_more bug.
        end = expected.index(ids[-1]) + 1 if ids and ids[-1] in expected else len(seen)
        remaining = len(expected) - end
        ctx.expect(
            "PAGE-003",
            body.get("has_more") is (remaining > 0),
            f"{where}: has_more is {shown(body.get('has_more'))} with {max(remaining, 0)} items still to come",
            response,
            evidence=paged,
        )
        if not body.get("has_more") or not ids or not isinstance(ids[-1], str):
            break
        after = ids[-1]
    ctx.expect(
        "PAGE-001",
        seen == expected,
        f"order={order} limit={limit}: walking with `after` gave {len(seen)} items "
        f"({len(set(map(str, seen)))} distinct) instead of the {len(expected)} of the full listing, in its order",
        evidence=paged,
    )


def _before(ctx: Context, url: str, desc: list[Any]) -> None:
    """From page 3 (limit 2, desc), `before` its first item must give page 2 again (not page 1)."""
    if len(desc) < 4 or not all(isinstance(i, str) for i in desc):
        ctx.cannot(("PAGE-004",), "the thread's messages could not be listed in full, so there was no page 3")
        return
    page3 = ctx.call("GET", url, params={"limit": 2, "order": "desc", "after": desc[3]})
    first = page3.object().get("first_id")
    if not isinstance(first, str):
        ctx.cannot(("PAGE-004",), "page 3 had no first_id to walk back from")
        return
    back = ctx.call("GET", url, params={"limit": 2, "order": "desc", "before": first})
    ids = back.ids()
    ctx.expect("PAGE-004", ids == desc[2:4], f"`before` the first id of page 3 gave {ids}; expected {desc[2:4]}", back)


def _assistants(ctx: Context) -> None:
    """The assistants list is shared with whatever else the account holds: walk it newest first,
    only as far as the suite's own five assistants, and check they come exactly once, newest first
    by created_at (ties in any order, but the same order at every page size)."""
    ours: dict[str, float | None] = {}
    for i in range(ITEMS):
        made = ctx.make_assistant(name=f"conformance: page {i}")
        if made is None:
            ctx.notes.append("pagination: an assistant could not be created; the assistants list was not walked")
            return
        ours[made["id"]] = _stamp(made)
    first_walk: list[str] | None = None
    for limit in range(1, ITEMS + 1):
        seen: list[str] = []
        after = None
        for _ in range(ITEMS * 4):
            params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}
            response = ctx.call("GET", "/assistants", params=params)
            body = response.object()
            ids = response.ids()
            ctx.expect(
                "PAGE-002",
                body.get("first_id") == (ids[0] if ids else None) and body.get("last_id") == (ids[-1] if ids else None),
                f"assistants limit={limit}: first_id {shown(body.get('first_id'))} and last_id "
                f"{shown(body.get('last_id'))} are not the ids of the page's first and last items",
                response,
                evidence=bool(ids),
            )
            ctx.expect(
                "PAGE-003",
                not (len(ids) < limit and body.get("has_more")),
                f"assistants limit={limit}: a short page ({len(ids)}) says has_more",
                response,
                evidence=False,  # a short page without has_more shows nothing of a next page
            )
            seen += [i for i in ids if i in ours]
            if len(seen) >= ITEMS or not body.get("has_more") or not ids or not isinstance(ids[-1], str):
                break
            after = ids[-1]
        stamps = [ours[i] for i in seen]
        newest_first = all(a is None or b is None or a >= b for a, b in itertools.pairwise(stamps))
        ctx.expect(
            "PAGE-001",
            sorted(seen) == sorted(ours) and newest_first and first_walk in (None, seen),
            f"assistants limit={limit}: the suite's assistants came as {seen}; expected each of {list(ours)} once, "
            "newest first by created_at, in the same order at every page size",
        )
        first_walk = first_walk or seen

"""What a run leaves behind, and what earlier runs left: clean-up that reports what the server
holds, the tag search for objects a create stored without saying so, and --sweep.

Everything the run creates carries `metadata.conformance_run` (the run's tag). "Deleted" means a
delete answered 2xx (or the object was gone already) and a read-back answered 404 on a read
operation that answers objects; every object still there, or not provably gone, is listed with why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from assistants_conformance.context import TAG, Context
from assistants_conformance.errors import TargetUnreachable
from assistants_conformance.target import BudgetExhausted
from assistants_conformance.terminal import printable

_TAG_TIME = re.compile(r"^conf_(\d{9,11})_")


def sweep(ctx: Context, max_age: float, say: Callable[[str], None] | None) -> list[str]:
    """--sweep: delete assistants this tool tagged in other runs that started over `max_age` seconds
    ago (abandoned by a killed run). Younger ones may belong to a live run and are left alone, as
    is anything whose tag carries no time. Only assistants can be listed, so only they are swept."""
    swept: list[str] = []
    now = time.time()
    after: str | None = None
    for _ in range(20):  # at most 2,000 assistants looked at
        page = ctx.target.request("GET", "/assistants", params={"limit": 100, **({"after": after} if after else {})})
        for item in page.items():
            metadata = item.get("metadata")
            tag = metadata.get(TAG) if isinstance(metadata, dict) else None
            found = _TAG_TIME.match(tag) if isinstance(tag, str) and tag != ctx.run_id else None
            if not found or now - int(found.group(1)) < max_age or not isinstance(item.get("id"), str):
                continue
            try:
                gone = ctx.target.request("DELETE", f"/assistants/{quote(item['id'], safe='')}")
                what = "deleted" if gone.ok or gone.status == 404 else f"DELETE answered {gone.status}"
            except TargetUnreachable as exc:
                what = f"not deleted ({exc})"
            swept.append(f"{item['id']} (tag {tag}): {what}")
            if say is not None:
                say(
                    printable(
                        f"  swept {item['id']} (tag {tag}, {int((now - int(found.group(1))) // 60)} min old): {what}"
                    )
                )
        ids = page.ids()
        if not page.object().get("has_more") or not ids or not isinstance(ids[-1], str):
            break
        after = ids[-1]
    return swept


def left_before(ctx: Context, max_age: float, say: Callable[[str], None] | None) -> list[str]:
    """Say (cheaply: one page of assistants) how many assistants earlier runs of this tool left that
    are older than --sweep-age, and how to remove them; deletes nothing. Returns nothing swept."""
    try:
        page = ctx.target.request("GET", "/assistants", params={"limit": 100})
    except (TargetUnreachable, BudgetExhausted):
        return []
    now = time.time()
    old = []
    for item in page.items():
        metadata = item.get("metadata")
        tag = metadata.get(TAG) if isinstance(metadata, dict) else None
        found = _TAG_TIME.match(tag) if isinstance(tag, str) and tag != ctx.run_id else None
        if found and now - int(found.group(1)) >= max_age:
            old.append(tag)
    if old:
        more = " (in the newest hundred; there may be more)" if page.object().get("has_more") else ""
        line = (
            f"{len(old)} assistant(s) left by {len(set(old))} earlier run(s) of this tool, older than "
            f"{max_age:g} s, are still on the server{more}: `--sweep` deletes them"
        )
        ctx.notes.append(line)
        if say is not None:
            say(f"  {line}")
    return []


def clean_up(ctx: Context) -> dict[str, Any]:
    """Delete what the run created, newest first, then read each back: "deleted" means a delete
    answered 2xx (or the object was gone already) and a read-back answered 404 on an operation
    that answers other reads; every object still there, or not provably gone, is listed with why.
    Then the assistants list is searched for this run's tag: creates that answered 5xx, or that
    the run could not name, may have stored one."""
    created = list(dict.fromkeys(path for _, path in ctx.created))
    left: list[str] = []
    unverified: list[str] = []
    deleted = 0
    target = ctx.target
    target.resume_for_cleanup(requests=2 * len(created) + 80, seconds=120)
    unserved = ctx.not_served()
    for path in reversed(created):
        remove, read = _operation(ctx, "DELETE", path), _operation(ctx, "GET", path)
        try:
            if not ctx.answers[read].served and path not in ctx.deleted:
                # A read-back 404 proves a delete only where reads answer objects: shown once per kind.
                before = target.request("GET", path)
                if before.ok:
                    ctx.read_back(read)
            if path not in ctx.deleted:
                response = target.request("DELETE", path)
                gone_before = response.status == 404 and not ctx.is_live(path)
                if not (response.ok or gone_before):
                    served = remove not in unserved and response.status not in (405, 501)
                    left.append(
                        f"{path}: {remove} answered {response.status}"
                        + ("" if served else f": the server does not serve {remove}")
                    )
                    continue
            check = target.request("GET", path)
        except (TargetUnreachable, BudgetExhausted) as exc:
            left.append(f"{path}: {exc}")
            continue
        if check.ok:
            left.append(f"{path}: still answers {check.status} after {remove}")
        elif check.status in (404, 410) and ctx.answers[read].served:
            deleted += 1
            ctx.deleted.add(path)
        elif check.status in (404, 410):
            unverified.append(
                f"{path}: {remove} answered, but {read} never answered an object in this run, so its "
                f"{check.status} proves nothing"
            )
        elif read in unserved or check.status in (405, 501):
            unverified.append(
                f"{path}: {remove} was accepted, but the server does not serve {read} ({check.status}), so it "
                "cannot be read back"
            )
        else:  # the DELETE was accepted, but the read-back proves nothing either way
            unverified.append(f"{path}: {remove} was accepted, but reading it back answered {check.status}, not 404")
    found = _tagged_assistants(ctx, set(created))
    for path in found:
        try:
            response = target.request("DELETE", path)
        except (TargetUnreachable, BudgetExhausted) as exc:
            left.append(f"{path} (found by its tag): {exc}")
            continue
        if response.ok:
            deleted += 1
        else:
            left.append(f"{path} (found by its tag): deleteAssistant answered {response.status}")
    may_remain = [
        f"{operation} answered 5xx {count} time(s): the server may have stored "
        + (
            "an object (none carrying this run's tag was found)"
            if operation == "createAssistant"
            else "an object, which no list can show (only assistants can be listed)"
        )
        for operation, count in sorted(ctx.failed_creates.items())
    ]
    return {
        "created": len(created) + len(found),
        "deleted": deleted,
        "leaked": left,
        "unverified": unverified,
        "found_by_tag": found,
        "may_remain": may_remain,
        "tag": {TAG: ctx.run_id},
    }


def _operation(ctx: Context, method: str, path: str) -> str:
    found = ctx.router.match(method, ctx.target.base_url + path)
    return found.operation.operation_id if found else f"{method} {path}"


def _tagged_assistants(ctx: Context, known: set[str]) -> list[str]:
    """Assistants carrying this run's tag that the run does not know of (a create answered 5xx
    yet stored it, or answered an id no path can be built from): at most 10 pages are read."""
    if not ctx.answers["listAssistants"].served:
        return []
    found: list[str] = []
    after: str | None = None
    for _ in range(10):
        try:
            page = ctx.target.request(
                "GET", "/assistants", params={"limit": 100, **({"after": after} if after else {})}
            )
        except (TargetUnreachable, BudgetExhausted):
            break
        for item in page.items():
            metadata = item.get("metadata")
            if isinstance(metadata, dict) and metadata.get(TAG) == ctx.run_id and isinstance(item.get("id"), str):
                path = f"/assistants/{quote(item['id'], safe='')}"
                if path not in known and path not in found:
                    found.append(path)
        ids = page.ids()
        if not page.object().get("has_more") or not ids or not isinstance(ids[-1], str):
            break
        after = ids[-1]
    return found

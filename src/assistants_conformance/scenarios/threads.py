"""Threads and messages lifecycle."""

from __future__ import annotations

from assistants_conformance.context import Context


def run(ctx: Context) -> None:
    thread = ctx.make_thread("first message")
    if thread is None:
        ctx.expect("THREAD-001", False, "createThread with one message failed")
        return
    base = f"/threads/{thread['id']}"
    got = ctx.call("GET", base)
    ctx.expect("THREAD-001", got.status == 200 and got.json() == thread, "getThread differs from createThread", got)
    modified = ctx.call("POST", base, json_body={"metadata": {**ctx.tag, "step": "modified"}})
    ctx.expect(
        "THREAD-001",
        modified.status == 200 and (modified.json() or {}).get("metadata", {}).get("step") == "modified",
        "modifyThread did not store the new metadata",
        modified,
    )
    made = ctx.call("POST", f"{base}/messages", json_body={"role": "user", "content": "second message"})
    message = made.json() or {}
    ctx.expect(
        "THREAD-001",
        made.status == 200 and message.get("thread_id") == thread["id"],
        "createMessage did not return a message of this thread",
        made,
    )
    if made.status != 200:
        return
    mpath = f"{base}/messages/{message['id']}"
    fetched = ctx.call("GET", mpath)
    ctx.expect("THREAD-001", fetched.json() == message, "getMessage differs from createMessage", fetched)
    changed = ctx.call("POST", mpath, json_body={"metadata": {"k": "v"}})
    ctx.expect(
        "THREAD-001",
        changed.status == 200 and changed.json() == {**message, "metadata": {"k": "v"}},
        "modifyMessage changed more than metadata",
        changed,
    )
    listed = ctx.call("GET", f"{base}/messages", params={"order": "asc"})
    ids = [m.get("id") for m in (listed.json() or {}).get("data", [])]
    ctx.expect("THREAD-001", len(ids) == 2 and ids[-1] == message["id"], f"listMessages gave {ids}", listed)
    removed = ctx.call("DELETE", mpath)
    ctx.expect(
        "THREAD-001",
        removed.status == 200 and (removed.json() or {}).get("deleted") is True,
        "deleteMessage did not confirm",
        removed,
    )
    gone = ctx.call("GET", mpath)
    ctx.expect("THREAD-001", gone.status == 404, f"a deleted message answered {gone.status}", gone)
    dropped = ctx.call("DELETE", base)
    ctx.expect(
        "THREAD-001",
        dropped.status == 200 and (dropped.json() or {}).get("deleted") is True,
        "deleteThread did not confirm",
        dropped,
    )
    ctx.deleted.add(base)
    for path in (base, f"{base}/messages"):
        after = ctx.call("GET", path)
        ctx.expect("THREAD-001", after.status == 404, f"GET {path} after deleteThread answered {after.status}", after)

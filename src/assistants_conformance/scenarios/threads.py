"""Threads and messages lifecycle."""

from __future__ import annotations

from assistants_conformance.context import Context
from assistants_conformance.scenarios.objects import changed_fields, note_extra_fields


def run(ctx: Context) -> None:
    thread = ctx.make_thread("first message")
    if thread is None:
        ctx.expect("THREAD-001", False, "createThread with one message did not answer a thread")
        return
    base = f"/threads/{thread['id']}"
    got = ctx.call("GET", base)
    differing = changed_fields(thread, got.object(), "Thread")
    ctx.expect(
        "THREAD-001",
        got.ok and not differing,
        f"getThread differs from what createThread returned in {differing}"
        if got.ok
        else f"getThread of the thread just created answered HTTP {got.status}",
        got,
    )
    note_extra_fields(ctx, thread, "Thread")
    modified = ctx.call("POST", base, json_body={"metadata": {**ctx.tag, "step": "modified"}})
    metadata = modified.object().get("metadata")
    ctx.expect(
        "THREAD-001",
        modified.ok and isinstance(metadata, dict) and metadata.get("step") == "modified",
        f"modifyThread answered HTTP {modified.status} without the new metadata",
        modified,
    )
    made = ctx.call("POST", f"{base}/messages", json_body={"role": "user", "content": "second message"})
    message = made.object()
    ctx.expect(
        "THREAD-001",
        made.ok and message.get("thread_id") == thread["id"],
        f"createMessage answered HTTP {made.status} without a message of this thread",
        made,
    )
    if not made.ok or not isinstance(message.get("id"), str):
        return
    note_extra_fields(ctx, message, "Message")
    mpath = f"{base}/messages/{message['id']}"
    fetched = ctx.call("GET", mpath)
    differing = changed_fields(message, fetched.object(), "Message")
    ctx.expect(
        "THREAD-001",
        fetched.ok and not differing,
        f"getMessage differs from what createMessage returned in {differing}"
        if fetched.ok
        else f"getMessage of the message just created answered HTTP {fetched.status}",
        fetched,
    )
    changed = ctx.call("POST", mpath, json_body={"metadata": {"k": "v"}})
    differing = changed_fields({**message, "metadata": {"k": "v"}}, changed.object(), "Message")
    ctx.expect(
        "THREAD-001",
        changed.ok and not differing,
        f"modifyMessage of only metadata changed documented fields: {differing}"
        if changed.ok
        else f"modifyMessage of only metadata answered HTTP {changed.status}",
        changed,
    )
    listed = ctx.call("GET", f"{base}/messages")
    ids = listed.ids()
    ctx.expect(
        "THREAD-001",
        len(ids) == 2 and message["id"] in ids,
        f"listMessages of a thread with two messages gave {ids}",
        listed,
    )
    removed = ctx.call("DELETE", mpath)
    ctx.expect(
        "THREAD-001",
        removed.ok and removed.object().get("deleted") is True,
        f"deleteMessage answered HTTP {removed.status} without `deleted: true`",
        removed,
    )
    if removed.ok:  # a delete refused deleted nothing: reading the message back shows nothing
        gone = ctx.call("GET", mpath)
        ctx.expect("THREAD-001", gone.status == 404, f"a deleted message answered HTTP {gone.status}", gone)
    dropped = ctx.call("DELETE", base)
    ctx.expect(
        "THREAD-001",
        dropped.ok and dropped.object().get("deleted") is True,
        f"deleteThread answered HTTP {dropped.status} without `deleted: true`",
        dropped,
    )
    if not dropped.ok:
        return
    ctx.deleted.add(base)
    for path in (base, f"{base}/messages"):
        after = ctx.call("GET", path)
        ctx.expect(
            "THREAD-001", after.status == 404, f"GET {path} after deleteThread answered HTTP {after.status}", after
        )

"""How the runs scenario starts, streams and polls a run, and compares a stream's last snapshots
with what GET answers after it: the pieces every part of that scenario uses."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from assistants_conformance.context import Context
from assistants_conformance.findings import shown
from assistants_conformance.scenarios.objects import changed_fields
from assistants_conformance.target import Response

SCHEMA_OF = {"thread.run": "Run", "thread.message": "Message", "thread.run.step": "RunStep"}
TERMINAL = {"completed", "incomplete", "failed", "cancelled", "expired"}
PROMPT = "Say hello in three words."


def stream(ctx: Context, path: str, body: dict[str, Any], **kwargs: Any) -> Response:
    response = ctx.call("POST", path, json_body={**body, "stream": True}, stream=True, **kwargs)
    ctx.expect(
        "RUN-STREAM-001",
        response.ok and is_stream(response),
        f"stream: true answered HTTP {response.status} with Content-Type {response.headers.get('content-type')}",
        response,
        reads=False,  # the media type is the rule, whatever the stream then says
    )
    return response


def is_stream(response: Response) -> bool:
    return str(response.headers.get("content-type", "")).startswith("text/event-stream")


def poll(
    ctx: Context, thread_id: str, run_id: str, until: set[str], first: Response | None = None
) -> dict[str, Any] | None:
    """The run once in `until` or a terminal status; None when getRun stopped answering it or it
    stayed active past the poll timeout (`ctx.last_poll` says which, for the message). `first` is the
    answer that started the run: a server (a gateway that polls for its client) may answer with
    the run already there, and then there is nothing to poll."""
    started = first.object() if first is not None and first.ok else {}
    if started.get("id") == run_id and started.get("status") in until | TERMINAL:
        return started
    deadline = time.monotonic() + ctx.poll_timeout
    delay = 0.05
    status = None
    last: Response | None = None
    while time.monotonic() < deadline:
        last = ctx.call("GET", f"/threads/{thread_id}/runs/{run_id}")
        run = last.object()
        if not last.ok or not run:
            ctx.polled(f"getRun answered HTTP {last.status}", last)
            return None
        status = run.get("status")
        if status in until | TERMINAL:
            return run
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
    ctx.polled(f"the run was still {shown(status)} after {ctx.poll_timeout:g} s", last)
    return None


def polled_answer(ctx: Context, started: Response, done: dict[str, Any] | None) -> Response:
    """The answer a poll's finding points at: the one that ended it without a run (getRun's own,
    which may show getRun is not served), else the answer that started the run."""
    if started.ok and done is None and ctx.last_poll_answer is not None and not ctx.last_poll_answer.ok:
        return ctx.last_poll_answer
    return started


def snapshots_match(ctx: Context, response: Response) -> dict[str, Any] | None:
    """RUN-SNAP-001: each final streamed run/message/step equals what GET returns now."""
    if not response.ok or not is_stream(response):
        return None  # RUN-STREAM-001 has reported it; there are no snapshots to compare
    unnamed = ctx.unreadable(response) if response.cut is None else None
    if unnamed is not None:
        ctx.cannot(("RUN-SNAP-001",), unnamed)
        return None
    report = ctx.stream_report(response)
    if response.cut is not None:  # STREAM-END-001 reports it; its last snapshots are not final ones
        ctx.cannot(("RUN-SNAP-001",), f"a stream broke off before its end ({response.cut})")
    thread = next((v for v in report.last_snapshots.values() if v.get("object") == "thread"), None)
    if thread is not None and isinstance(thread.get("id"), str):  # a thread-and-run stream made it: ours to delete
        ctx.created_resource("thread", f"/threads/{quote(thread['id'], safe='')}")
    run = next((v for v in reversed(list(report.last_snapshots.values())) if v.get("object") == "thread.run"), None)
    if run is None or not isinstance(run.get("id"), str) or not isinstance(run.get("thread_id"), str):
        ctx.expect("RUN-SNAP-001", False, "the stream carried no run with an id and a thread_id", response)
        return None
    base = f"/threads/{run['thread_id']}"
    for snapshot in report.last_snapshots.values() if response.cut is None else ():
        kind = snapshot.get("object")
        path = {
            "thread.run": f"{base}/runs/{snapshot['id']}",
            "thread.message": f"{base}/messages/{snapshot['id']}",
            "thread.run.step": f"{base}/runs/{snapshot.get('run_id')}/steps/{snapshot['id']}",
        }.get(str(kind))
        if path is None or not isinstance(snapshot.get("id"), str):
            continue
        got = ctx.call("GET", path)
        body = got.object()
        # Documented fields only: a field of the server's own (say `updated_at`) is not drift.
        differing = changed_fields(snapshot, body, SCHEMA_OF[str(kind)])
        ctx.expect(
            "RUN-SNAP-001",
            got.ok and not differing,
            f"GET {kind} {snapshot['id']} after the stream differs from the last streamed snapshot in "
            f"{differing or 'status ' + str(got.status)}",
            got,
        )
    return run

"""Runs, streamed and polled: snapshots vs GET, a forced function call, cancel, a busy thread."""

from __future__ import annotations

import time
from typing import Any

from assistants_conformance.context import Context
from assistants_conformance.scenarios.pagination import ITEMS, walk
from assistants_conformance.target import Response

TERMINAL = {"completed", "incomplete", "failed", "cancelled", "expired"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
FORCE = {"type": "function", "function": {"name": "get_weather"}}
PROMPT = "Say hello in three words."


def _stream(ctx: Context, path: str, body: dict[str, Any]) -> Response:
    response = ctx.call("POST", path, json_body={**body, "stream": True}, stream=True)
    ctx.expect(
        "RUN-STREAM-001",
        response.status == 200 and response.headers.get("content-type", "").startswith("text/event-stream"),
        f"stream: true answered {response.status} {response.headers.get('content-type')}",
        response,
    )
    return response


def _poll(ctx: Context, thread_id: str, run_id: str, until: set[str]) -> dict[str, Any] | None:
    deadline = time.monotonic() + ctx.poll_timeout
    delay = 0.05
    while time.monotonic() < deadline:
        response = ctx.call("GET", f"/threads/{thread_id}/runs/{run_id}")
        run = response.json()
        if response.status != 200 or not isinstance(run, dict):
            return None
        if run.get("status") in until | TERMINAL:
            return run
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
    return None


def _snapshots_match(ctx: Context, response: Response) -> dict[str, Any] | None:
    """RUN-SNAP-001: each final streamed run/message/step equals what GET returns now."""
    if response.status != 200 or not response.headers.get("content-type", "").startswith("text/event-stream"):
        return None  # RUN-STREAM-001 has reported it; there are no snapshots to compare
    report = ctx.stream_report(response)
    run = next((v for v in reversed(list(report.last_snapshots.values())) if v.get("object") == "thread.run"), None)
    if run is None:
        ctx.expect("RUN-SNAP-001", False, "the stream carried no run", response)
        return None
    base = f"/threads/{run['thread_id']}"
    for snapshot in report.last_snapshots.values():
        kind = snapshot.get("object")
        path = {
            "thread.run": f"{base}/runs/{snapshot['id']}",
            "thread.message": f"{base}/messages/{snapshot['id']}",
            "thread.run.step": f"{base}/runs/{snapshot.get('run_id')}/steps/{snapshot['id']}",
        }.get(str(kind))
        if path is None:
            continue
        got = ctx.call("GET", path)
        body = got.json()
        differing = sorted(k for k in set(snapshot) | set(body or {}) if (body or {}).get(k) != snapshot.get(k))
        ctx.expect(
            "RUN-SNAP-001",
            got.status == 200 and not differing,
            f"GET {kind} {snapshot['id']} after the stream differs from the last streamed snapshot in "
            f"{differing or 'status ' + str(got.status)}",
            got,
        )
    return run


def run(ctx: Context) -> None:
    assistant = ctx.make_assistant(name="conformance: runs", instructions="Answer briefly.", tools=[WEATHER])
    if assistant is None:
        raise RuntimeError("could not create an assistant to run")
    aid = assistant["id"]
    small = {"max_completion_tokens": 256}

    if ctx.can("streaming"):
        _streamed_thread_and_run(ctx, aid, small)
    tid = _polled_run(ctx, aid, small)
    if tid is None or not ctx.can("function_tools"):
        return
    if ctx.can("streaming"):
        _streamed_tool_call(ctx, aid, small, tid)
    _polled_tool_calls(ctx, aid, small)
    _paginate_runs_and_steps(ctx, tid, aid)


def _paginate_runs_and_steps(ctx: Context, tid: str, aid: str) -> None:
    """The thread is topped up to five runs (tiny ones: one short prompt, the minimum 256 completion tokens, no
    tools), so the run list is walked at every page size like the other lists. Each run has only
    one or two steps (more would take many tool calls), so step lists are walked as they are."""
    url = f"/threads/{tid}/runs"
    runs = ctx.call("GET", url, params={"limit": 100, "order": "asc"})
    count = len((runs.json() or {}).get("data", []) or [])
    for _ in range(max(0, ITEMS - count)):
        ctx.call("POST", f"/threads/{tid}/messages", json_body={"role": "user", "content": PROMPT})
        made = ctx.call(
            "POST",
            url,
            json_body={"assistant_id": aid, "tool_choice": "none", "max_completion_tokens": 256},
        )
        body = made.json() or {}
        if made.status != 200 or _poll(ctx, tid, str(body.get("id", "")), set()) is None:
            break  # RUN-POLL-001 judges runs that do not finish; walk what there is
    full = ctx.call("GET", url, params={"limit": 100, "order": "asc"})
    run_ids = [r.get("id") for r in (full.json() or {}).get("data", []) if isinstance(r, dict)]
    for order, expected in (("asc", run_ids), ("desc", run_ids[::-1])):
        for limit in range(1, min(len(run_ids), ITEMS) + 1):
            walk(ctx, url, order, limit, expected)
    for rid in run_ids:
        steps_url = f"{url}/{rid}/steps"
        listed = ctx.call("GET", steps_url, params={"limit": 100, "order": "asc"})
        ids = [item.get("id") for item in (listed.json() or {}).get("data", []) if isinstance(item, dict)]
        if len(ids) < 2:
            continue
        for order, expected in (("asc", ids), ("desc", ids[::-1])):
            walk(ctx, steps_url, order, 1, expected)


def _streamed_thread_and_run(ctx: Context, aid: str, small: dict[str, Any]) -> None:
    # Thread-and-run, streamed; then the same objects through GET; then the run_id filter.
    streamed = _stream(
        ctx,
        "/threads/runs",
        {
            "assistant_id": aid,
            "tool_choice": "none",
            **small,
            "metadata": ctx.tag,
            "thread": {"messages": [{"role": "user", "content": PROMPT}], "metadata": ctx.tag},
        },
    )
    final = _snapshots_match(ctx, streamed)
    if final is not None:
        ctx.created_resource("thread", f"/threads/{final['thread_id']}")
        listed = ctx.call("GET", f"/threads/{final['thread_id']}/messages", params={"run_id": final["id"]})
        data = (listed.json() or {}).get("data", [])
        ctx.expect(
            "MSG-001",
            bool(data) and all(m.get("run_id") == final["id"] for m in data),
            f"listMessages?run_id={final['id']} gave {len(data)} messages, not all of that run",
            listed,
        )


def _polled_run(ctx: Context, aid: str, small: dict[str, Any]) -> str | None:
    # A polled run on an existing thread.
    thread = ctx.make_thread(PROMPT)
    if thread is None:
        return None
    tid = thread["id"]
    created = ctx.call("POST", f"/threads/{tid}/runs", json_body={"assistant_id": aid, "tool_choice": "none", **small})
    body = created.json() or {}
    done = _poll(ctx, tid, body.get("id", ""), set()) if created.status == 200 else None
    ctx.expect(
        "RUN-POLL-001",
        done is not None and done.get("status") in TERMINAL,
        f"a polled run did not reach a terminal status within {ctx.poll_timeout:g} s "
        f"(last: {done.get('status') if done else created.status})",
        created,
    )

    if not ctx.can("streaming") and done is not None:  # MSG-001 from the polled run instead
        listed = ctx.call("GET", f"/threads/{tid}/messages", params={"run_id": done["id"]})
        data = (listed.json() or {}).get("data", [])
        ctx.expect(
            "MSG-001",
            bool(data) and all(m.get("run_id") == done["id"] for m in data),
            f"listMessages?run_id={done['id']} gave {len(data)} messages, not all of that run",
            listed,
        )
    return tid


def _streamed_tool_call(ctx: Context, aid: str, small: dict[str, Any], tid: str) -> None:
    # A forced function call, streamed, answered with a streamed submit.
    paused_stream = _stream(
        ctx,
        f"/threads/{tid}/runs",
        {
            "assistant_id": aid,
            "tool_choice": FORCE,
            **small,
            "additional_messages": [{"role": "user", "content": "Weather in Paris?"}],
        },
    )
    paused = _snapshots_match(ctx, paused_stream)
    calls = _calls(paused)
    ctx.expect(
        "RUN-TOOL-001",
        paused is not None
        and paused.get("status") == "requires_action"
        and any(c.get("function", {}).get("name") == "get_weather" for c in calls),
        f"tool_choice naming get_weather ended the stream in {paused.get('status') if paused else None}",
        paused_stream,
    )
    if paused is not None and paused.get("status") == "requires_action":
        busy = ctx.call("POST", f"/threads/{tid}/runs", json_body={"assistant_id": aid})
        ctx.expect(
            "RUN-BUSY-001",
            busy.status == 400,
            f"a second run on a thread whose run is in requires_action answered {busy.status}",
            busy,
        )
        outputs = [{"tool_call_id": c["id"], "output": "22C and sunny"} for c in calls]
        resumed = _stream(ctx, f"/threads/{tid}/runs/{paused['id']}/submit_tool_outputs", {"tool_outputs": outputs})
        after = _snapshots_match(ctx, resumed)
        ctx.expect(
            "RUN-TOOL-002",
            after is not None and after.get("status") == "completed",
            f"the streamed submit_tool_outputs ended in {after.get('status') if after else None}",
            resumed,
        )


def _polled_tool_calls(ctx: Context, aid: str, small: dict[str, Any]) -> None:
    # The same, polled, then cancelled from requires_action; and a polled submit. Each on a fresh
    # thread, so that a run left paused by one failure does not make the next one fail too.
    for action in ("submit", "cancel"):
        fresh = ctx.make_thread("Weather in Oslo?")
        if fresh is None:
            return
        tid = fresh["id"]
        start = ctx.call("POST", f"/threads/{tid}/runs", json_body={"assistant_id": aid, "tool_choice": FORCE, **small})
        rid = (start.json() or {}).get("id", "")
        waiting = _poll(ctx, tid, rid, {"requires_action"}) if start.status == 200 else None
        if waiting is None or waiting.get("status") != "requires_action":
            ctx.expect(
                "RUN-TOOL-001",
                False,
                f"a polled forced call ended in {waiting.get('status') if waiting else None}",
                start,
            )
            continue
        ctx.expect("RUN-TOOL-001", bool(_calls(waiting)), "requires_action without tool calls", start)
        if action == "submit":
            outputs = [{"tool_call_id": c["id"], "output": "18C"} for c in _calls(waiting)]
            sent = ctx.call(
                "POST", f"/threads/{tid}/runs/{rid}/submit_tool_outputs", json_body={"tool_outputs": outputs}
            )
            finished = _poll(ctx, tid, rid, set()) if sent.status == 200 else None
            ctx.expect(
                "RUN-TOOL-002",
                finished is not None and finished.get("status") == "completed",
                f"a polled submit_tool_outputs ended in {finished.get('status') if finished else sent.status}",
                sent,
            )
        else:
            cancel = ctx.call("POST", f"/threads/{tid}/runs/{rid}/cancel")
            status = (cancel.json() or {}).get("status")
            settled = _poll(ctx, tid, rid, set()) if cancel.status == 200 else None
            ctx.expect(
                "RUN-CANCEL-001",
                status in ("cancelling", "cancelled") and settled is not None and settled.get("status") == "cancelled",
                f"cancel answered {cancel.status} {status}; the run settled as "
                f"{settled.get('status') if settled else None}",
                cancel,
            )


def _calls(run: dict[str, Any] | None) -> list[dict[str, Any]]:
    try:
        return list(run["required_action"]["submit_tool_outputs"]["tool_calls"])  # type: ignore[index]
    except (KeyError, TypeError):
        return []

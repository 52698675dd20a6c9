"""Tool calls, streamed and polled: a forced function call pauses the run, outputs resume it,
a pause can be cancelled, and a step's `output` is null until outputs are submitted."""

from __future__ import annotations

from typing import Any

from assistants_conformance.context import Context
from assistants_conformance.findings import shown
from assistants_conformance.scenarios.run_io import PROMPT, is_stream, poll, polled_answer, snapshots_match, stream
from assistants_conformance.target import Response

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
FORCE = {"type": "function", "function": {"name": "get_weather"}}


def streamed_tool_call(ctx: Context, aid: str, small: dict[str, Any]) -> None:
    # A forced function call, streamed, answered with a streamed submit, on a thread of its own.
    thread = ctx.make_thread(PROMPT)
    if thread is None:
        ctx.notes.append("runs: createThread failed, so the streamed tool call was not tried")
        return
    tid = thread["id"]
    paused_stream = stream(
        ctx,
        f"/threads/{tid}/runs",
        {
            "assistant_id": aid,
            "tool_choice": FORCE,
            **small,
            "additional_messages": [{"role": "user", "content": "Weather in Paris?"}],
        },
    )
    if not (paused_stream.ok and is_stream(paused_stream)):
        # RUN-STREAM-001 says it answered no stream; the polled tool calls judge RUN-TOOL-*.
        ctx.notes.append("runs: a streamed forced call answered no event stream, so only polled ones were judged")
        return
    paused = snapshots_match(ctx, paused_stream)
    calls = _calls(paused)
    ctx.expect(
        "RUN-TOOL-001",
        paused is not None
        and paused.get("status") == "requires_action"
        and any(_named(c) == "get_weather" for c in calls),
        "tool_choice naming get_weather: "
        + (
            f"the stream ended with the run {shown(paused.get('status'))}"
            if paused
            else f"createRun answered HTTP {paused_stream.status} with no run in a stream"
        ),
        paused_stream,
    )
    if paused is not None and paused.get("status") == "requires_action":
        busy = ctx.call("POST", f"/threads/{tid}/runs", json_body={"assistant_id": aid})
        ctx.expect(
            "RUN-BUSY-001",
            busy.status == 400,
            f"a second run on a thread whose run is in requires_action answered HTTP {busy.status}",
            busy,
        )
        if busy.ok:  # the server started it: it is ours to clean up with the thread
            ctx.notes.append(f"runs: a second run was started on busy thread {tid}")
        outputs = [{"tool_call_id": c["id"], "output": "22C and sunny"} for c in calls]
        _judge_outputs(ctx, ctx.stream_report(paused_stream).last_snapshots.values(), calls, None, paused_stream)
        resumed = stream(ctx, f"/threads/{tid}/runs/{paused['id']}/submit_tool_outputs", {"tool_outputs": outputs})
        after = snapshots_match(ctx, resumed)
        if is_stream(resumed):
            _judge_outputs(ctx, ctx.stream_report(resumed).last_snapshots.values(), calls, "22C and sunny", resumed)
        ctx.expect(
            "RUN-TOOL-002",
            after is not None and after.get("status") == "completed",
            "the streamed submit_tool_outputs "
            + (
                f"ended with the run {shown(after.get('status'))}"
                if after
                else f"answered HTTP {resumed.status} with no run in a stream"
            ),
            resumed,
        )


def polled_tool_calls(ctx: Context, aid: str, small: dict[str, Any]) -> None:
    # The same, polled, then cancelled from requires_action; and a polled submit. Each on a fresh
    # thread, so that a run left paused by one failure does not make the next one fail too.
    for action in ("submit", "cancel"):
        fresh = ctx.make_thread("Weather in Oslo?")
        if fresh is None:
            return
        tid = fresh["id"]
        start = ctx.call("POST", f"/threads/{tid}/runs", json_body={"assistant_id": aid, "tool_choice": FORCE, **small})
        rid = str(start.object().get("id", ""))
        waiting = poll(ctx, tid, rid, {"requires_action"}, start) if start.ok else None
        if waiting is None or waiting.get("status") != "requires_action":
            ctx.expect(
                "RUN-TOOL-001",
                False,
                "a polled forced call "
                + (
                    f"reached run status {shown(waiting.get('status'))}, not requires_action"
                    if waiting
                    else f"never reached requires_action (createRun answered HTTP {start.status})"
                ),
                start,
            )
            ctx.cannot(("RUN-TOOL-002", "RUN-CANCEL-001"), "no polled run ever paused in requires_action")
            continue
        ctx.expect("RUN-TOOL-001", bool(_calls(waiting)), "requires_action without tool calls", start)
        if action == "submit":
            outputs = [{"tool_call_id": c["id"], "output": "18C"} for c in _calls(waiting)]
            _judge_listed_outputs(ctx, tid, rid, _calls(waiting), None)
            sent = ctx.call(
                "POST", f"/threads/{tid}/runs/{rid}/submit_tool_outputs", json_body={"tool_outputs": outputs}
            )
            finished = poll(ctx, tid, rid, set(), sent) if sent.ok else None
            if finished is not None and finished.get("status") == "completed":
                _judge_listed_outputs(ctx, tid, rid, _calls(waiting), "18C")
            ctx.expect(
                "RUN-TOOL-002",
                finished is not None and finished.get("status") == "completed",
                "a polled submit_tool_outputs "
                + (
                    f"ended with the run {shown(finished.get('status'))}"
                    if finished
                    else f"answered HTTP {sent.status} and the run never finished"
                ),
                sent,
            )
        else:
            cancel = ctx.call("POST", f"/threads/{tid}/runs/{rid}/cancel")
            status = cancel.object().get("status")
            settled = poll(ctx, tid, rid, set(), cancel) if cancel.ok else None
            ctx.expect(
                "RUN-CANCEL-001",
                status in ("cancelling", "cancelled") and settled is not None and settled.get("status") == "cancelled",
                f"cancelRun answered HTTP {cancel.status} with run status {shown(status)}; the run then settled as "
                + (shown(settled.get("status")) if settled else f"nothing ({ctx.last_poll})"),
                polled_answer(ctx, cancel, settled),
            )


def _judge_listed_outputs(ctx: Context, tid: str, rid: str, calls: list[dict[str, Any]], submitted: str | None) -> None:
    listed = ctx.call("GET", f"/threads/{tid}/runs/{rid}/steps", params={"limit": 100})
    if not listed.ok:
        ctx.cannot(("RUN-TOOL-003",), f"listRunSteps answered HTTP {listed.status}, so no step could be read")
        return
    _judge_outputs(ctx, listed.items(), calls, submitted, listed)


def _judge_outputs(
    ctx: Context, steps: Any, calls: list[dict[str, Any]], submitted: str | None, response: Response
) -> None:
    """RUN-TOOL-003: each call the run asked for is in a tool_calls step, its `output` null before
    the outputs are submitted ("null if the outputs have not been submitted yet") and the output
    submitted for it after."""
    outputs: dict[str, Any] = {}
    for step in steps:
        details = step.get("step_details") if isinstance(step, dict) else None
        listed = details.get("tool_calls") if isinstance(details, dict) else None
        for call in listed if isinstance(listed, list) else []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(call.get("id"), str):
                outputs[call["id"]] = function.get("output", "(absent)")
    when = "before the outputs were submitted" if submitted is None else f"after {shown(submitted)} was submitted"
    for call in calls:
        if call["id"] not in outputs:
            ctx.expect(
                "RUN-TOOL-003",
                False,
                f"{when}, no run step shows the tool call {call['id']} the run asked for",
                response,
            )
            continue
        ctx.expect(
            "RUN-TOOL-003",
            outputs[call["id"]] == submitted,
            f"{when}, the step's tool call {call['id']} has output {shown(outputs[call['id']])}; "
            f"expected {shown(submitted)}",
            response,
        )


def _calls(run: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The tool calls a paused run asks for, each a dict with a string id (others are the schema's
    to report; a scenario never trips over them)."""
    try:
        calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]  # type: ignore[index]
    except (KeyError, TypeError):
        return []
    return [c for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)] if isinstance(calls, list) else []


def _named(call: dict[str, Any]) -> str | None:
    function = call.get("function")
    return function.get("name") if isinstance(function, dict) else None

"""Defects in runs answered as JSON: statuses, tool calls, cancel, settings, busy threads."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from assistants_conformance.lab.faults import sse
from assistants_conformance.lab.faults.defects.shared import runs_in
from assistants_conformance.lab.faults.middleware import Fault, Req, Res, error, set_json, set_json_body
from assistants_conformance.lab.faults.registry import (
    MESSAGE,
    RUN,
    RUNS,
    after,
    before,
    fault,
    json_answer,
    json_post,
    rewrite_objects,
)
from assistants_conformance.reference.engine import TERMINAL


# ----------------------------------------------------------------------------- runs
@fault("run-get-drifts", "GET on a finished run differs from its last streamed snapshot.", "runs", {"RUN-SNAP-001"})
def _run_get_drifts(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if req.method == "GET" and RUN.match(req.path) and res.status == 200:
            body = res.json()
            body["metadata"] = {**body["metadata"], "drift": "yes"}
            set_json(res, body)

    return after(change)(key)


@fault(
    "message-get-drifts",
    "GET on a message differs from the message the stream completed.",
    "runs",
    {"RUN-SNAP-001"},
)
def _message_get_drifts(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        if req.method == "GET" and MESSAGE.match(req.path) and res.status == 200:
            body = res.json()
            if body.get("role") == "assistant" and body.get("content"):
                body["content"][0]["text"]["value"] += " (edited)"
                set_json(res, body)

    return after(change)(key)


@fault("tool-choice-ignored", "A run ignores `tool_choice` naming a function.", "runs", {"RUN-TOOL-001"})
def _tool_choice_ignored(key: str) -> Fault:
    def drop(req: Req) -> None:
        body = json_post(req, RUNS)
        if body is not None and "tool_choice" in body:
            body.pop("tool_choice")
            set_json_body(req, body)

    return before(drop)(key)


@fault(
    "submit-tool-outputs-refused",
    "submit_tool_outputs is refused with 400.",
    "runs",
    {"RUN-TOOL-002", "RUN-STREAM-001"},
)
def _submit_refused(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        return error(400, "tool outputs are not supported") if req.path.endswith("/submit_tool_outputs") else None

    return before(refuse)(key)


@fault("cancel-refused", "cancelRun is refused with 400.", "runs", {"RUN-CANCEL-001"}, warns={"RUN-CANCEL-002"})
def _cancel_refused(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        return error(400, "runs cannot be cancelled") if req.path.endswith("/cancel") else None

    return before(refuse)(key)


@fault(
    "cancel-acknowledged-not-carried-out",
    "A gateway answers cancelRun itself, with the run marked `cancelling`, and never passes the cancel on:"
    " a run waiting for tool outputs stays waiting, one being generated completes.",
    "runs",
    {"RUN-CANCEL-001"},
    warns={"RUN-CANCEL-002"},
)
def _cancel_not_carried_out(key: str) -> Fault:
    asked = "x-fault-asked-to-cancel"

    def read_instead(req: Req) -> None:
        found = re.match(r"^(/v1/threads/[^/]+/runs/[^/]+)/cancel$", req.path)
        if req.method == "POST" and found:  # it reads the run to answer with, and cancels nothing
            req.method, req.path, req.body = "GET", found.group(1), b""
            req.headers[asked] = "1"

    def acknowledge(req: Req, res: Res) -> None:
        run = json_answer(res)
        if res.status != 200 or not isinstance(run, dict):
            return
        if run.get("status") in TERMINAL:  # as a server should: a finished run is not cancelled
            res.status, res.body = 400, error(400, f"Cannot cancel run with status '{run['status']}'.").body
            return
        run.update(status="cancelling", required_action=None)
        set_json(res, run)

    return Fault("", before=read_instead, after=acknowledge, sees=lambda req: asked in req.headers)


@fault(
    "busy-thread-accepts-runs",
    "A second run is started on a thread whose run is still active.",
    "runs",
    {"RUN-BUSY-001"},
)
def _busy_accepts(key: str) -> Fault:
    active: dict[str, Any] = {}
    seconds: list[str] = []

    def change(req: Req, res: Res) -> None:
        found = RUNS.match(req.path)
        if req.method != "POST" or not found:
            return
        if res.status == 200:
            # A streamed create started a run just the same (the lock is missing for both kinds).
            for run in runs_in(res)[:1]:
                active[found.group(1)] = run
            return
        body = json_answer(res)
        if not isinstance(body, dict):
            return
        if res.status == 400 and body["error"].get("code") == "thread_busy" and found.group(1) in active:
            res.status = 200
            second = f"{active[found.group(1)]['id']}_{len(seconds)}"  # an id like any other, never repeated
            seconds.append(second)
            set_json(res, {**active[found.group(1)], "id": second, "status": "queued"})

    return after(change)(key)


@fault(
    "polled-run-never-finishes",
    "getRun always reports a run as in_progress (the status is read from a cache never updated), whatever the run did.",
    "runs",
    # nothing polled ever ends or pauses; GET after a stream disagrees with the stream
    {"RUN-POLL-001", "RUN-SNAP-001", "RUN-TOOL-001"},
)
def _never_finishes(key: str) -> Fault:
    def change(req: Req, res: Res) -> None:
        body = json_answer(res)
        if (
            req.method == "GET"
            and RUN.match(req.path)
            and isinstance(body, dict)
            and body.get("object") == "thread.run"
        ):
            body.update(status="in_progress", completed_at=None, cancelled_at=None, failed_at=None, usage=None)
            body.update(required_action=None, last_error=None, incomplete_details=None)
            body.update(expires_at=body["created_at"] + 600)
            set_json(res, body)

    return after(change)(key)


@fault(
    "stream-as-json",
    "`stream: true` answers a JSON run object instead of an event stream.",
    "runs",
    {"RUN-STREAM-001"},
)
def _stream_as_json(key: str) -> Fault:
    def unstream(req: Req) -> None:
        body = req.json()
        if req.method == "POST" and isinstance(body, dict) and body.get("stream") is True:
            body["stream"] = False
            set_json_body(req, body)

    return before(unstream)(key)


def _everywhere(*kinds: str, change: Callable[[dict[str, Any]], None]) -> Callable[[str], Fault]:
    """Apply `change` to every object of these kinds (`thread.run`, `thread.run.step`, …) a client
    sees: JSON answers, alone or in lists, and the data of stream events."""

    def rewrite(req: Req, res: Res) -> None:
        if res.headers.get("content-type", "").startswith("text/event-stream"):
            frames = sse.parse(res.body)
            for frame in frames:
                data = frame.json() if (frame.event or "").startswith("thread.") else None
                if isinstance(data, dict) and data.get("object") in kinds:
                    change(data)
                    frame.set_json(data)
            res.body = sse.serialise(frames)
        else:
            for kind in kinds:
                rewrite_objects(res, kind, change)

    return after(rewrite)


def _function_calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    """The `function` objects of a tool_calls step, or of a step delta."""
    delta = step.get("delta")
    details = (delta if isinstance(delta, dict) else step).get("step_details")
    calls = details.get("tool_calls") if isinstance(details, dict) else None
    functions = [c.get("function") for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []
    return [f for f in functions if isinstance(f, dict)]


@fault(
    "usage-reported-while-running",
    "Runs report token usage from the start (counted as they go) instead of null until a terminal status.",
    "runs",
    {"RESP-SCHEMA-001", "STREAM-SCHEMA-001"},
)
def _live_usage(key: str) -> Fault:
    def count(run: dict[str, Any]) -> None:
        if run.get("status") in ("queued", "in_progress", "requires_action", "cancelling") and run.get("usage") is None:
            run["usage"] = {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}

    return _everywhere("thread.run", change=count)(key)


@fault(
    "completed-without-completed-at",
    "A completed run carries `completed_at: null` (the column is never written on completion).",
    "runs",
    {"RESP-SCHEMA-001", "STREAM-SCHEMA-001"},
)
def _no_completed_at(key: str) -> Fault:
    def forget(run: dict[str, Any]) -> None:
        if run.get("status") == "completed":
            run["completed_at"] = None

    return _everywhere("thread.run", change=forget)(key)


@fault(
    "tool-outputs-blank-before-submit",
    "A tool call's `output` is an empty string from the moment the step is created (a language's zero-value "
    "string), where the documentation says null until the outputs are submitted.",
    "runs",
    {"RUN-TOOL-003"},
)
def _blank_outputs(key: str) -> Fault:
    def blank(step: dict[str, Any]) -> None:
        for function in _function_calls(step):
            if function.get("output") is None:
                function["output"] = ""

    return _everywhere("thread.run.step", "thread.run.step.delta", change=blank)(key)


@fault(
    "submitted-outputs-not-kept",
    "The submitted tool outputs reach the model but are never written to the run step: each call's `output` "
    "stays null after submit_tool_outputs.",
    "runs",
    {"RUN-TOOL-003"},
)
def _outputs_not_kept(key: str) -> Fault:
    def forget(step: dict[str, Any]) -> None:
        for function in _function_calls(step):
            function["output"] = None

    return _everywhere("thread.run.step", "thread.run.step.delta", change=forget)(key)


@fault(
    "modify-run-ignores-metadata",
    "modifyRun answers 200 with the run as it was: the metadata sent is never written (an endpoint wired up "
    "only so that clients do not get a 404).",
    "runs",
    {"RUN-MODIFY-001"},
)
def _modify_run_noop(key: str) -> Fault:
    def ignore(req: Req) -> None:
        body = json_post(req, RUN)
        if body is not None and "metadata" in body:
            set_json_body(req, {})

    return before(ignore)(key)


def _run_request(req: Req) -> dict[str, Any] | None:
    """The body of a createRun or createThreadAndRun request."""
    return json_post(req, RUNS) or json_post(req, "/v1/threads/runs")


@fault(
    "run-overrides-ignored",
    "A run always uses the assistant's model, instructions and tools: the values a run request sends in their "
    "place are dropped (a server that copies the assistant and never reads the request's settings).",
    "runs",
    {"RUN-SETTINGS-001"},
)
def _overrides_ignored(key: str) -> Fault:
    def drop(req: Req) -> None:
        body = _run_request(req)
        if body is not None and any(name in body for name in ("model", "instructions", "tools")):
            set_json_body(req, {k: v for k, v in body.items() if k not in ("model", "instructions", "tools")})

    return before(drop)(key)


@fault(
    "run-settings-not-inherited",
    "A run that names no instructions or tools of its own runs with none (blank instructions, no tools) instead "
    "of the assistant's: a gateway that passes the request through without reading the assistant.",
    "runs",
    {"RUN-SETTINGS-001"},
)
def _not_inherited(key: str) -> Fault:
    def blank(req: Req) -> None:
        body = _run_request(req)
        if body is not None and (body.get("instructions") is None or body.get("tools") is None):
            instructions = body.get("instructions")
            tools = body.get("tools")
            set_json_body(
                req, {**body, "instructions": instructions or "", "tools": tools if tools is not None else []}
            )

    return before(blank)(key)


@fault(
    "usage-null-when-done",
    "Runs and run steps keep `usage: null` after they end: the server never counts tokens.",
    "runs",
    set(),
    warns={"RUN-USAGE-001"},
)
def _usage_never_reported(key: str) -> Fault:
    def forget(item: dict[str, Any]) -> None:
        item["usage"] = None

    def rewrite(req: Req, res: Res) -> None:
        if res.headers.get("content-type", "").startswith("text/event-stream"):
            frames = sse.parse(res.body)
            for frame in frames:
                data = frame.json() if (frame.event or "").startswith("thread.run.") else None
                if isinstance(data, dict) and "usage" in data:
                    data["usage"] = None
                    frame.set_json(data)
            res.body = sse.serialise(frames)
            return
        rewrite_objects(res, "thread.run", forget)
        rewrite_objects(res, "thread.run.step", forget)

    return after(rewrite)(key)

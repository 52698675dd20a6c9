"""Defects in event streams: framing (what an SSE parser sees) and the conversation (what the
events say, in what order)."""

from __future__ import annotations

import copy
import re

from assistants_conformance.lab.faults import sse
from assistants_conformance.lab.faults.middleware import CutConnection, Fault, Req
from assistants_conformance.lab.faults.registry import (
    fault,
    on_streams,
)
from assistants_conformance.lab.faults.sse import Frame


# ----------------------------------------------------------------------------- event streams: framing
@fault("done-missing", "The stream ends without the `done` event.", "sse", {"STREAM-END-001"})
def _done_missing(key: str) -> Fault:
    return on_streams(lambda req, frames: [f for f in frames if f.event != "done"])(key)


@fault(
    "done-not-last",
    "`done` is sent before the run's final event.",
    "sse",
    {"STREAM-DONE-002", "STREAM-RUN-003", "RUN-SNAP-001", "RUN-TOOL-001"},
)
def _done_not_last(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        if len(frames) > 1 and frames[-1].event == "done":
            frames[-2], frames[-1] = frames[-1], frames[-2]

    return on_streams(edit)(key)


@fault("done-with-other-data", "`done` carries `{}` instead of `[DONE]`.", "sse", {"STREAM-DONE-001"})
def _done_data(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            if frame.event == "done":
                frame.data = "{}"

    return on_streams(edit)(key)


@fault("data-not-json", "A delta's data is cut short: not JSON.", "sse", {"SSE-JSON-001"})
def _data_not_json(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.step.in_progress")
        if at is not None:
            frames[at].data = frames[at].data[: len(frames[at].data) // 2]

    return on_streams(edit)(key)


@fault(
    "blank-line-missing",
    "Two frames run together: the blank line between them is missing.",
    "sse",
    {"SSE-FRAME-001", "SSE-JSON-001", "STREAM-ITEM-002", "STREAM-ITEM-004"},
)
def _blank_line_missing(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> bytes:
        raw = sse.serialise(frames).decode()
        return raw.replace(
            "\n\nevent: thread.run.step.in_progress\n", "\nevent: thread.run.step.in_progress\n", 1
        ).encode()

    return on_streams(edit)(key)


@fault("frames-without-event", "Step frames carry only `data:`, no `event:` line.", "sse", {"SSE-EVENT-001"})
def _no_event_name(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            if frame.event == "thread.run.step.in_progress":
                frame.event = None

    return on_streams(edit)(key)


@fault("invalid-utf8", "A delta's text is sent as Latin-1 bytes.", "sse", {"SSE-UTF8-001", "STREAM-FOLD-001"})
def _invalid_utf8(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> bytes:
        raw = sse.serialise(frames)
        return raw.replace(b'"You said: ', b'"You said\xe9 ', 1)

    return on_streams(edit)(key)


@fault(
    "stream-ends-mid-frame",
    "The last frame is not terminated by a blank line.",
    "sse",
    {"SSE-EOF-001", "STREAM-END-001"},
)
def _ends_mid_frame(key: str) -> Fault:
    return on_streams(lambda req, frames: sse.serialise(frames)[:-1])(key)


@fault(
    "event-without-data",
    "`thread.run.step.in_progress` frames carry no `data:` line.",
    "sse",
    {"SSE-FIELD-002"},
)
def _event_without_data(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> bytes:
        raw = sse.serialise(frames).decode()
        return re.sub(r"(event: thread\.run\.step\.in_progress\n)data: [^\n]*\n", r"\1", raw).encode()

    return on_streams(edit)(key)


@fault(
    "nonstandard-sse-field",
    "Frames carry a non-standard `type:` field next to `event:`.",
    "sse",
    set(),
    warns={"SSE-FIELD-001"},
)
def _nonstandard_field(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> bytes:
        raw = sse.serialise(frames).decode()
        return raw.replace("event: thread.run.created\n", "event: thread.run.created\ntype: run\n").encode()

    return on_streams(edit)(key)


# ----------------------------------------------------------------------------- event streams: the conversation
@fault(
    "run-completed-before-message",
    "`thread.run.completed` arrives before the message it produced completes.",
    "stream",
    {"STREAM-RUN-005"},
)
def _run_before_message(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        run, message = sse.index(frames, "thread.run.completed"), sse.index(frames, "thread.message.completed")
        if run is not None and message is not None:
            frames.insert(message, frames.pop(run))

    return on_streams(edit)(key)


@fault(
    "delta-for-unknown-message",
    "A `thread.message.delta` names a message the stream never created.",
    "stream",
    {"STREAM-ITEM-002"},
)
def _unknown_delta(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.message.delta")
        if at is not None:
            frames.insert(at, Frame("thread.message.delta", frames[at].data))
            data = frames[at].json()
            data["id"] = "msg_never_created"
            frames[at].set_json(data)

    return on_streams(edit)(key)


@fault(
    "deltas-do-not-add-up",
    "A text delta is lost: the deltas do not add up to the completed message.",
    "stream",
    {"STREAM-FOLD-001"},
)
def _lost_delta(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.message.delta")
        if at is not None:
            del frames[at]

    return on_streams(edit)(key)


@fault(
    "tool-arguments-do-not-add-up",
    "A tool call's argument deltas differ from the arguments the run asks for.",
    "stream",
    {"STREAM-FOLD-002", "RUN-SNAP-001"},
)
def _tool_arguments(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            data = frame.json() if frame.event == "thread.run.step.delta" else None
            calls = (((data or {}).get("delta") or {}).get("step_details") or {}).get("tool_calls") or []
            for call in calls:
                if call.get("function", {}).get("arguments"):
                    call["function"]["arguments"] = call["function"]["arguments"].upper()
                    frame.set_json(data)
                    return

    return on_streams(edit)(key)


@fault(
    "event-disagrees-with-status",
    "`thread.run.in_progress` carries `status: queued`.",
    "stream",
    {"STREAM-STATUS-001"},
)
def _event_status(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.in_progress")
        if at is not None:
            data = frames[at].json()
            data["status"] = "queued"
            frames[at].set_json(data)

    return on_streams(edit)(key)


@fault(
    "run-status-goes-back",
    "After `in_progress` the run is announced `queued` again.",
    "stream",
    {"STREAM-RUN-002"},
)
def _status_back(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        queued, progress = sse.index(frames, "thread.run.queued"), sse.index(frames, "thread.run.in_progress")
        if queued is not None and progress is not None:
            frames.insert(progress + 1, Frame("thread.run.queued", frames[queued].data))

    return on_streams(edit)(key)


@fault("two-terminal-events", "The run completes twice.", "stream", {"STREAM-RUN-003", "STREAM-RUN-002"})
def _two_terminals(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.completed")
        if at is not None:
            frames.insert(at, Frame("thread.run.completed", frames[at].data))

    return on_streams(edit)(key)


@fault(
    "message-chunk-event",
    "Text arrives as `thread.message.chunk` (not a documented event) instead of `thread.message.delta`.",
    "stream",
    {"STREAM-FOLD-001"},
    warns={"STREAM-UNKNOWN-001"},
)
def _message_chunk(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            if frame.event == "thread.message.delta":
                frame.event = "thread.message.chunk"

    return on_streams(edit)(key)


@fault(
    "delta-after-message-completed",
    "A text delta arrives after its message completed.",
    "stream",
    {"STREAM-ITEM-001"},
)
def _late_delta(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        delta, done = sse.index(frames, "thread.message.delta"), sse.index(frames, "thread.message.completed")
        if delta is not None and done is not None:
            late = Frame("thread.message.delta", frames[delta].data)
            data = late.json()
            data["delta"]["content"][0]["text"]["value"] = ""  # adds nothing: only the order is wrong
            late.set_json(data)
            frames.insert(done + 1, late)

    return on_streams(edit)(key)


@fault(
    "requires-action-without-tool-calls",
    "A run pauses in `requires_action` with an empty list of tool calls.",
    "stream",
    {"STREAM-ACTION-001", "STREAM-SCHEMA-001", "RUN-SNAP-001", "RUN-STREAM-001", "RUN-TOOL-001", "RUN-TOOL-002"},
)
def _action_without_calls(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.requires_action")
        if at is not None:
            data = frames[at].json()
            data["required_action"]["submit_tool_outputs"]["tool_calls"] = []
            frames[at].set_json(data)

    return on_streams(edit)(key)


@fault(
    "submit-stream-restarts-the-run",
    "The submit_tool_outputs stream starts over with `thread.run.created` instead of resuming.",
    "stream",
    {"STREAM-RUN-001"},
)
def _submit_restarts(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        if not req.path.endswith("/submit_tool_outputs") or not frames:
            return
        first = next(
            (f for f in frames if f.event and f.event.startswith("thread.run.") and "step" not in f.event), None
        )
        if first is not None:
            data = copy.deepcopy(first.json())
            data.update(status="queued", started_at=None, required_action=None)
            frames.insert(0, Frame("thread.run.created", ""))
            frames[0].set_json(data)

    return on_streams(edit)(key)


@fault(
    "thread-created-missing",
    "A thread-and-run stream never announces its thread.",
    "stream",
    {"STREAM-THREAD-001"},
)
def _no_thread_created(key: str) -> Fault:
    return on_streams(lambda req, frames: [f for f in frames if f.event != "thread.created"])(key)


@fault(
    "ids-disagree",
    "A streamed message names a different thread than its run.",
    "stream",
    {"STREAM-IDS-001"},
)
def _ids_disagree(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.message.in_progress")
        if at is not None:
            data = frames[at].json()
            data["thread_id"] = "thread_elsewhere"
            frames[at].set_json(data)

    return on_streams(edit)(key)


@fault(
    "step-names-unknown-message",
    "A message_creation step points at a message the stream never created.",
    "stream",
    {"STREAM-ITEM-004", "RUN-SNAP-001"},
)
def _step_unknown_message(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        for frame in frames:
            data = frame.json() if (frame.event or "").startswith("thread.run.step.") else None
            details = (data or {}).get("step_details") or {}
            if details.get("type") == "message_creation":
                details["message_creation"]["message_id"] = "msg_never_created"
                frame.set_json(data)

    return on_streams(edit)(key)


@fault(
    "event-data-off-schema",
    "`thread.run.created` data has no `status`.",
    "stream",
    {"STREAM-SCHEMA-001", "STREAM-RUN-001"},
)
def _event_off_schema(key: str) -> Fault:
    def edit(req: Req, frames: list[Frame]) -> None:
        at = sse.index(frames, "thread.run.created")
        if at is not None:
            data = frames[at].json()
            data.pop("status", None)
            frames[at].set_json(data)

    return on_streams(edit)(key)


class _DropOnCancel:
    """Passes a run's stream on frame by frame until the run is cancelled, then drops the
    connection halfway through that frame, as a worker killed by the cancel does."""

    def feed(self, raw: bytes) -> bytes:
        if raw.startswith(b"event: thread.run.cancelling"):
            raise CutConnection(raw[: len(raw) // 2])
        return raw

    def end(self) -> bytes:
        return b""


@fault(
    "stream-dropped-on-cancel",
    "Cancelling a run while it streams drops the stream's connection mid-chunk instead of ending it with "
    "`thread.run.cancelled` and `done` (seen on a FastAPI + Celery clone).",
    "sse",
    {"STREAM-END-001"},
    warns={"RUN-CANCEL-002"},
)
def _dropped_on_cancel(key: str) -> Fault:
    return Fault("", frames=lambda req: _DropOnCancel())

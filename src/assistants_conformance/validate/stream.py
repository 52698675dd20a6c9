"""The Assistants event-stream contract, checked over parsed frames as they arrive.

Beyond each event's schema this follows the whole conversation: `done` exactly once and last,
run status transitions and exactly one ending per run, messages and steps going
created → in_progress → delta… → ended, deltas that refer to created ids and are not
interleaved, deltas that fold into the completed content (text and tool-call arguments),
ids that agree across events, and a `requires_action` that asks for every tool call. Each rule
has its own check ID (see RULES). Memory stays flat: only open items and folded text are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from assistants_conformance.contract.schemas import EventSchema
from assistants_conformance.validate.advice import advise_object
from assistants_conformance.validate.numbers import INTEGRAL_FLOAT, explain, loads_exact, timestamps
from assistants_conformance.validate.schemas import FastSchemas, default_schemas
from assistants_conformance.validate.sse import Frame
from assistants_conformance.validate.violations import Severity, Violation

KEPT_PER_RULE = 100
_RUN_STATUS_OF_EVENT = {"created": "queued"}
_TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled", "expired"})
_ALLOWED: dict[str, frozenset[str]] = {
    "queued": frozenset({"queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed", "expired"}),
    "in_progress": frozenset(
        {"in_progress", "requires_action", "completed", "incomplete", "failed", "cancelling", "cancelled", "expired"}
    ),
    "requires_action": frozenset({"queued", "in_progress", "cancelling", "cancelled", "failed", "expired"}),
    "cancelling": frozenset({"cancelling", "cancelled", "completed", "incomplete", "failed", "expired"}),
}
_STEP_STATUS_OF_EVENT = {"created": "in_progress"}
_MESSAGE_STATUS_OF_EVENT = {"created": "in_progress"}


@dataclass(slots=True)
class _Run:
    status: str
    thread_id: str
    assistant_id: str
    terminal: int = 0


@dataclass(slots=True)
class _Item:
    kind: str  # message | step
    run_id: str | None
    phase: str = "created"  # created | in_progress | delta | ended
    # Delta pieces per content index, joined once at the end: folding stays linear in the stream.
    texts: dict[int, list[str]] = field(default_factory=dict)
    args: dict[int, list[str]] = field(default_factory=dict)
    call_ids: dict[int, str] = field(default_factory=dict)
    deltas: int = 0
    step_type: str | None = None
    message_id: str | None = None


class StreamValidator:
    """Feed it frames in order; collect violations; call finish() at the end of the stream.

    `operation` is the operationId that produced the stream when known (createRun,
    createThreadAndRun, submitToolOuputsToRun); offline transcripts leave it None.
    """

    def __init__(
        self, schemas: FastSchemas | None = None, *, operation: str | None = None, keep_snapshots: bool = False
    ) -> None:
        self.schemas = schemas or default_schemas()
        self.table: dict[str, EventSchema] = self.schemas.contract.event_schemas
        self.operation = operation
        self.violations: list[Violation] = []
        self._kept: dict[str, int] = {}
        self.dropped: dict[tuple[str, Severity], int] = {}  # beyond KEPT_PER_RULE: counted, not kept
        # The rules that had something to judge in this stream: the evidence behind a pass.
        self.judged: set[str] = set()
        self._delta_messages: set[str] = set()
        self.events_seen: dict[str, int] = {}
        # id → last full object streamed; kept only on request (the runner compares them with GET),
        # so that validating a long offline transcript takes constant memory.
        self.last_snapshots: dict[str, dict[str, Any]] = {}
        self._keep = keep_snapshots
        self._frames = 0
        self._done: int | None = None
        self._after_done_reported = False
        self._error_seen = False
        self._thread_id: str | None = None
        self._runs: dict[str, _Run] = {}
        self._items: dict[str, _Item] = {}
        self._delta_owner: str | None = None
        self._finished_delta_owners: set[str] = set()
        self._frame: Frame | None = None
        self._last_event: str | None = None

    # ------------------------------------------------------------------ helpers
    def _add(self, violation: Violation) -> None:
        """Keep the first KEPT_PER_RULE violations of each rule; count the others (a stream of a
        million unknown events must not keep a million warnings)."""
        kept = self._kept.get(violation.check, 0)
        if kept >= KEPT_PER_RULE:
            key = (violation.check, violation.severity)
            self.dropped[key] = self.dropped.get(key, 0) + 1
            return
        self._kept[violation.check] = kept + 1
        self.violations.append(violation)

    def _report(self, check: str, message: str, *, where: str = "", severity: Severity = Severity.ERROR) -> None:
        frame = self._frame
        self._add(
            Violation(
                check,
                message,
                where,
                severity=severity,
                frame=frame.number if frame else None,
                line=frame.line if frame else None,
            )
        )

    def _snapshot(self, object_id: str, data: dict[str, Any]) -> None:
        if self._keep:
            self.last_snapshots[object_id] = data

    def feed(self, frame: Frame) -> None:
        self._frame = frame
        self._frames += 1
        if self._done is not None:
            if not self._after_done_reported:
                self._report("STREAM-DONE-002", f"event {frame.event!r} arrived after `done` (frame {self._done})")
                self._after_done_reported = True
            return
        name = frame.event
        self.judged.add("SSE-EVENT-001")
        if name is None:
            self._report("SSE-EVENT-001", "a frame has no `event:` field; every Assistants event is named")
            return
        self.events_seen[name] = self.events_seen.get(name, 0) + 1
        self._last_event = name
        self.judged.add("STREAM-UNKNOWN-001")
        entry = self.table.get(name)
        if entry is None:
            self._report(
                "STREAM-UNKNOWN-001",
                f"unknown event {name!r} (clients are asked to ignore new events)",
                severity=Severity.WARNING,
            )
            return
        if entry.literal is not None:
            self._done = frame.number
            self.judged.update(("STREAM-DONE-001", "STREAM-DONE-002"))
            if frame.data != entry.literal:
                self._report("STREAM-DONE-001", f"`done` must carry data {entry.literal!r}, got {frame.data[:60]!r}")
            return
        try:
            data = orjson.loads(frame.data)
        except orjson.JSONDecodeError as exc:
            self._report(
                "SSE-JSON-001", f"data of {name!r} is not JSON ({exc.msg} at character {exc.pos}): {frame.data[:60]!r}"
            )
            return
        assert entry.data_schema is not None
        self.judged.update(("SSE-JSON-001", "STREAM-SCHEMA-001"))
        checked: Any = data
        tokens: dict[str, str] = {}
        if INTEGRAL_FLOAT.search(frame.data):  # rare: re-read so that `1.0` is not taken for an integer
            checked, tokens = loads_exact(frame.data)
        found = explain(
            self.schemas.check("STREAM-SCHEMA-001", entry.data_schema, checked, frame=frame.number, line=frame.line),
            tokens,
        )
        if not name.endswith(".delta"):  # deltas carry no timestamps
            had_time, wrong_time = timestamps(data)
            if had_time:
                self.judged.add("RESP-TIME-001")
            for violation in wrong_time:
                self._report(violation.check, f"{name}: {violation.message}", where=violation.where)
        for violation in found:
            self._add(
                Violation(
                    violation.check,
                    f"{name}: {violation.message}",
                    violation.where,
                    violation.spec,
                    frame=violation.frame,
                    line=violation.line,
                )
            )
        if not isinstance(data, dict):
            return
        for advice in advise_object(data, self.judged):
            self._report(advice.check, f"{name}: {advice.message}", severity=advice.severity)
        try:
            self._follow(name, data)
        except (KeyError, TypeError, AttributeError, IndexError):
            if not found:  # a shape the schema accepted but we cannot follow: say so rather than crash
                self._report("STREAM-SCHEMA-001", f"{name}: data lacks fields needed to follow the stream")

    def _follow(self, name: str, data: dict[str, Any]) -> None:
        if name == "error":
            self._error_seen = True
            self._report(
                "STREAM-ERROR-001", f"server error event: {str(data.get('message'))[:120]}", severity=Severity.WARNING
            )
        elif name == "thread.created":
            self._on_thread(data)
        elif name.startswith("thread.run.step."):
            self._on_step(name.removeprefix("thread.run.step."), data)
        elif name.startswith("thread.run."):
            self._on_run(name.removeprefix("thread.run."), data)
        elif name.startswith("thread.message."):
            self._on_message(name.removeprefix("thread.message."), data)

    def _ids_agree(self, data: dict[str, Any], what: str) -> None:
        thread_id = data.get("thread_id")
        if self._thread_id is None:
            self._thread_id = thread_id
        else:
            self.judged.add("STREAM-IDS-001")
            if thread_id != self._thread_id:
                self._report(
                    "STREAM-IDS-001",
                    f"{what} has thread_id {thread_id!r}; the stream's thread is {self._thread_id!r}",
                    where="/thread_id",
                )
        run_id = data.get("run_id") if what != "run" else None
        if run_id is not None and run_id not in self._runs:
            self._report(
                "STREAM-IDS-001", f"{what} names run_id {run_id!r}, which this stream never created", where="/run_id"
            )
        run = self._runs.get(run_id) if run_id else None
        assistant_id = data.get("assistant_id")
        if run is not None and assistant_id is not None and assistant_id != run.assistant_id:
            self._report(
                "STREAM-IDS-001",
                f"{what} has assistant_id {assistant_id!r}; its run has {run.assistant_id!r}",
                where="/assistant_id",
            )

    def _status_agrees(self, family: str, suffix: str, status: str, named: dict[str, str]) -> str:
        """STREAM-STATUS-001: the status an event's name implies; reports when the data disagrees."""
        expected = named.get(suffix, suffix)
        self.judged.add("STREAM-STATUS-001")
        if status != expected:
            noun = family.rsplit(".", 1)[-1]
            self._report(
                "STREAM-STATUS-001",
                f"`{family}.{suffix}` carries a {noun} with status {status!r}; expected {expected!r}",
                where="/status",
            )
        return expected

    # ------------------------------------------------------------------ threads
    def _on_thread(self, data: dict[str, Any]) -> None:
        self.judged.add("STREAM-THREAD-001")
        if self._frames != 1 or self.operation in ("createRun", "submitToolOuputsToRun"):
            self._report(
                "STREAM-THREAD-001", "`thread.created` must be the first event, and only in a thread-and-run stream"
            )
        self._thread_id = data["id"]
        self._snapshot(data["id"], data)

    # ------------------------------------------------------------------ runs
    def _on_run(self, suffix: str, data: dict[str, Any]) -> None:
        status = data["status"]
        expected = self._status_agrees("thread.run", suffix, status, _RUN_STATUS_OF_EVENT)
        run_id = data["id"]
        run = self._runs.get(run_id)
        if run is None:
            self.judged.add("STREAM-RUN-001")
            if self.operation == "createThreadAndRun":
                self.judged.add("STREAM-THREAD-001")
            if self.operation == "createThreadAndRun" and self._thread_id is None:
                self._report("STREAM-THREAD-001", "a thread-and-run stream must begin with `thread.created`")
            if suffix != "created":
                resuming = self.operation in (None, "submitToolOuputsToRun")
                if not resuming or expected not in _ALLOWED["requires_action"]:
                    self._report(
                        "STREAM-RUN-001",
                        f"the first event of run {run_id} is `thread.run.{suffix}`; a new "
                        "run starts with `thread.run.created` and a resumed one leaves requires_action",
                    )
            elif self.operation == "submitToolOuputsToRun":
                self._report(
                    "STREAM-RUN-001", "a submit_tool_outputs stream must resume the paused run, not create one"
                )
            self._ids_agree(data, "run")
            run = _Run(expected if suffix == "created" else "requires_action", data["thread_id"], data["assistant_id"])
            self._runs[run_id] = run
        else:
            self._ids_agree(data, "run")
            if suffix == "created":
                self._report("STREAM-RUN-001", f"run {run_id} is created a second time in the same stream")
        previous = run.status
        if suffix != "created":
            self.judged.add("STREAM-RUN-002")
        if previous in _TERMINAL:
            self._report("STREAM-RUN-002", f"run {run_id} moved {previous} → {expected} after it had ended")
        elif suffix != "created" and expected not in _ALLOWED.get(previous, frozenset()):
            self._report(
                "STREAM-RUN-002", f"run {run_id} moved {previous} → {expected}, which is not a documented transition"
            )
        if expected in _TERMINAL:
            run.terminal += 1
            if run.terminal > 1:
                self._report("STREAM-RUN-003", f"run {run_id} ended twice")
            self.judged.add("STREAM-RUN-005")
            self._check_run_children_ended(run_id, expected)
        if expected == "requires_action":
            self._check_required_action(run_id, data)
        run.status = expected
        self._snapshot(run_id, data)

    def _check_run_children_ended(self, run_id: str, status: str) -> None:
        for item_id, item in self._items.items():
            if item.run_id == run_id and item.phase != "ended":
                self._report(
                    "STREAM-RUN-005",
                    f"run {run_id} became {status} while its {item.kind} {item_id} was still in progress",
                )

    def _check_required_action(self, run_id: str, data: dict[str, Any]) -> None:
        self.judged.add("STREAM-ACTION-001")
        action = data.get("required_action") or {}
        calls = (action.get("submit_tool_outputs") or {}).get("tool_calls") or []
        if not calls:
            self._report(
                "STREAM-ACTION-001",
                f"run {run_id} is in requires_action but asks for no tool calls",
                where="/required_action",
            )
            return
        asked = {c.get("id"): (c.get("function") or {}).get("arguments") for c in calls}
        for step_id, item in self._items.items():
            if item.kind != "step" or item.run_id != run_id or item.phase == "ended" or item.step_type != "tool_calls":
                continue
            for index, call_id in item.call_ids.items():
                self.judged.add("STREAM-FOLD-002")
                if call_id not in asked:
                    self._report(
                        "STREAM-ACTION-001",
                        f"step {step_id} made tool call {call_id}, which required_action does not ask for",
                        where="/required_action",
                    )
                elif (folded := "".join(item.args.get(index, ()))) != asked[call_id]:
                    self._report(
                        "STREAM-FOLD-002",
                        f"tool call {call_id}: the argument deltas add up to "
                        f"{folded[:60]!r} but required_action has {str(asked[call_id])[:60]!r}",
                        where="/required_action",
                    )

    # ------------------------------------------------------------------ messages
    def _on_message(self, suffix: str, data: dict[str, Any]) -> None:
        message_id = data["id"]
        item = self._items.get(message_id)
        if suffix == "delta":
            self._on_message_delta(message_id, item, data)
            return
        status = data["status"]
        self._status_agrees("thread.message", suffix, status, _MESSAGE_STATUS_OF_EVENT)
        self._ids_agree(data, "message")
        if suffix == "created":
            if item is not None:
                self._report("STREAM-ITEM-001", f"message {message_id} was created twice")
            self._items[message_id] = _Item("message", data.get("run_id"))
            self._after_run_end(data.get("run_id"), f"message {message_id}")
            self._snapshot(message_id, data)
            return
        self.judged.update(("STREAM-ITEM-001", "STREAM-ITEM-002"))
        if item is None:
            self._report(
                "STREAM-ITEM-002",
                f"`thread.message.{suffix}` for message {message_id}, which this stream never created",
            )
            return
        if item.phase == "ended":
            self._report("STREAM-ITEM-001", f"`thread.message.{suffix}` for message {message_id} after it ended")
        elif suffix == "in_progress" and item.phase != "created":
            self._report("STREAM-ITEM-001", f"message {message_id} went back to in_progress after its deltas")
        if suffix in ("completed", "incomplete"):
            item.phase = "ended"
            self._check_text_fold(message_id, item, data)
            item.texts = {}
            if self._delta_owner == message_id:
                self._delta_owner = None
        elif item.phase == "created":
            item.phase = "in_progress"
        self._snapshot(message_id, data)

    def _on_message_delta(self, message_id: str, item: _Item | None, data: dict[str, Any]) -> None:
        self.judged.update(("STREAM-ITEM-001", "STREAM-ITEM-002"))
        self._delta_messages.add(message_id)
        if len(self._delta_messages) > 1:  # interleaving needs deltas of two messages to be judged
            self.judged.add("STREAM-ITEM-003")
        if item is None:
            self._report("STREAM-ITEM-002", f"a delta for message {message_id}, which this stream never created")
            return
        if item.phase == "ended":
            self._report("STREAM-ITEM-001", f"a delta for message {message_id} after it ended")
            return
        if self._delta_owner is not None and self._delta_owner != message_id:
            self._finished_delta_owners.add(self._delta_owner)
        if message_id in self._finished_delta_owners:
            self._report(
                "STREAM-ITEM-003",
                f"deltas of message {message_id} resumed after another message's deltas "
                "(clients fold deltas into the most recent message)",
            )
        self._delta_owner = message_id
        item.phase = "delta"
        item.deltas += 1
        for part in (data.get("delta") or {}).get("content") or []:
            if part.get("type") == "text":
                item.texts.setdefault(part["index"], []).append((part.get("text") or {}).get("value") or "")

    def _check_text_fold(self, message_id: str, item: _Item, data: dict[str, Any]) -> None:
        # Text a streamed message completes with but no delta carried never reached a client that
        # renders deltas (the point of `stream: true`), so zero deltas is checked like any other fold.
        self.judged.add("STREAM-FOLD-001")
        final = {i: p["text"]["value"] for i, p in enumerate(data.get("content") or []) if p.get("type") == "text"}
        folded = {index: "".join(parts) for index, parts in item.texts.items()}
        if final != folded:
            for index in sorted(set(final) | set(folded)):
                got, want = folded.get(index, ""), final.get(index, "")
                if got != want:
                    added = (
                        f"the deltas add up to {got[:60]!r}" if item.deltas else "no `thread.message.delta` streamed it"
                    )
                    self._report(
                        "STREAM-FOLD-001",
                        f"message {message_id} content[{index}]: {added}, but the final message says {want[:60]!r}",
                        where=f"/content/{index}/text/value",
                    )

    def _after_run_end(self, run_id: str | None, what: str) -> None:
        run = self._runs.get(run_id) if run_id else None
        if run is not None and run.status in _TERMINAL:
            self._report("STREAM-RUN-005", f"{what} appeared after its run {run_id} had ended ({run.status})")
        elif run is not None and run.status == "queued":
            # A run does its work in_progress: a step or message it made cannot come before that.
            self._report("STREAM-RUN-005", f"{what} appeared while its run {run_id} was still queued")

    # ------------------------------------------------------------------ steps
    def _on_step(self, suffix: str, data: dict[str, Any]) -> None:
        step_id = data["id"]
        item = self._items.get(step_id)
        if suffix == "delta":
            self._on_step_delta(step_id, item, data)
            return
        status = data["status"]
        self._status_agrees("thread.run.step", suffix, status, _STEP_STATUS_OF_EVENT)
        self._ids_agree(data, "step")
        details = data.get("step_details") or {}
        if suffix != "created":
            self.judged.update(("STREAM-ITEM-001", "STREAM-ITEM-002"))
        if suffix == "created":
            if item is not None:
                self._report("STREAM-ITEM-001", f"step {step_id} was created twice")
            item = _Item(
                "step",
                data.get("run_id"),
                step_type=data.get("type"),
                message_id=(details.get("message_creation") or {}).get("message_id"),
            )
            self._items[step_id] = item
            self._after_run_end(data.get("run_id"), f"step {step_id}")
        elif item is None:
            # A resumed run's open tool step may end in this stream without being created in it.
            if not (self.operation in (None, "submitToolOuputsToRun") and data.get("type") == "tool_calls"):
                self._report(
                    "STREAM-ITEM-002", f"`thread.run.step.{suffix}` for step {step_id}, which this stream never created"
                )
            item = _Item("step", data.get("run_id"), phase="in_progress", step_type=data.get("type"))
            self._items[step_id] = item
        elif item.phase == "ended":
            self._report("STREAM-ITEM-001", f"`thread.run.step.{suffix}` for step {step_id} after it ended")
        if suffix in ("completed", "failed", "cancelled", "expired"):
            item.phase = "ended"
            if item.step_type == "message_creation" and suffix == "completed":
                self.judged.add("STREAM-ITEM-004")
                if item.message_id not in self._items:
                    self._report(
                        "STREAM-ITEM-004",
                        f"step {step_id} says it created message {item.message_id!r}, "
                        "which never appeared in the stream",
                        where="/step_details/message_creation",
                    )
            if item.step_type == "tool_calls" and item.args:
                self._check_tool_fold(step_id, item, details)
            item.args, item.call_ids = {}, {}
        elif suffix == "in_progress" and item.phase == "created":
            item.phase = "in_progress"
        self._snapshot(step_id, data)

    def _on_step_delta(self, step_id: str, item: _Item | None, data: dict[str, Any]) -> None:
        self.judged.update(("STREAM-ITEM-001", "STREAM-ITEM-002"))
        if item is None:
            self._report("STREAM-ITEM-002", f"a delta for step {step_id}, which this stream never created")
            return
        if item.phase == "ended":
            self._report("STREAM-ITEM-001", f"a delta for step {step_id} after it ended")
            return
        item.phase = "delta"
        details = (data.get("delta") or {}).get("step_details") or {}
        if self._keep and step_id in self.last_snapshots:
            self._fold_into_snapshot(self.last_snapshots[step_id], details)
        for call in details.get("tool_calls") or []:
            index = call["index"]
            if call.get("id"):
                item.call_ids[index] = call["id"]
            function = call.get("function") or {}
            item.args.setdefault(index, []).append(function.get("arguments") or "")

    @staticmethod
    def _fold_into_snapshot(snapshot: dict[str, Any], details: dict[str, Any]) -> None:
        """Apply a step delta to the step's last snapshot, as a client would, so it can be compared with GET."""
        calls = snapshot.setdefault("step_details", {}).setdefault("tool_calls", [])
        for call in details.get("tool_calls") or []:
            index = call["index"]
            while len(calls) <= index:
                calls.append({})
            target = calls[index]
            for key in ("id", "type"):
                if key in call:
                    target[key] = call[key]
            if "function" in call:
                function = target.setdefault("function", {})
                for key, value in call["function"].items():
                    if key == "arguments":
                        function["arguments"] = function.get("arguments", "") + (value or "")
                    else:
                        function[key] = value

    def _check_tool_fold(self, step_id: str, item: _Item, details: dict[str, Any]) -> None:
        self.judged.add("STREAM-FOLD-002")
        calls = details.get("tool_calls") or []
        for index, parts in item.args.items():
            folded = "".join(parts)
            final = ((calls[index] if index < len(calls) else {}).get("function") or {}).get("arguments")
            if final is not None and final != folded:
                self._report(
                    "STREAM-FOLD-002",
                    f"step {step_id} tool call {index}: the argument deltas add up to "
                    f"{folded[:60]!r} but the step says {final[:60]!r}",
                    where=f"/step_details/tool_calls/{index}/function/arguments",
                )

    # ------------------------------------------------------------------ end
    def finish(self, cut: str | None = None) -> list[Violation]:
        """The end of the stream. How it ended is one rule (STREAM-END-001): `done`, then the close.
        A stream cut off or closed early is judged on what it sent; what it never sent (its `done`,
        its runs' endings) is that one finding, not a cascade of others."""
        self._frame = None
        where = f"after {self._frames} frame(s)" + (f", the last `{self._last_event}`" if self._last_event else "")
        if cut is not None:
            self.judged.add("STREAM-END-001")
            if self._done is not None:
                self._report("STREAM-END-001", f"`done` arrived, but the server did not close the stream: {cut}")
            else:
                self._report("STREAM-END-001", f"the stream broke off {where}: {cut}")
            return self.violations
        if not self._frames:
            self.judged.add("STREAM-END-001")
            self._report("STREAM-END-001", "the stream was closed without sending a single event")
            return self.violations
        if not self.events_seen:  # frames, none named: SSE-EVENT-001 said so; the grammar had nothing to follow
            return self.violations
        self.judged.add("STREAM-END-001")
        if self.operation in ("createRun", "submitToolOuputsToRun"):
            self.judged.add("STREAM-THREAD-001")  # and only there: no `thread.created` in these streams
        if self._done is None:
            if not self._error_seen:  # after an `error` event a stream may end early (STREAM-ERROR-001)
                self._report("STREAM-END-001", f"the stream was closed without a `done` event, {where}")
            return self.violations
        if self._runs:
            self.judged.add("STREAM-RUN-003")
        for run_id, run in self._runs.items():
            if run.terminal == 0 and run.status != "requires_action" and not self._error_seen:
                self._report(
                    "STREAM-RUN-003",
                    f"run {run_id} never reached a terminal event before `done` (last status {run.status!r})",
                )
        return self.violations

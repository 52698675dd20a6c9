"""Runs: the state machine that moves a run through its statuses and emits its events.

One asyncio task drives each active run. Every snapshot is written to the store *before* its
event is handed to a listener, so a GET issued after any event sees at least that state, and
after the stream ends GET returns exactly the last streamed snapshots (deltas folded in).
Streamed and polled runs share this code; a stream is just a listener queue of SSE frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from assistants_conformance.reference import objects
from assistants_conformance.reference.model import (
    FAIL_TRIGGER,
    SLOW_PACE,
    Plan,
    chunk,
    count_tokens,
    plan_run,
    truncate_tokens,
)
from assistants_conformance.reference.store import Store

TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled", "expired"})
ACTIVE = frozenset({"queued", "in_progress", "requires_action", "cancelling"})
DONE_FRAME = b"event: done\ndata: [DONE]\n\n"
Frames = asyncio.Queue[bytes | None]


def frame(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class _Cancelled(Exception):
    """Raised inside a run's task when a cancel request was seen between two events."""


@dataclass(eq=False)
class RunState:
    run: dict[str, Any]
    listener: Frames | None = None
    pace: float = 0.0
    cancel_requested: bool = False
    task: asyncio.Task[None] | None = None
    step: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class RunEngine:
    def __init__(self, store: Store, pace: float = 0.0) -> None:
        self.store = store
        # Prompt tokens of runs paused in requires_action (their usage stays null until the end).
        self._paused_tokens: dict[str, int] = {}
        self.pace = pace
        self._active: dict[str, RunState] = {}

    # ------------------------------------------------------------------ entry points
    def start(self, run: dict[str, Any], *, stream: bool, thread: dict[str, Any] | None = None) -> Frames | None:
        """Drive a newly stored (queued) run; returns its frame queue when streamed."""
        state = self._state(run, stream)
        state.task = asyncio.get_running_loop().create_task(self._guard(state, self._new_run(state, thread)))
        return state.listener

    def resume(self, run: dict[str, Any], outputs: dict[str, str], *, stream: bool) -> Frames | None:
        """Continue a run paused in requires_action with the caller's tool outputs."""
        state = self._state(run, stream)
        state.step = self._open_step(run)
        calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
        run["status"] = "queued"
        run["required_action"] = None
        self.store.update(run)
        work = self._resumed(state, outputs, calls)
        state.task = asyncio.get_running_loop().create_task(self._guard(state, work))
        return state.listener

    def cancel(self, run: dict[str, Any]) -> dict[str, Any]:
        """Ask an active run to stop; answers the run as `cancelling`."""
        state = self._active.get(run["id"])
        if state is None:  # paused in requires_action: nothing is driving it, settle it here
            state = self._state(run, stream=False)
            state.step = self._open_step(run)
            state.task = asyncio.get_running_loop().create_task(self._guard(state, self._settle_cancel(state)))
        state.cancel_requested = True
        state.run["status"] = "cancelling"
        state.run["required_action"] = None
        self._emit(state, "thread.run.cancelling", state.run)
        return dict(state.run)

    def forget_thread(self, thread_id: str) -> None:
        """Stop the tasks of a deleted thread's runs (their rows are already gone)."""
        for state in list(self._active.values()):
            if state.run["thread_id"] == thread_id and state.task is not None:
                state.extra["forgotten"] = True
                state.task.cancel()

    async def shutdown(self) -> None:
        tasks = [s.task for s in self._active.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ------------------------------------------------------------------ plumbing
    def _state(self, run: dict[str, Any], stream: bool) -> RunState:
        state = RunState(run=run, listener=asyncio.Queue() if stream else None, pace=self.pace)
        self._active[run["id"]] = state
        return state

    def _open_step(self, run: dict[str, Any]) -> dict[str, Any] | None:
        steps = self.store.children("step", run["id"])
        return next((s for s in reversed(list(steps)) if s["status"] == "in_progress"), None)

    def _emit(self, state: RunState, event: str, data: dict[str, Any], *, persist: bool = True) -> None:
        if persist and not state.extra.get("forgotten"):
            self.store.update(data)
        if state.listener is not None:
            state.listener.put_nowait(frame(event, data))

    async def _tick(self, state: RunState) -> None:
        await asyncio.sleep(state.pace)
        if state.cancel_requested:
            raise _Cancelled

    async def _guard(self, state: RunState, work: Any) -> None:
        """Run one phase; whatever happens, settle the run and close the stream."""
        try:
            await work
        except _Cancelled:
            await self._settle_cancel(state)
        except asyncio.CancelledError:
            if not state.extra.get("forgotten"):
                raise
        except Exception as exc:  # a bug must still leave a valid, terminal run behind
            self._fail(state, f"The reference server failed: {exc.__class__.__name__}.")
        finally:
            self._active.pop(state.run["id"], None)
            if state.listener is not None:
                state.listener.put_nowait(None)

    # ------------------------------------------------------------------ phases
    async def _new_run(self, state: RunState, thread: dict[str, Any] | None) -> None:
        run = state.run
        if thread is not None:
            self._emit(state, "thread.created", thread, persist=False)
        self._emit(state, "thread.run.created", run, persist=False)
        self._emit(state, "thread.run.queued", run, persist=False)
        plan = plan_run(run, list(self.store.children("message", run["thread_id"])))
        state.pace = SLOW_PACE if plan.slow else state.pace
        state.prompt_tokens = plan.prompt_tokens
        await self._tick(state)
        run["status"] = "in_progress"
        run["started_at"] = objects.now()
        self._emit(state, "thread.run.in_progress", run)
        await self._tick(state)
        await self._work(state, plan)

    async def _resumed(self, state: RunState, outputs: dict[str, str], calls: list[dict[str, Any]]) -> None:
        run = state.run
        self._emit(state, "thread.run.queued", run, persist=False)
        messages = list(self.store.children("message", run["thread_id"]))
        named = [(call["function"]["name"], outputs[call["id"]]) for call in calls]
        plan = plan_run(run, messages, tool_outputs=named)
        state.pace = SLOW_PACE if plan.slow else state.pace
        state.prompt_tokens = self._paused_tokens.pop(run["id"], 0) + plan.prompt_tokens
        await self._tick(state)
        run["status"] = "in_progress"
        self._emit(state, "thread.run.in_progress", run)
        step = state.step
        if step is not None:
            for call in step["step_details"]["tool_calls"]:
                call["function"]["output"] = outputs.get(call["id"], "")
            step["status"] = "completed"
            step["completed_at"] = objects.now()
            step["usage"] = objects.usage(0, 0)
            self._emit(state, "thread.run.step.completed", step)
            state.step = None
        await self._tick(state)
        await self._work(state, plan)

    async def _work(self, state: RunState, plan: Plan) -> None:
        if plan.incomplete_reason is not None:
            self._finish(state, "incomplete", {"reason": plan.incomplete_reason})
        elif plan.fail:
            self._fail(state, f"The scripted model was asked to fail ({FAIL_TRIGGER}).")
        elif plan.tool_calls:
            await self._ask_for_tools(state, plan)
        else:
            await self._answer(state, plan)

    async def _answer(self, state: RunState, plan: Plan) -> None:
        run = state.run
        message = objects.assistant_message(run["thread_id"], run["assistant_id"], run["id"])
        self.store.insert("message", message, parent=run["thread_id"], thread_id=run["thread_id"], run_id=run["id"])
        step = await self._open_step_of(
            state, {"type": "message_creation", "message_creation": {"message_id": message["id"]}}
        )
        state.message = message
        self._emit(state, "thread.message.created", message, persist=False)
        await self._tick(state)
        self._emit(state, "thread.message.in_progress", message, persist=False)
        await self._tick(state)

        limit = run.get("max_completion_tokens")
        cut = limit is not None and count_tokens(plan.answer) > limit
        text = truncate_tokens(plan.answer, limit) if cut and limit is not None else plan.answer
        written = ""
        for piece in chunk(text):
            written += piece
            message["content"] = [{"type": "text", "text": {"value": written, "annotations": []}}]
            self.store.update(message)
            delta = {"index": 0, "type": "text", "text": {"value": piece, "annotations": []}}
            self._emit(
                state,
                "thread.message.delta",
                {"id": message["id"], "object": "thread.message.delta", "delta": {"content": [delta]}},
                persist=False,
            )
            await self._tick(state)
        state.completion_tokens = count_tokens(written)
        if cut:
            message.update(
                status="incomplete", incomplete_at=objects.now(), incomplete_details={"reason": "max_tokens"}
            )
            self._emit(state, "thread.message.incomplete", message)
        else:
            message.update(status="completed", completed_at=objects.now())
            self._emit(state, "thread.message.completed", message)
        state.message = None
        step.update(
            status="completed",
            completed_at=objects.now(),
            usage=objects.usage(state.prompt_tokens, state.completion_tokens),
        )
        self._emit(state, "thread.run.step.completed", step)
        state.step = None
        if cut:
            self._finish(state, "incomplete", {"reason": "max_completion_tokens"})
        else:
            self._finish(state, "completed")

    async def _open_step_of(self, state: RunState, details: dict[str, Any]) -> dict[str, Any]:
        """Store a new in-progress step and announce it (created, then in_progress)."""
        run = state.run
        step = objects.step(run, details)
        self.store.insert("step", step, parent=run["id"], thread_id=run["thread_id"])
        state.step = step
        self._emit(state, "thread.run.step.created", step, persist=False)
        await self._tick(state)
        self._emit(state, "thread.run.step.in_progress", step, persist=False)
        await self._tick(state)
        return step

    async def _ask_for_tools(self, state: RunState, plan: Plan) -> None:
        run = state.run
        step = await self._open_step_of(state, {"type": "tool_calls", "tool_calls": []})
        required = []
        for index, call in enumerate(plan.tool_calls):
            entry: dict[str, Any] = {
                "id": objects.new_id("call"),
                "type": "function",
                "function": {"name": call.name, "arguments": "", "output": None},
            }
            step["step_details"]["tool_calls"].append(entry)
            self.store.update(step)
            self._step_delta(
                state,
                step,
                {
                    "index": index,
                    "id": entry["id"],
                    "type": "function",
                    "function": {"name": call.name, "arguments": "", "output": None},
                },
            )
            await self._tick(state)
            for piece in [call.arguments[i : i + 12] for i in range(0, len(call.arguments), 12)]:
                entry["function"]["arguments"] += piece
                self.store.update(step)
                self._step_delta(state, step, {"index": index, "type": "function", "function": {"arguments": piece}})
                await self._tick(state)
            required.append(
                {"id": entry["id"], "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            )
        run["status"] = "requires_action"
        run["required_action"] = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": required}}
        run["usage"] = None  # "null if the run is not in a terminal state": counted on, reported at the end
        self._paused_tokens[run["id"]] = state.prompt_tokens
        self._emit(state, "thread.run.requires_action", run)

    def _step_delta(self, state: RunState, step: dict[str, Any], call: dict[str, Any]) -> None:
        self._emit(
            state,
            "thread.run.step.delta",
            {
                "id": step["id"],
                "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}},
            },
            persist=False,
        )

    # ------------------------------------------------------------------ endings
    def _finish(self, state: RunState, status: str, incomplete: dict[str, Any] | None = None) -> None:
        run = state.run
        run["status"] = status
        run["expires_at"] = None
        if status == "completed":
            run["completed_at"] = objects.now()
        run["incomplete_details"] = incomplete
        run["usage"] = objects.usage(state.prompt_tokens, state.completion_tokens)
        self._emit(state, f"thread.run.{status}", run)

    def _fail(self, state: RunState, message: str) -> None:
        run = state.run
        when = objects.now()
        if state.message is not None:
            state.message.update(status="incomplete", incomplete_at=when, incomplete_details={"reason": "run_failed"})
            self._emit(state, "thread.message.incomplete", state.message)
        if state.step is not None:
            state.step.update(
                status="failed",
                failed_at=when,
                last_error={"code": "server_error", "message": message},
                usage=objects.usage(0, 0),  # reported once the step ends (RUN-USAGE-001)
            )
            self._emit(state, "thread.run.step.failed", state.step)
        run.update(
            status="failed",
            failed_at=when,
            expires_at=None,
            required_action=None,
            last_error={"code": "server_error", "message": message},
            usage=objects.usage(state.prompt_tokens, state.completion_tokens),
        )
        self._emit(state, "thread.run.failed", run)

    async def _settle_cancel(self, state: RunState) -> None:
        await asyncio.sleep(max(state.pace, 0.001))  # let the cancel request answer `cancelling` first
        run = state.run
        when = objects.now()
        if state.message is not None:
            state.message.update(
                status="incomplete", incomplete_at=when, incomplete_details={"reason": "run_cancelled"}
            )
            self._emit(state, "thread.message.incomplete", state.message)
        if state.step is not None:
            state.step.update(status="cancelled", cancelled_at=when, usage=objects.usage(0, 0))
            self._emit(state, "thread.run.step.cancelled", state.step)
        run.update(
            status="cancelled",
            cancelled_at=when,
            expires_at=None,
            required_action=None,
            usage=objects.usage(state.prompt_tokens, state.completion_tokens),
        )
        self._emit(state, "thread.run.cancelled", run)

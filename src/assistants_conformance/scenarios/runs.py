"""Runs, streamed and polled: snapshots vs GET, settings, modify, cancel mid-stream; tool calls are
in tool_calls.py, and how a run is started, streamed and polled in run_io.py."""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import quote

from assistants_conformance.checks.catalogue import judged_in
from assistants_conformance.context import Context
from assistants_conformance.errors import TargetUnreachable
from assistants_conformance.findings import shown
from assistants_conformance.scenarios.objects import changed_fields
from assistants_conformance.scenarios.pagination import ITEMS, walk
from assistants_conformance.scenarios.run_io import (
    PROMPT,
    TERMINAL,
    is_stream,
    poll,
    polled_answer,
    snapshots_match,
    stream,
)
from assistants_conformance.scenarios.tool_calls import WEATHER, polled_tool_calls, streamed_tool_call
from assistants_conformance.target import BudgetExhausted, Response
from assistants_conformance.validate.sse import SSEParser

CHECKS = judged_in("runs")


def run(ctx: Context) -> None:
    assistant = ctx.make_assistant(name="conformance: runs", instructions="Answer briefly.", tools=[WEATHER])
    if assistant is None:
        ctx.cannot(CHECKS, "createAssistant did not answer an assistant, so no run could be started")
        return
    aid = assistant["id"]
    small = {"max_completion_tokens": 256}

    # Each streaming operation is exercised on its own path and thread, so a server lacking one
    # still has every stream rule judged through the others (the evidence names the operation).
    if ctx.can("streaming"):
        _streamed_thread_and_run(ctx, aid, small)
        _streamed_run(ctx, aid, small)
        _cancelled_while_streaming(ctx, aid, small)
    tid = _polled_run(ctx, assistant, small)
    _polled_thread_and_run(ctx, assistant, small)
    if not ctx.can("function_tools"):
        return
    if ctx.can("streaming"):
        streamed_tool_call(ctx, aid, small)
    polled_tool_calls(ctx, aid, small)
    if tid is not None:
        _paginate_runs_and_steps(ctx, tid, aid)


# What a run states it used ("the instructions that the assistant used for this run"), and what a
# run request sends instead of the assistant's (RUN-SETTINGS-001).
SETTINGS = ("model", "instructions", "tools")
OVERRIDE = {"instructions": "Answer in one word.", "tools": []}


def _judge_settings(ctx: Context, response: Response, expected: dict[str, Any], source: str) -> None:
    """RUN-SETTINGS-001: "If a value is provided here, it will override the model associated with
    the assistant. If not, the model associated with the assistant will be used" (and so for
    instructions and tools)."""
    run = response.object()
    if not response.ok or not run:
        return  # the run's own checks report a createRun that failed
    for name, value in expected.items():
        ctx.expect(
            "RUN-SETTINGS-001",
            run.get(name) == value,
            f"a run {source} shows {name} {shown(run.get(name))}; expected {shown(value)}",
            response,
            where=name,
        )


def _paginate_runs_and_steps(ctx: Context, tid: str, aid: str) -> None:
    """The thread is topped up to five runs (tiny ones: one short prompt, the minimum 256 completion tokens, no
    tools, instructions of their own), so the run list is walked at every page size like the other
    lists. Each run has only one or two steps (more would take many tool calls), so step lists are
    walked as they are."""
    url = f"/threads/{tid}/runs"
    runs = ctx.call("GET", url, params={"limit": 100, "order": "asc"})
    count = len(runs.items())
    for n in range(max(0, ITEMS - count)):
        ctx.call("POST", f"/threads/{tid}/messages", json_body={"role": "user", "content": PROMPT})
        made = ctx.call(
            "POST",
            url,
            json_body={"assistant_id": aid, "tool_choice": "none", "max_completion_tokens": 256, **OVERRIDE},
        )
        if n == 0:
            _judge_settings(ctx, made, OVERRIDE, "that sends instructions and tools of its own")
        if not made.ok or poll(ctx, tid, str(made.object().get("id", "")), set(), made) is None:
            break  # RUN-POLL-001 judges runs that do not finish; walk what there is
    for order in ("asc", "desc"):
        # The server's own full listing is the expectation: runs started in the same second may
        # come in either order (PAGE-006 judges order against timestamps on messages).
        run_ids = ctx.call("GET", url, params={"limit": 100, "order": order}).ids()
        for limit in range(1, min(len(run_ids), ITEMS) + 1):
            walk(ctx, url, order, limit, run_ids)
    for rid in ctx.call("GET", url, params={"limit": 100, "order": "asc"}).ids():
        if not isinstance(rid, str):
            continue
        steps_url = f"{url}/{rid}/steps"
        for order in ("asc", "desc"):
            ids = ctx.call("GET", steps_url, params={"limit": 100, "order": order}).ids()
            if len(ids) >= 2:
                walk(ctx, steps_url, order, 1, ids)
        if ids and isinstance(ids[0], str):  # an id a list gives reads back (RESP-ID-001)
            step = ctx.call("GET", f"{steps_url}/{quote(ids[0], safe='')}")
            ctx.expect(
                "RESP-ID-001",
                step.ok,
                f"listRunSteps gave step id {ids[0][:80]!r}; getRunStep for it answered HTTP {step.status}",
                step,
            )


def _streamed_thread_and_run(ctx: Context, aid: str, small: dict[str, Any]) -> None:
    # Thread-and-run, streamed; then the same objects through GET; then the run_id filter.
    streamed = stream(
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
    final = snapshots_match(ctx, streamed)  # also records the thread the stream made, for clean-up
    if final is not None:
        ctx.created_resource("thread", f"/threads/{quote(final['thread_id'], safe='')}")
        _messages_of_run(ctx, final["thread_id"], final["id"])


def _messages_of_run(ctx: Context, thread_id: str, run_id: str) -> None:
    """MSG-001: listing a thread's messages with run_id gives that run's messages only."""
    listed = ctx.call("GET", f"/threads/{thread_id}/messages", params={"run_id": run_id})
    data = listed.items()
    ctx.expect(
        "MSG-001",
        bool(data) and all(m.get("run_id") == run_id for m in data),
        f"listMessages?run_id={run_id} gave {len(data)} messages, not all of that run",
        listed,
    )


def _streamed_run(ctx: Context, aid: str, small: dict[str, Any]) -> None:
    """createRun with `stream: true` on a thread made by createThread."""
    thread = ctx.make_thread(PROMPT)
    if thread is None:
        ctx.notes.append("runs: createThread failed, so createRun was not streamed")
        return
    streamed = stream(ctx, f"/threads/{thread['id']}/runs", {"assistant_id": aid, "tool_choice": "none", **small})
    final = snapshots_match(ctx, streamed)
    if final is not None:
        _messages_of_run(ctx, thread["id"], final["id"])


# A request for a long answer, so that on a server whose model writes as it streams the run is
# still in progress when the cancel lands. `#slow` is the reference server's cue to pace its
# events (to any other server it is two more characters of the prompt).
LONG_PROMPT = "Count from one to forty in words, one number per line. #slow"
_WRITING = frozenset({"thread.message.created", "thread.message.in_progress", "thread.message.delta"})
_ENDED = frozenset(f"thread.run.{status}" for status in TERMINAL)


class _CancelWhileWriting:
    """Reads a run's stream as it arrives; once the run is announced and its answer has begun (a
    message event), cancels it from another thread: the stream is read on, within its deadline,
    while the cancel is answered. Cancelled there, the run has a step and a message in progress,
    so their endings are shown too. It notes when the stream showed the run ended, and when the
    cancel was answered: a refusal that came while the run still streamed is the server's."""

    def __init__(self, ctx: Context, thread_id: str) -> None:
        self.ctx = ctx
        self.thread_id = thread_id
        self.frames = SSEParser()  # its framing verdicts are the stream validators' business
        self.run_id: str | None = None
        self.writing = False
        self.sent = False
        self.answer: Response | None = None
        self.failure = ""
        self.ended: float | None = None  # when the stream's run event said it ended
        self.answered: float | None = None  # when the cancel was answered
        self._sender: threading.Thread | None = None

    def __call__(self, chunk: bytes) -> None:
        if self.ended is not None:
            return
        for frame in self.frames.feed(chunk):  # all of this chunk first: it may say the run ended
            event = frame.event or ""
            if event in _ENDED:
                self.ended = time.monotonic()
                return
            self.writing = self.writing or event in _WRITING
            if self.run_id is None and event.startswith("thread.run."):
                run = _json_object(frame.data)  # a malformed one names no run (STREAM-* report it)
                if run.get("object") == "thread.run" and isinstance(run.get("id"), str):
                    self.run_id = run["id"]
        if self.run_id and self.writing and not self.sent:
            self.sent = True
            self._sender = threading.Thread(target=self._cancel, name="cancel-mid-stream", daemon=True)
            self._sender.start()

    def _cancel(self) -> None:
        path = f"/threads/{quote(self.thread_id, safe='')}/runs/{quote(str(self.run_id), safe='')}/cancel"
        try:
            self.answer = self.ctx.call("POST", path)
        except (TargetUnreachable, BudgetExhausted) as exc:
            self.failure = str(exc)
        self.answered = time.monotonic()

    def join(self) -> None:
        if self._sender is not None:
            self._sender.join(timeout=self.ctx.target.timeout + 5.0)

    def still_streaming_when_answered(self) -> bool:
        return self.answered is not None and (self.ended is None or self.ended > self.answered)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _cancelled_while_streaming(ctx: Context, aid: str, small: dict[str, Any]) -> None:
    """RUN-CANCEL-002: a run cancelled while its stream is read ends cancelled, and its stream says so;
    a cancel refused while the run still streamed fails it too. A server whose run ended before the
    cancel was answered (it finished first, or its stream arrived whole) has not shown the behaviour,
    and is not blamed: the check is then not triggered."""
    thread = ctx.make_thread(LONG_PROMPT)
    if thread is None:
        ctx.notes.append("runs: createThread failed, so no run was cancelled while it streamed")
        return
    watcher = _CancelWhileWriting(ctx, thread["id"])
    streamed = stream(
        ctx, f"/threads/{thread['id']}/runs", {"assistant_id": aid, "tool_choice": "none", **small}, on_chunk=watcher
    )
    watcher.join()
    answer = watcher.answer
    status = answer.object().get("status") if answer is not None else None
    accepted = answer is not None and answer.ok and status in ("cancelling", "cancelled")
    if answer is not None and not accepted and watcher.still_streaming_when_answered():
        ctx.expect(
            "RUN-CANCEL-002",
            False,
            f"cancelRun answered HTTP {answer.status} with run status {shown(status)} while the run's stream was still "
            "going (its end came after that answer)",
            answer,
        )
        return
    if not accepted:
        unsent = (
            "createRun with `stream: true` answered no event stream"
            if not (streamed.ok and is_stream(streamed))
            else "the stream showed its run ended before it could be cancelled (sent whole, or the run was quick)"
            if watcher.ended
            else "the stream never showed its run writing a message"
        )
        why = (
            unsent
            if not watcher.sent
            else f"cancelRun did not answer ({watcher.failure})"
            if answer is None
            else f"cancelRun answered HTTP {answer.status} with run status {shown(status)} after the run had ended"
        )
        ctx.notes.append(f"RUN-CANCEL-002 not triggered: no cancel landed while a run streamed: {why}")
        return
    final = snapshots_match(ctx, streamed)
    settled = poll(ctx, thread["id"], str(watcher.run_id), set())
    streamed_status = final.get("status") if final is not None else None
    ended = (
        f"the stream broke off before the run's end (its last run event showed {shown(streamed_status)})"
        if streamed.cut is not None
        else f"the stream's last run event showed {shown(streamed_status)}"
    )
    ctx.expect(
        "RUN-CANCEL-002",
        streamed_status == "cancelled" and settled is not None and settled.get("status") == "cancelled",
        f"cancelRun answered {shown(status)} while the run streamed; {ended}, and getRun then "
        + (shown(settled.get("status")) if settled else f"answered nothing ({ctx.last_poll})"),
        streamed if streamed.cut is None else answer,
    )


def _polled_run(ctx: Context, assistant: dict[str, Any], small: dict[str, Any]) -> str | None:
    # A polled run on an existing thread, with the assistant's model, instructions and tools.
    thread = ctx.make_thread(PROMPT)
    if thread is None:
        return None
    tid: str = thread["id"]
    aid = assistant["id"]
    # The user's message as it stands before any run; read again after it, what a run must not
    # change of it is judged (RESP-IDENTITY-001).
    ctx.call("GET", f"/threads/{tid}/messages", params={"limit": 100})
    created = ctx.call("POST", f"/threads/{tid}/runs", json_body={"assistant_id": aid, "tool_choice": "none", **small})
    _judge_settings(ctx, created, {k: assistant.get(k) for k in SETTINGS}, "that names none of its own settings")
    body = created.object()
    done = poll(ctx, tid, str(body.get("id", "")), set(), created) if created.ok else None
    if not created.ok:
        last = f"createRun answered HTTP {created.status}"
    elif done is None:
        last = ctx.last_poll
    else:
        last = f"it ended polling as {shown(done.get('status'))}"
    ctx.expect(
        "RUN-POLL-001",
        done is not None and done.get("status") in TERMINAL,
        f"a polled run did not reach a terminal status: {last}",
        polled_answer(ctx, created, done),
    )
    if done is not None and isinstance(done.get("id"), str):
        _messages_of_run(ctx, tid, done["id"])
        ctx.call("GET", f"/threads/{tid}/messages", params={"limit": 100})  # the user's message again
        _modify_run(ctx, tid, done)
    return tid


def _modify_run(ctx: Context, tid: str, done: dict[str, Any]) -> None:
    """RUN-MODIFY-001: modifyRun sets a finished run's metadata, answers the run so, and nothing
    else of it moves; a read-back agrees."""
    path = f"/threads/{tid}/runs/{quote(done['id'], safe='')}"
    metadata = {**ctx.tag, "conformance_note": "set by modifyRun"}
    changed = ctx.call("POST", path, json_body={"metadata": metadata})
    for response, source in ((changed, "modifyRun"), (ctx.call("GET", path), "getRun after modifyRun")):
        answered = response.object()
        moved = [k for k in changed_fields(done, answered, "Run") if k != "metadata"]
        ctx.expect(
            "RUN-MODIFY-001",
            response.ok and answered.get("metadata") == metadata and not moved,
            f"{source} answered HTTP {response.status} "
            + (f"with {moved} changed too" if moved else f"with metadata {shown(answered.get('metadata'))}"),
            response,
        )
        if not changed.ok:
            break


def _polled_thread_and_run(ctx: Context, assistant: dict[str, Any], small: dict[str, Any]) -> None:
    """createThreadAndRun without a stream: the run it answers is polled to its end."""
    body = {
        "assistant_id": assistant["id"],
        "tool_choice": "none",
        **small,
        "metadata": ctx.tag,
        "thread": {"messages": [{"role": "user", "content": PROMPT}], "metadata": ctx.tag},
    }
    created = ctx.call("POST", "/threads/runs", json_body=body)
    run = created.object()
    if created.ok and isinstance(run.get("thread_id"), str):
        ctx.created_resource("thread", f"/threads/{quote(run['thread_id'], safe='')}")
    _judge_settings(ctx, created, {k: assistant.get(k) for k in SETTINGS}, "made with its thread")
    done = (
        poll(ctx, run["thread_id"], str(run.get("id", "")), set(), created)
        if created.ok and isinstance(run.get("thread_id"), str)
        else None
    )
    ctx.expect(
        "RUN-POLL-001",
        done is not None and done.get("status") in TERMINAL,
        "a polled thread-and-run did not reach a terminal status: "
        + (f"createThreadAndRun answered HTTP {created.status}" if not created.ok else ctx.last_poll),
        polled_answer(ctx, created, done),
    )

"""One function per contract operation, keyed by operationId.

Each receives the validated inputs (path parameters, query, body) and returns a JSON-able
object or a stream of SSE frames; errors are raised as ApiError. The request plumbing (auth,
validation, error envelopes) lives in app.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from assistants_conformance.reference import objects
from assistants_conformance.reference.engine import ACTIVE, DONE_FRAME, TERMINAL, Frames, RunEngine
from assistants_conformance.reference.errors import ApiError, not_found
from assistants_conformance.reference.store import Store


@dataclass(frozen=True, slots=True)
class Call:
    path: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any]


class Stream:
    """A streamed answer: SSE frames from a run's listener queue, ending with `done`."""

    def __init__(self, frames: Frames) -> None:
        self.frames = frames

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.frames.get()
            if item is None:
                yield DONE_FRAME
                return
            yield item


Result = dict[str, Any] | Stream
Handler = Callable[["Api", Call], Coroutine[Any, Any, Result]]
HANDLERS: dict[str, Handler] = {}


def operation(operation_id: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[operation_id] = func
        return func

    return register


def set_metadata(obj: dict[str, Any], body: dict[str, Any]) -> None:
    """Modify semantics for metadata: a sent object replaces the old one whole; null clears it to {}."""
    if "metadata" in body:
        obj["metadata"] = body["metadata"] or {}


def page(store_page: Any) -> dict[str, Any]:
    items = store_page.items
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": store_page.has_more,
    }


class Api:
    """The operations over one store and one run engine."""

    def __init__(self, store: Store, engine: RunEngine) -> None:
        self.store = store
        self.engine = engine

    # ----------------------------------------------------------------- lookups
    def assistant(self, assistant_id: str, param: str = "assistant_id") -> dict[str, Any]:
        found = self.store.get("assistant", assistant_id)
        if found is None:
            raise not_found("assistant", assistant_id, param)
        return found

    def thread(self, thread_id: str) -> dict[str, Any]:
        found = self.store.get("thread", thread_id)
        if found is None:
            raise not_found("thread", thread_id, "thread_id")
        return found

    def message(self, thread_id: str, message_id: str) -> dict[str, Any]:
        self.thread(thread_id)
        found = self.store.get("message", message_id, parent=thread_id)
        if found is None:
            raise not_found("message", message_id, "message_id")
        return found

    def run(self, thread_id: str, run_id: str) -> dict[str, Any]:
        self.thread(thread_id)
        found = self.store.get("run", run_id, parent=thread_id)
        if found is None:
            raise not_found("run", run_id, "run_id")
        return found

    def listing(self, kind: str, parent: str | None, query: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return page(
            self.store.list(
                kind,
                parent=parent,
                limit=query["limit"],
                order=query["order"],
                after=query.get("after"),
                before=query.get("before"),
                **extra,
            )
        )

    def add_messages(self, thread_id: str, bodies: list[dict[str, Any]]) -> None:
        for body in bodies:
            self.store.insert("message", objects.user_message(thread_id, body), parent=thread_id, thread_id=thread_id)

    def refuse_if_busy(self, thread_id: str, doing: str) -> None:
        active = self.store.active_run(thread_id)
        if active is not None:
            raise ApiError(
                400,
                f"Can't {doing} thread {thread_id} while a run {active['id']} is active.",
                param="thread_id",
                code="thread_busy",
            )

    def start_run(self, thread_id: str, body: dict[str, Any], thread: dict[str, Any] | None = None) -> Result:
        asst = self.assistant(body["assistant_id"], param="assistant_id")
        run = objects.run(thread_id, asst, body)
        self.store.insert("run", run, parent=thread_id, thread_id=thread_id)
        frames = self.engine.start(run, stream=bool(body.get("stream")), thread=thread)
        return Stream(frames) if frames is not None else dict(run)


# --------------------------------------------------------------------- assistants
@operation("listAssistants")
async def list_assistants(api: Api, call: Call) -> Result:
    return api.listing("assistant", None, call.query)


@operation("createAssistant")
async def create_assistant(api: Api, call: Call) -> Result:
    return api.store.insert("assistant", objects.assistant(call.body))


@operation("getAssistant")
async def get_assistant(api: Api, call: Call) -> Result:
    return api.assistant(call.path["assistant_id"])


@operation("modifyAssistant")
async def modify_assistant(api: Api, call: Call) -> Result:
    current = api.assistant(call.path["assistant_id"])
    return api.store.update(objects.modify_assistant(current, call.body))


@operation("deleteAssistant")
async def delete_assistant(api: Api, call: Call) -> Result:
    found = api.assistant(call.path["assistant_id"])
    api.store.delete(found["id"])
    return objects.deleted("assistant", found["id"])


# --------------------------------------------------------------------- threads
@operation("createThread")
async def create_thread(api: Api, call: Call) -> Result:
    thread = api.store.insert("thread", objects.thread(call.body))
    api.add_messages(thread["id"], call.body.get("messages") or [])
    return thread


@operation("getThread")
async def get_thread(api: Api, call: Call) -> Result:
    return api.thread(call.path["thread_id"])


@operation("modifyThread")
async def modify_thread(api: Api, call: Call) -> Result:
    thread = api.thread(call.path["thread_id"])
    set_metadata(thread, call.body)
    if "tool_resources" in call.body:
        thread["tool_resources"] = objects.tool_resources(call.body["tool_resources"])
    return api.store.update(thread)


@operation("deleteThread")
async def delete_thread(api: Api, call: Call) -> Result:
    thread = api.thread(call.path["thread_id"])
    api.store.delete_thread(thread["id"])
    api.engine.forget_thread(thread["id"])
    return objects.deleted("thread", thread["id"])


# --------------------------------------------------------------------- messages
@operation("listMessages")
async def list_messages(api: Api, call: Call) -> Result:
    thread = api.thread(call.path["thread_id"])
    return api.listing("message", thread["id"], call.query, run_id=call.query.get("run_id"))


@operation("createMessage")
async def create_message(api: Api, call: Call) -> Result:
    thread = api.thread(call.path["thread_id"])
    api.refuse_if_busy(thread["id"], "add messages to")
    message = objects.user_message(thread["id"], call.body)
    return api.store.insert("message", message, parent=thread["id"], thread_id=thread["id"])


@operation("getMessage")
async def get_message(api: Api, call: Call) -> Result:
    return api.message(call.path["thread_id"], call.path["message_id"])


@operation("modifyMessage")
async def modify_message(api: Api, call: Call) -> Result:
    message = api.message(call.path["thread_id"], call.path["message_id"])
    set_metadata(message, call.body)
    return api.store.update(message)


@operation("deleteMessage")
async def delete_message(api: Api, call: Call) -> Result:
    message = api.message(call.path["thread_id"], call.path["message_id"])
    api.store.delete(message["id"])
    return objects.deleted("thread.message", message["id"])


# --------------------------------------------------------------------- runs
@operation("createThreadAndRun")
async def create_thread_and_run(api: Api, call: Call) -> Result:
    api.assistant(call.body["assistant_id"])  # 404 before anything is created
    spec = call.body.get("thread") or {}
    thread = api.store.insert("thread", objects.thread(spec))
    if call.body.get("tool_resources"):
        thread["tool_resources"] = objects.tool_resources(call.body["tool_resources"])
        api.store.update(thread)
    api.add_messages(thread["id"], spec.get("messages") or [])
    return api.start_run(thread["id"], call.body, thread=thread)


@operation("createRun")
async def create_run(api: Api, call: Call) -> Result:
    thread = api.thread(call.path["thread_id"])
    api.assistant(call.body["assistant_id"])
    api.refuse_if_busy(thread["id"], "create a run on")
    api.add_messages(thread["id"], call.body.get("additional_messages") or [])
    return api.start_run(thread["id"], call.body)


@operation("listRuns")
async def list_runs(api: Api, call: Call) -> Result:
    thread = api.thread(call.path["thread_id"])
    return api.listing("run", thread["id"], call.query)


@operation("getRun")
async def get_run(api: Api, call: Call) -> Result:
    return api.run(call.path["thread_id"], call.path["run_id"])


@operation("modifyRun")
async def modify_run(api: Api, call: Call) -> Result:
    run = api.run(call.path["thread_id"], call.path["run_id"])
    set_metadata(run, call.body)
    return api.store.update(run)


@operation("cancelRun")
async def cancel_run(api: Api, call: Call) -> Result:
    run = api.run(call.path["thread_id"], call.path["run_id"])
    if run["status"] == "cancelling":
        return run
    if run["status"] not in ACTIVE:
        raise ApiError(400, f"Cannot cancel run with status '{run['status']}'.", param=None, code="run_not_active")
    return api.engine.cancel(run)


@operation("submitToolOuputsToRun")
async def submit_tool_outputs(api: Api, call: Call) -> Result:
    run = api.run(call.path["thread_id"], call.path["run_id"])
    if run["status"] != "requires_action":
        raise ApiError(400, f"Runs in status '{run['status']}' do not accept tool outputs.", param=None)
    wanted = [c["id"] for c in run["required_action"]["submit_tool_outputs"]["tool_calls"]]
    given = {out["tool_call_id"]: out["output"] for out in call.body["tool_outputs"]}
    missing = [cid for cid in wanted if cid not in given]
    unknown = [cid for cid in given if cid not in wanted]
    if missing or unknown:
        detail = f"missing outputs for {missing}" if missing else f"no tool call with id {unknown[0]!r}"
        raise ApiError(400, f"Tool outputs must answer every requested tool call: {detail}.", param="tool_outputs")
    frames = api.engine.resume(run, given, stream=bool(call.body.get("stream")))
    return Stream(frames) if frames is not None else dict(run)


# --------------------------------------------------------------------- run steps
@operation("listRunSteps")
async def list_run_steps(api: Api, call: Call) -> Result:
    run = api.run(call.path["thread_id"], call.path["run_id"])
    return api.listing("step", run["id"], call.query)


@operation("getRunStep")
async def get_run_step(api: Api, call: Call) -> Result:
    run = api.run(call.path["thread_id"], call.path["run_id"])
    found = api.store.get("step", call.path["step_id"], parent=run["id"])
    if found is None:
        raise not_found("run step", call.path["step_id"], "step_id")
    return found


__all__ = ["HANDLERS", "TERMINAL", "Api", "Call", "Stream"]

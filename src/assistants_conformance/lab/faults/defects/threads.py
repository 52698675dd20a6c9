"""Defects in threads and messages."""

from __future__ import annotations

from typing import Any

from assistants_conformance.lab.faults.defects.shared import answer_gets_from, runs_in, strip_query
from assistants_conformance.lab.faults.middleware import Fault, Req, Res, answer, error
from assistants_conformance.lab.faults.registry import (
    MESSAGE,
    THREAD,
    after,
    before,
    fault,
    on_objects,
    rewrite_objects,
)


# ----------------------------------------------------------------------------- threads and messages
@fault("thread-survives-delete", "A deleted thread stays retrievable.", "threads", {"THREAD-001"}, leaves_objects=True)
def _thread_survives(key: str) -> Fault:
    seen: dict[str, Any] = {}
    deleted: dict[str, Any] = {}

    def remember(req: Req, res: Res) -> None:
        found = THREAD.match(req.path)
        if found and req.method == "GET" and res.status == 200:
            seen[found.group(1)] = res.json()
        if found and req.method == "DELETE" and res.status == 200 and found.group(1) in seen:
            deleted[found.group(1)] = seen[found.group(1)]

    return Fault("", before=answer_gets_from(THREAD, deleted), after=remember)


@fault("run-id-filter-ignored", "listMessages ignores `run_id` and returns every message.", "threads", {"MSG-001"})
def _run_id_ignored(key: str) -> Fault:
    return strip_query("run_id")(key)


@fault(
    "null-ids-as-empty-strings",
    'Messages carry `run_id: ""` and `assistant_id: ""` where there is none (a language\'s zero-value '
    "string serialised instead of null).",
    "threads",
    {"RESP-SCHEMA-001"},
)
def _empty_ids(key: str) -> Fault:
    def zero(message: dict[str, Any]) -> None:
        for name in ("run_id", "assistant_id"):
            if message.get(name) is None:
                message[name] = ""

    return on_objects("thread.message", zero)(key)


@fault(
    "user-messages-credited-to-the-assistant",
    "Once a thread has a run, reading its messages credits the user's messages to the run's assistant and run "
    "(a join on the thread that should have been on the message): their assistant_id and run_id change.",
    "threads",
    {"RESP-IDENTITY-001"},
)
def _credited(key: str) -> Fault:
    runs: dict[str, tuple[str, str]] = {}  # thread id → (assistant id, run id) of its latest run

    def change(req: Req, res: Res) -> None:
        if req.method == "POST" and res.status == 200:
            for item in runs_in(res):
                if isinstance(item.get("thread_id"), str):
                    runs[item["thread_id"]] = (str(item.get("assistant_id")), str(item.get("id")))
            return
        if req.method != "GET" or "/messages" not in req.path:
            return

        def credit(message: dict[str, Any]) -> None:
            if message.get("role") == "user" and message.get("thread_id") in runs:
                message["assistant_id"], message["run_id"] = runs[message["thread_id"]]

        rewrite_objects(res, "thread.message", credit)

    return after(change)(key)


@fault(
    "message-delete-is-a-no-op",
    "deleteMessage answers `deleted: true` but the message stays.",
    "threads",
    {"THREAD-001"},
)
def _message_delete_noop(key: str) -> Fault:
    def pretend(req: Req) -> Res | None:
        found = MESSAGE.match(req.path)
        if found and req.method == "DELETE":
            message_id = req.path.rsplit("/", 1)[1]
            return answer(200, {"id": message_id, "object": "thread.message.deleted", "deleted": True})
        return None

    return before(pretend)(key)


@fault(
    "message-modify-unimplemented",
    "modifyMessage is not implemented and answers 404 for every message.",
    "threads",
    {"RESP-ROUTE-002"},
)
def _message_modify_404(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        if req.method == "POST" and MESSAGE.match(req.path):
            return error(404, "No message found.", None)
        return None

    return before(refuse)(key)


@fault(
    "thread-modify-unimplemented",
    "modifyThread is not implemented and answers 404 for every thread.",
    "threads",
    {"THREAD-001"},
)
def _thread_modify_404(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        found = THREAD.match(req.path)
        if req.method == "POST" and found and found.group(1) != "runs":
            return error(404, f"No thread found with id '{found.group(1)}'.", None)
        return None

    return before(refuse)(key)


@fault(
    "message-delete-not-routed",
    "deleteMessage has no route: every DELETE of a message answers 405 Method Not Allowed, a web "
    "framework's default (seen on a Node middleware).",
    "threads",
    {"RESP-ROUTE-002"},
)
def _message_delete_405(key: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        if req.method == "DELETE" and MESSAGE.match(req.path):
            return Res(405, {"content-type": "text/plain", "allow": "GET, POST"}, b"Method Not Allowed")
        return None

    return before(refuse)(key)

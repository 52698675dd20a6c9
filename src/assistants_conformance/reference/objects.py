"""Building the API's objects from requests: ids, defaults and the v2 shapes."""

from __future__ import annotations

import time
import uuid
from typing import Any

DEFAULT_TOOL_RESOURCES: dict[str, Any] = {}


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


def tool_resources(requested: dict[str, Any] | None) -> dict[str, Any]:
    """Stored tool resources; the create-only `vector_stores` helper becomes a new store id."""
    if not requested:
        return {}
    out: dict[str, Any] = {}
    if "code_interpreter" in requested:
        out["code_interpreter"] = {"file_ids": list(requested["code_interpreter"].get("file_ids", []))}
    search = requested.get("file_search")
    if search is not None:
        ids = list(search.get("vector_store_ids", []))
        ids += [new_id("vs") for _ in search.get("vector_stores", [])]
        out["file_search"] = {"vector_store_ids": ids}
    return out


ASSISTANT_FIELDS = (
    "model",
    "name",
    "description",
    "instructions",
    "reasoning_effort",
    "tools",
    "metadata",
    "temperature",
    "top_p",
    "response_format",
)


def assistant(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id("asst"),
        "object": "assistant",
        "created_at": now(),
        "name": body.get("name"),
        "description": body.get("description"),
        "model": body["model"],
        "instructions": body.get("instructions"),
        "reasoning_effort": body.get("reasoning_effort"),
        "tools": body.get("tools") or [],
        "tool_resources": tool_resources(body.get("tool_resources")),
        "metadata": body.get("metadata") or {},
        "temperature": 1.0 if body.get("temperature") is None else body["temperature"],
        "top_p": 1.0 if body.get("top_p") is None else body["top_p"],
        "response_format": body.get("response_format") or "auto",
    }


def modify_assistant(current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Partial update: only the fields present in the body change."""
    updated = dict(current)
    for name in ASSISTANT_FIELDS:
        if name in body:
            updated[name] = body[name]
    if "tool_resources" in body:
        updated["tool_resources"] = tool_resources(body["tool_resources"])
    if updated.get("metadata") is None:
        updated["metadata"] = {}
    if updated.get("tools") is None:
        updated["tools"] = []
    for name, default in (("temperature", 1.0), ("top_p", 1.0), ("response_format", "auto")):
        if updated.get(name) is None:
            updated[name] = default
    return updated


def thread(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id("thread"),
        "object": "thread",
        "created_at": now(),
        "tool_resources": tool_resources(body.get("tool_resources")),
        "metadata": body.get("metadata") or {},
    }


def content_parts(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A request's content (a string or input parts) as stored message content."""
    if isinstance(content, str):
        return [{"type": "text", "text": {"value": content, "annotations": []}}]
    parts: list[dict[str, Any]] = []
    for part in content:
        if part["type"] == "text":
            parts.append({"type": "text", "text": {"value": part["text"], "annotations": []}})
        else:
            image = dict(part[part["type"]])
            image.setdefault("detail", "auto")
            parts.append({"type": part["type"], part["type"]: image})
    return parts


def user_message(thread_id: str, body: dict[str, Any]) -> dict[str, Any]:
    created = now()
    return {
        "id": new_id("msg"),
        "object": "thread.message",
        "created_at": created,
        "thread_id": thread_id,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": created,
        "incomplete_at": None,
        "role": body["role"],
        "content": content_parts(body["content"]),
        "assistant_id": None,
        "run_id": None,
        "attachments": body.get("attachments") or [],
        "metadata": body.get("metadata") or {},
    }


def assistant_message(thread_id: str, assistant_id: str, run_id: str) -> dict[str, Any]:
    return {
        "id": new_id("msg"),
        "object": "thread.message",
        "created_at": now(),
        "thread_id": thread_id,
        "status": "in_progress",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
        "role": "assistant",
        "content": [],
        "assistant_id": assistant_id,
        "run_id": run_id,
        "attachments": [],
        "metadata": {},
    }


def run(thread_id: str, asst: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A queued run: request settings override the assistant's."""
    created = now()
    instructions = body.get("instructions")
    if instructions is None:
        instructions = asst.get("instructions") or ""
    if body.get("additional_instructions"):
        instructions = f"{instructions}\n{body['additional_instructions']}".strip()

    def pick(name: str, default: Any) -> Any:
        value = body.get(name)
        if value is None:
            value = asst.get(name)
        return default if value is None else value

    return {
        "id": new_id("run"),
        "object": "thread.run",
        "created_at": created,
        "thread_id": thread_id,
        "assistant_id": asst["id"],
        "status": "queued",
        "required_action": None,
        "last_error": None,
        "expires_at": created + 600,
        "started_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "incomplete_details": None,
        "model": body.get("model") or asst["model"],
        "instructions": instructions,
        "tools": body["tools"] if body.get("tools") is not None else asst.get("tools") or [],
        "metadata": body.get("metadata") or {},
        "usage": None,
        "temperature": pick("temperature", 1.0),
        "top_p": pick("top_p", 1.0),
        "max_prompt_tokens": body.get("max_prompt_tokens"),
        "max_completion_tokens": body.get("max_completion_tokens"),
        "truncation_strategy": body.get("truncation_strategy") or {"type": "auto", "last_messages": None},
        "tool_choice": body.get("tool_choice") or "auto",
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "response_format": pick("response_format", "auto"),
    }


def step(run_: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id("step"),
        "object": "thread.run.step",
        "created_at": now(),
        "assistant_id": run_["assistant_id"],
        "thread_id": run_["thread_id"],
        "run_id": run_["id"],
        "type": details["type"],
        "status": "in_progress",
        "step_details": details,
        "last_error": None,
        "expired_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "metadata": {},
        "usage": None,
    }


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def deleted(kind: str, object_id: str) -> dict[str, Any]:
    return {"id": object_id, "object": f"{kind}.deleted", "deleted": True}

"""Real-shaped Assistants v2 objects, as a conforming server sends them.

Hand-written from the documentation's examples so that the contract tests do not depend on
our own reference server's output.
"""

from __future__ import annotations

import copy
from typing import Any

T0 = 1_732_000_000

ASSISTANT: dict[str, Any] = {
    "id": "asst_abc123",
    "object": "assistant",
    "created_at": T0,
    "name": "Math Tutor",
    "description": None,
    "model": "gpt-4o",
    "instructions": "You are a personal math tutor.",
    "tools": [
        {"type": "code_interpreter"},
        {
            "type": "file_search",
            "file_search": {"max_num_results": 20, "ranking_options": {"ranker": "auto", "score_threshold": 0.0}},
        },
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                "strict": False,
            },
        },
    ],
    "tool_resources": {"code_interpreter": {"file_ids": ["file-1"]}, "file_search": {"vector_store_ids": ["vs_1"]}},
    "metadata": {"team": "maths"},
    "temperature": 1.0,
    "top_p": 1.0,
    "reasoning_effort": None,
    "response_format": "auto",
}

THREAD: dict[str, Any] = {
    "id": "thread_abc123",
    "object": "thread",
    "created_at": T0,
    "tool_resources": {},
    "metadata": {},
}


def _message(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "msg_abc123",
        "object": "thread.message",
        "created_at": T0,
        "thread_id": "thread_abc123",
        "status": "completed",
        "incomplete_details": None,
        "completed_at": T0 + 1,
        "incomplete_at": None,
        "role": "user",
        "content": [{"type": "text", "text": {"value": "How does AI work?", "annotations": []}}],
        "assistant_id": None,
        "run_id": None,
        "attachments": [],
        "metadata": {},
    }
    base.update(overrides)
    return base


MESSAGE_TEXT = _message()
MESSAGE_IMAGES = _message(
    id="msg_img",
    content=[
        {"type": "image_file", "image_file": {"file_id": "file-img", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "auto"}},
        {"type": "text", "text": {"value": "What is in these images?", "annotations": []}},
    ],
)
MESSAGE_ASSISTANT = _message(
    id="msg_answer",
    role="assistant",
    assistant_id="asst_abc123",
    run_id="run_abc123",
    attachments=None,
    content=[
        {
            "type": "text",
            "text": {
                "value": "See the notes 【4:0†notes.md】.",
                "annotations": [
                    {
                        "type": "file_citation",
                        "text": "【4:0†notes.md】",
                        "start_index": 14,
                        "end_index": 29,
                        "file_citation": {"file_id": "file-notes"},
                    },
                    {
                        "type": "file_path",
                        "text": "sandbox:/out.csv",
                        "start_index": 0,
                        "end_index": 3,
                        "file_path": {"file_id": "file-out"},
                    },
                ],
            },
        }
    ],
)
MESSAGE_INCOMPLETE = _message(
    id="msg_cut",
    role="assistant",
    status="incomplete",
    completed_at=None,
    incomplete_at=T0 + 2,
    incomplete_details={"reason": "max_tokens"},
    assistant_id="asst_abc123",
    run_id="run_abc123",
)
MESSAGE_REFUSAL = _message(id="msg_no", role="assistant", content=[{"type": "refusal", "refusal": "I can't."}])

TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}


def run(status: str) -> dict[str, Any]:
    """A run in the given status, with the fields that status implies."""
    body: dict[str, Any] = {
        "id": "run_abc123",
        "object": "thread.run",
        "created_at": T0,
        "thread_id": "thread_abc123",
        "assistant_id": "asst_abc123",
        "status": status,
        "required_action": None,
        "last_error": None,
        "expires_at": T0 + 600,
        "started_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "incomplete_details": None,
        "model": "gpt-4o",
        "instructions": "You are a personal math tutor.",
        "tools": [{"type": "code_interpreter"}],
        "metadata": {},
        "usage": None,
        "temperature": 1.0,
        "top_p": 1.0,
        "max_prompt_tokens": None,
        "max_completion_tokens": 1000,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "response_format": "auto",
    }
    if status != "queued":
        body["started_at"] = T0 + 1
    if status == "requires_action":
        body["required_action"] = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [TOOL_CALL]}}
    if status in ("completed", "incomplete", "failed", "cancelled", "expired"):
        body["usage"] = {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
        body["expires_at"] = None
    if status == "completed":
        body["completed_at"] = T0 + 3
    if status == "failed":
        body["failed_at"] = T0 + 3
        body["last_error"] = {"code": "server_error", "message": "Something went wrong."}
    if status == "cancelled":
        body["cancelled_at"] = T0 + 3
    if status == "incomplete":
        body["incomplete_details"] = {"reason": "max_completion_tokens"}
    return body


RUN_STATUSES = (
    "queued",
    "in_progress",
    "requires_action",
    "cancelling",
    "cancelled",
    "failed",
    "completed",
    "incomplete",
    "expired",
)


def _step(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "step_abc123",
        "object": "thread.run.step",
        "created_at": T0,
        "assistant_id": "asst_abc123",
        "thread_id": "thread_abc123",
        "run_id": "run_abc123",
        "type": "message_creation",
        "status": "completed",
        "step_details": {"type": "message_creation", "message_creation": {"message_id": "msg_answer"}},
        "last_error": None,
        "expired_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": T0 + 2,
        "metadata": {},
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
    }
    base.update(overrides)
    return base


STEP_MESSAGE = _step()
STEP_TOOLS = _step(
    id="step_tools",
    type="tool_calls",
    step_details={
        "type": "tool_calls",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}', "output": None},
            },
            {
                "id": "call_2",
                "type": "code_interpreter",
                "code_interpreter": {
                    "input": "print(1+1)",
                    "outputs": [{"type": "logs", "logs": "2"}, {"type": "image", "image": {"file_id": "file-p"}}],
                },
            },
            {
                "id": "call_3",
                "type": "file_search",
                "file_search": {
                    "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.5},
                    "results": [
                        {
                            "file_id": "file-n",
                            "file_name": "notes.md",
                            "score": 0.9,
                            "content": [{"type": "text", "text": "hello"}],
                        }
                    ],
                },
            },
        ],
    },
)

MESSAGE_DELTA = {
    "id": "msg_answer",
    "object": "thread.message.delta",
    "delta": {
        "role": "assistant",
        "content": [{"index": 0, "type": "text", "text": {"value": "Hel", "annotations": []}}],
    },
}
STEP_DELTA = {
    "id": "step_tools",
    "object": "thread.run.step.delta",
    "delta": {
        "step_details": {
            "type": "tool_calls",
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"ci', "output": None},
                }
            ],
        }
    },
}

ERROR = {
    "error": {
        "message": "No assistant found with id 'asst_x'.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}


def page(*items: dict[str, Any], has_more: bool = False) -> dict[str, Any]:
    return {
        "object": "list",
        "data": list(items),
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": has_more,
    }


# (schema name, sample) pairs: every response-side schema with at least one real shape.
OBJECTS: list[tuple[str, dict[str, Any]]] = [
    ("Assistant", ASSISTANT),
    ("AssistantDeleted", {"id": "asst_abc123", "object": "assistant.deleted", "deleted": True}),
    ("AssistantList", page(ASSISTANT, has_more=True)),
    ("AssistantList", page()),
    ("Thread", THREAD),
    ("ThreadDeleted", {"id": "thread_abc123", "object": "thread.deleted", "deleted": True}),
    ("Message", MESSAGE_TEXT),
    ("Message", MESSAGE_IMAGES),
    ("Message", MESSAGE_ASSISTANT),
    ("Message", MESSAGE_INCOMPLETE),
    ("Message", MESSAGE_REFUSAL),
    ("MessageDeleted", {"id": "msg_abc123", "object": "thread.message.deleted", "deleted": True}),
    ("MessageList", page(MESSAGE_TEXT, MESSAGE_ASSISTANT)),
    *[("Run", run(status)) for status in RUN_STATUSES],
    ("RunList", page(run("completed"))),
    ("RunStep", STEP_MESSAGE),
    ("RunStep", STEP_TOOLS),
    ("RunStepList", page(STEP_MESSAGE, STEP_TOOLS)),
    ("MessageDelta", MESSAGE_DELTA),
    ("RunStepDelta", STEP_DELTA),
    ("ErrorResponse", ERROR),
]


def clone(value: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(value)

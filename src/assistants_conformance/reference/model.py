"""The scripted model: deterministic answers with no network and no weights.

What a run does is decided from the run's settings and the thread's last user message:

* `tool_choice` naming a function, or `tool_choice: "required"` with a function tool, or a
  message that says `call NAME` (optionally followed by a JSON object of arguments) where NAME
  is one of the run's function tools → the run pauses in `requires_action` asking for that call.
  Without explicit arguments the call gets `{"input": <the message text>}`.
* a message containing `#fail` → the run fails with `last_error.code = server_error`.
* a message containing `#slow` → events are paced 50 ms apart, so a cancel can land mid-run.
* otherwise the answer echoes the message: `You said: <text>`; after tool outputs were
  submitted it reports them: `get_weather returned: 22C`.

Tokens are whitespace-separated words. An answer longer than `max_completion_tokens` is cut
there and the run ends `incomplete` (max_completion_tokens); a prompt longer than
`max_prompt_tokens` ends the run `incomplete` (max_prompt_tokens) before it answers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

FAIL_TRIGGER = "#fail"
SLOW_TRIGGER = "#slow"
SLOW_PACE = 0.05
_CALL = re.compile(r"\bcall\s+([a-zA-Z0-9_-]{1,64})\b\s*(\{.*\})?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ToolCallPlan:
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What the run will do next."""

    answer: str = ""
    tool_calls: tuple[ToolCallPlan, ...] = ()
    fail: bool = False
    slow: bool = False
    prompt_tokens: int = 0
    incomplete_reason: str | None = None  # max_prompt_tokens, decided before answering
    extra: dict[str, Any] = field(default_factory=dict)


def count_tokens(text: str) -> int:
    return len(text.split())


def message_text(message: dict[str, Any]) -> str:
    parts = [part["text"]["value"] for part in message.get("content", []) if part.get("type") == "text"]
    return "\n".join(parts)


def function_names(tools: list[dict[str, Any]]) -> list[str]:
    return [tool["function"]["name"] for tool in tools if tool.get("type") == "function"]


def plan_run(
    run: dict[str, Any], messages: list[dict[str, Any]], tool_outputs: list[tuple[str, str]] | None = None
) -> Plan:
    """Decide a run's behaviour from its settings, the thread and any submitted tool outputs."""
    last_user = next((m for m in reversed(messages) if m["role"] == "user"), None)
    text = message_text(last_user) if last_user else ""
    prompt = " ".join([run.get("instructions") or "", *(message_text(m) for m in messages)])
    prompt_tokens = count_tokens(prompt)
    slow = SLOW_TRIGGER in text
    limit = run.get("max_prompt_tokens")
    if limit is not None and prompt_tokens > limit:
        return Plan(slow=slow, prompt_tokens=prompt_tokens, incomplete_reason="max_prompt_tokens")
    if FAIL_TRIGGER in text:
        return Plan(fail=True, slow=slow, prompt_tokens=prompt_tokens)
    if tool_outputs is not None:
        answer = "; ".join(f"{name} returned: {output}" for name, output in tool_outputs) or "No tool output."
        return Plan(answer=answer, slow=slow, prompt_tokens=prompt_tokens)
    call = _tool_call(run, text)
    if call is not None:
        return Plan(tool_calls=(call,), slow=slow, prompt_tokens=prompt_tokens)
    answer = f"You said: {text}" if text else "Hello! How can I help you today?"
    return Plan(answer=answer, slow=slow, prompt_tokens=prompt_tokens)


def _tool_call(run: dict[str, Any], text: str) -> ToolCallPlan | None:
    names = function_names(run.get("tools") or [])
    choice = run.get("tool_choice")
    default_args = json.dumps({"input": text})
    if isinstance(choice, dict) and choice.get("type") == "function":
        return ToolCallPlan(choice["function"]["name"], _arguments(text) or default_args)
    if choice == "none" or not names:
        return None
    match = _CALL.search(text)
    if match and match.group(1) in names:
        return ToolCallPlan(match.group(1), _arguments(match.group(2) or "") or default_args)
    if choice == "required":
        return ToolCallPlan(names[0], default_args)
    return None


def _arguments(text: str) -> str | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return json.dumps(json.loads(text[start : end + 1]))
    except ValueError:
        return None


def chunk(text: str, words_per_chunk: int = 2) -> list[str]:
    """Split text into delta-sized pieces that concatenate back to exactly the text."""
    pieces = re.findall(r"\s*\S+\s*", text) or [text]
    return ["".join(pieces[i : i + words_per_chunk]) for i in range(0, len(pieces), words_per_chunk)]


def truncate_tokens(text: str, limit: int) -> str:
    pieces = re.findall(r"\s*\S+", text)
    return "".join(pieces[:limit])

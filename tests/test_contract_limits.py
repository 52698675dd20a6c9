"""Documented limits are schema keywords: the boundary passes, one past it fails."""

from __future__ import annotations

from typing import Any

import pytest

from assistants_conformance.contract import Contract


def _valid(contract: Contract, schema: str, instance: Any) -> bool:
    return contract.schema_validator(schema).is_valid(instance)


def _assistant(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", **fields}


def _function(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name}}


# (case, request fields at the boundary, the same one step past it)
ASSISTANT_BOUNDARIES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("name 256/257", {"name": "n" * 256}, {"name": "n" * 257}),
    ("description 512/513", {"description": "d" * 512}, {"description": "d" * 513}),
    ("instructions 256000/256001", {"instructions": "i" * 256_000}, {"instructions": "i" * 256_001}),
    ("tools 128/129", {"tools": [{"type": "code_interpreter"}] * 128}, {"tools": [{"type": "code_interpreter"}] * 129}),
    (
        "metadata 16/17 pairs",
        {"metadata": {f"k{i}": "v" for i in range(16)}},
        {"metadata": {f"k{i}": "v" for i in range(17)}},
    ),
    ("metadata key 64/65", {"metadata": {"k" * 64: "v"}}, {"metadata": {"k" * 65: "v"}}),
    ("metadata value 512/513", {"metadata": {"k": "v" * 512}}, {"metadata": {"k": "v" * 513}}),
    ("metadata value must be a string", {"metadata": {"k": "1"}}, {"metadata": {"k": 1}}),
    ("temperature 2/2.000001", {"temperature": 2}, {"temperature": 2.000001}),
    ("temperature 0/-0.000001", {"temperature": 0}, {"temperature": -0.000001}),
    ("top_p 1/1.000001", {"top_p": 1}, {"top_p": 1.000001}),
    ("top_p 0/-0.01", {"top_p": 0}, {"top_p": -0.01}),
    ("function name 64/65 chars", {"tools": [_function("f" * 64)]}, {"tools": [_function("f" * 65)]}),
    ("function name charset", {"tools": [_function("get_weather-2")]}, {"tools": [_function("get weather")]}),
    ("function name not empty", {"tools": [_function("f")]}, {"tools": [_function("")]}),
    (
        "file_search max_num_results 50/51",
        {"tools": [{"type": "file_search", "file_search": {"max_num_results": 50}}]},
        {"tools": [{"type": "file_search", "file_search": {"max_num_results": 51}}]},
    ),
    (
        "file_search max_num_results 1/0",
        {"tools": [{"type": "file_search", "file_search": {"max_num_results": 1}}]},
        {"tools": [{"type": "file_search", "file_search": {"max_num_results": 0}}]},
    ),
    (
        "ranking score_threshold 1/1.1",
        {"tools": [{"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 1}}}]},
        {"tools": [{"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 1.1}}}]},
    ),
    (
        "code_interpreter file_ids 20/21",
        {"tool_resources": {"code_interpreter": {"file_ids": ["f"] * 20}}},
        {"tool_resources": {"code_interpreter": {"file_ids": ["f"] * 21}}},
    ),
    (
        "vector_store_ids 1/2",
        {"tool_resources": {"file_search": {"vector_store_ids": ["vs_1"]}}},
        {"tool_resources": {"file_search": {"vector_store_ids": ["vs_1", "vs_2"]}}},
    ),
    (
        "vector_stores helper 1/2",
        {"tool_resources": {"file_search": {"vector_stores": [{"file_ids": ["f"]}]}}},
        {"tool_resources": {"file_search": {"vector_stores": [{}, {}]}}},
    ),
    (
        "vector_store_ids and vector_stores exclusive",
        {"tool_resources": {"file_search": {"vector_store_ids": ["vs_1"]}}},
        {"tool_resources": {"file_search": {"vector_store_ids": ["vs_1"], "vector_stores": [{}]}}},
    ),
    ("reasoning_effort enum", {"reasoning_effort": "high"}, {"reasoning_effort": "extreme"}),
    ("tool type enum (v1 retrieval is gone)", {"tools": [{"type": "file_search"}]}, {"tools": [{"type": "retrieval"}]}),
    ("response_format auto/other string", {"response_format": "auto"}, {"response_format": "json"}),
    (
        "response_format json_schema name",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "a_b"}}},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "a b"}}},
    ),
    ("unknown field", {"name": "x"}, {"name": "x", "file_ids": []}),
]


ASSISTANT_CASES = [
    (schema, *case)
    for schema in ("CreateAssistantRequest", "ModifyAssistantRequest")
    for case in ASSISTANT_BOUNDARIES
    # The vector_stores helper exists on create only.
    if not (schema == "ModifyAssistantRequest" and "vector_stores" in str(case[1]))
]


@pytest.mark.parametrize(
    ("schema", "case", "at", "past"), ASSISTANT_CASES, ids=[f"{c[0]}-{c[1]}" for c in ASSISTANT_CASES]
)
def test_assistant_request_limits(
    contract: Contract, schema: str, case: str, at: dict[str, Any], past: dict[str, Any]
) -> None:
    """Create and Modify enforce each documented assistant limit."""
    assert _valid(contract, schema, _assistant(**at)), f"boundary rejected: {case}"
    assert not _valid(contract, schema, _assistant(**past)), f"past the boundary accepted: {case}"


def test_create_assistant_requires_a_model(contract: Contract) -> None:
    """`model` is the one required field; modify requires nothing."""
    assert not _valid(contract, "CreateAssistantRequest", {"name": "x"})
    assert _valid(contract, "ModifyAssistantRequest", {})


def test_model_accepts_any_id(contract: Contract) -> None:
    """Servers may offer models the vendor never listed."""
    assert _valid(contract, "CreateAssistantRequest", {"model": "llama-3.1-8b-instruct"})


def _param_schema(contract: Contract, operation_id: str, name: str) -> dict[str, Any]:
    for param in contract.parameters(operation_id):
        if param["name"] == name:
            return param["schema"]
    raise AssertionError(f"{operation_id} has no parameter {name}")


@pytest.mark.parametrize("operation_id", ["listAssistants", "listMessages", "listRuns", "listRunSteps"])
def test_list_limit_is_1_to_100_default_20(contract: Contract, operation_id: str) -> None:
    """limit 1..100 (default 20), order asc|desc (default desc) on every list."""
    limit = _param_schema(contract, operation_id, "limit")
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)
    order = _param_schema(contract, operation_id, "order")
    assert (order["enum"], order["default"]) == (["asc", "desc"], "desc")
    names = {p["name"] for p in contract.parameters(operation_id)}
    assert {"after", "before"} <= names


def test_list_limit_boundaries_validate_as_schemas(contract: Contract) -> None:
    """limit 0 and 101 fail the parameter schema; 1 and 100 pass."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(_param_schema(contract, "listAssistants", "limit"))
    assert [validator.is_valid(v) for v in (0, 1, 100, 101)] == [False, True, True, False]


def test_list_messages_filters_by_run_id(contract: Contract) -> None:
    """listMessages takes `run_id`; the step operations take `include[]`."""
    assert _param_schema(contract, "listMessages", "run_id") == {"type": "string"}
    for op in ("listRunSteps", "getRunStep", "createRun"):
        include = _param_schema(contract, op, "include[]")
        assert include["items"]["enum"] == ["step_details.tool_calls[*].file_search.results[*].content"]


RUN_BOUNDARIES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("max_completion_tokens 256/255", {"max_completion_tokens": 256}, {"max_completion_tokens": 255}),
    ("max_prompt_tokens 256/255", {"max_prompt_tokens": 256}, {"max_prompt_tokens": 255}),
    ("run tools 20/21", {"tools": [{"type": "code_interpreter"}] * 20}, {"tools": [{"type": "code_interpreter"}] * 21}),
    ("tool_choice enum", {"tool_choice": "required"}, {"tool_choice": "always"}),
    (
        "named tool_choice function needs a name",
        {"tool_choice": {"type": "function", "function": {"name": "f"}}},
        {"tool_choice": {"type": "function"}},
    ),
    (
        "truncation last_messages 1/0",
        {"truncation_strategy": {"type": "last_messages", "last_messages": 1}},
        {"truncation_strategy": {"type": "last_messages", "last_messages": 0}},
    ),
    ("temperature 2/2.01", {"temperature": 2}, {"temperature": 2.01}),
    ("unknown field", {"stream": True}, {"streaming": True}),
]


@pytest.mark.parametrize(("case", "at", "past"), RUN_BOUNDARIES, ids=[c[0] for c in RUN_BOUNDARIES])
@pytest.mark.parametrize("schema", ["CreateRunRequest", "CreateThreadAndRunRequest"])
def test_run_request_limits(
    contract: Contract, schema: str, case: str, at: dict[str, Any], past: dict[str, Any]
) -> None:
    """Both run-starting bodies enforce the documented run limits."""
    base = {"assistant_id": "asst_1"}
    assert _valid(contract, schema, {**base, **at}), f"boundary rejected: {case}"
    assert not _valid(contract, schema, {**base, **past}), f"past the boundary accepted: {case}"


MESSAGE_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("string content", {"role": "user", "content": "hi"}, True),
    (
        "parts content",
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
            ],
        },
        True,
    ),
    ("empty parts", {"role": "user", "content": []}, False),
    ("role system", {"role": "system", "content": "hi"}, False),
    ("no content", {"role": "user"}, False),
    ("attachment without tools", {"role": "user", "content": "hi", "attachments": [{"file_id": "f"}]}, False),
    ("17 metadata pairs", {"role": "user", "content": "hi", "metadata": {str(i): "v" for i in range(17)}}, False),
]


@pytest.mark.parametrize(("case", "body", "ok"), MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES])
def test_create_message_request(contract: Contract, case: str, body: dict[str, Any], ok: bool) -> None:
    """Message bodies: string or non-empty parts, user|assistant, attachments name their tools."""
    assert _valid(contract, "CreateMessageRequest", body) is ok


def test_submit_tool_outputs_needs_call_id_and_output(contract: Contract) -> None:
    """Each output names its tool call and carries a string."""
    schema = "SubmitToolOutputsRequest"
    assert _valid(contract, schema, {"tool_outputs": [{"tool_call_id": "call_1", "output": "22C"}], "stream": True})
    assert not _valid(contract, schema, {"tool_outputs": [{"output": "22C"}]})
    assert not _valid(contract, schema, {})

"""Runs on the reference server: streamed and polled, tool calls, cancel, failure, incomplete."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from assistants_conformance.contract import Contract
from assistants_conformance.reference.model import FAIL_TRIGGER, SLOW_TRIGGER
from tests.wire import conforms, stream_conforms

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def assistant(client: httpx.Client, contract: Contract) -> dict[str, Any]:
    body = {"model": "gpt-4o", "instructions": "Answer briefly.", "tools": [WEATHER]}
    return conforms(contract, "createAssistant", client.post("/assistants", json=body))


def stream(client: httpx.Client, url: str, body: dict[str, Any]) -> str:
    with client.stream("POST", url, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return response.read().decode()


def names(events: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in events]


def poll(client: httpx.Client, contract: Contract, thread_id: str, run_id: str, until: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        run = conforms(contract, "getRun", client.get(f"/threads/{thread_id}/runs/{run_id}"))
        if run["status"] in until:
            return run
        time.sleep(0.01)
    raise AssertionError(f"run {run_id} never reached {until}")


TEXT_RUN = [
    "thread.created",
    "thread.run.created",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
]


def test_streamed_thread_and_run_emits_the_documented_sequence(
    client: httpx.Client, contract: Contract, assistant: dict[str, Any]
) -> None:
    """thread.created first, deltas that add up to the message, done last; every event valid."""
    raw = stream(
        client,
        "/threads/runs",
        {
            "assistant_id": assistant["id"],
            "tool_choice": "none",
            "thread": {"messages": [{"role": "user", "content": "how are you today"}]},
        },
    )
    events = stream_conforms(contract, raw)
    order = names(events)
    assert order[:8] == TEXT_RUN
    deltas = [data for name, data in events if name == "thread.message.delta"]
    assert len(deltas) >= 2
    assert order[8 : 8 + len(deltas)] == ["thread.message.delta"] * len(deltas)
    assert order[8 + len(deltas) :] == [
        "thread.message.completed",
        "thread.run.step.completed",
        "thread.run.completed",
        "done",
    ]
    completed = dict(events)["thread.message.completed"]
    folded = "".join(d["delta"]["content"][0]["text"]["value"] for d in deltas)
    assert folded == completed["content"][0]["text"]["value"] == "You said: how are you today"


def test_get_after_a_stream_equals_the_final_snapshots(
    client: httpx.Client, contract: Contract, assistant: dict[str, Any]
) -> None:
    """Run, message and step as last streamed are exactly what GET returns afterwards."""
    thread = conforms(
        contract,
        "createThread",
        client.post("/threads", json={"messages": [{"role": "user", "content": "snapshot please"}]}),
    )
    events = dict(
        stream_conforms(contract, stream(client, f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]}))
    )
    run = events["thread.run.completed"]
    assert run["usage"]["total_tokens"] == run["usage"]["prompt_tokens"] + run["usage"]["completion_tokens"] > 0
    base = f"/threads/{thread['id']}"
    assert conforms(contract, "getRun", client.get(f"{base}/runs/{run['id']}")) == run
    message = events["thread.message.completed"]
    assert conforms(contract, "getMessage", client.get(f"{base}/messages/{message['id']}")) == message
    step = events["thread.run.step.completed"]
    assert conforms(contract, "getRunStep", client.get(f"{base}/runs/{run['id']}/steps/{step['id']}")) == step
    steps = conforms(contract, "listRunSteps", client.get(f"{base}/runs/{run['id']}/steps"))
    assert steps["data"] == [step]
    by_run = conforms(contract, "listMessages", client.get(f"{base}/messages", params={"run_id": run["id"]}))
    assert by_run["data"] == [message]


def test_polled_run_reaches_completed(client: httpx.Client, contract: Contract, assistant: dict[str, Any]) -> None:
    """A non-streamed run answers queued at once and can be polled to completion."""
    created = conforms(
        contract,
        "createThreadAndRun",
        client.post(
            "/threads/runs",
            json={"assistant_id": assistant["id"], "thread": {"messages": [{"role": "user", "content": "poll me"}]}},
        ),
    )
    assert created["status"] == "queued"
    assert created["model"] == "gpt-4o"
    done = poll(client, contract, created["thread_id"], created["id"], {"completed"})
    assert done["completed_at"] is not None
    assert done["usage"] is not None
    listed = conforms(contract, "listRuns", client.get(f"/threads/{created['thread_id']}/runs"))
    assert listed["data"] == [done]
    modified = conforms(
        contract,
        "modifyRun",
        client.post(f"/threads/{created['thread_id']}/runs/{created['id']}", json={"metadata": {"k": "v"}}),
    )
    assert modified == {**done, "metadata": {"k": "v"}}


def test_forced_function_call_round_trip_streamed(
    client: httpx.Client, contract: Contract, assistant: dict[str, Any]
) -> None:
    """tool_choice naming a function → requires_action with streamed arguments → outputs resume it."""
    raw = stream(
        client,
        "/threads/runs",
        {
            "assistant_id": assistant["id"],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "thread": {"messages": [{"role": "user", "content": 'weather please {"city": "Paris"}'}]},
        },
    )
    events = stream_conforms(contract, raw)
    assert names(events)[-2:] == ["thread.run.requires_action", "done"]
    run = dict(events)["thread.run.requires_action"]
    (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    fragments = [
        d["delta"]["step_details"]["tool_calls"][0]["function"].get("arguments", "")
        for n, d in events
        if n == "thread.run.step.delta"
    ]
    assert len(fragments) >= 2
    assert "".join(fragments) == call["function"]["arguments"]

    url = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
    resumed = stream_conforms(
        contract, stream(client, url, {"tool_outputs": [{"tool_call_id": call["id"], "output": "22C"}]})
    )
    assert names(resumed)[:3] == ["thread.run.queued", "thread.run.in_progress", "thread.run.step.completed"]
    assert names(resumed)[-2:] == ["thread.run.completed", "done"]
    tool_step = resumed[2][1]
    assert tool_step["step_details"]["tool_calls"][0]["function"]["output"] == "22C"
    final = dict(resumed)["thread.message.completed"]
    assert final["content"][0]["text"]["value"] == "get_weather returned: 22C"


def test_function_call_round_trip_polled(client: httpx.Client, contract: Contract, assistant: dict[str, Any]) -> None:
    """`call NAME` in the message → requires_action; non-streamed submit → completed."""
    created = conforms(
        contract,
        "createThreadAndRun",
        client.post(
            "/threads/runs",
            json={
                "assistant_id": assistant["id"],
                "thread": {"messages": [{"role": "user", "content": "call get_weather"}]},
            },
        ),
    )
    paused = poll(client, contract, created["thread_id"], created["id"], {"requires_action"})
    (call,) = paused["required_action"]["submit_tool_outputs"]["tool_calls"]
    url = f"/threads/{created['thread_id']}/runs/{created['id']}/submit_tool_outputs"
    wrong = client.post(url, json={"tool_outputs": [{"tool_call_id": "call_other", "output": "x"}]})
    assert wrong.status_code == 400
    assert conforms(contract, "submitToolOuputsToRun", wrong)["error"]["param"] == "tool_outputs"
    answered = conforms(
        contract,
        "submitToolOuputsToRun",
        client.post(url, json={"tool_outputs": [{"tool_call_id": call["id"], "output": "sunny"}]}),
    )
    assert answered["status"] == "queued"
    assert answered["required_action"] is None
    poll(client, contract, created["thread_id"], created["id"], {"completed"})
    again = client.post(url, json={"tool_outputs": [{"tool_call_id": call["id"], "output": "sunny"}]})
    assert again.status_code == 400


def test_cancel_a_paused_run(client: httpx.Client, contract: Contract, assistant: dict[str, Any]) -> None:
    """cancel answers cancelling, then the run settles cancelled with its open step cancelled."""
    created = conforms(
        contract,
        "createThreadAndRun",
        client.post(
            "/threads/runs",
            json={
                "assistant_id": assistant["id"],
                "tool_choice": "required",
                "thread": {"messages": [{"role": "user", "content": "x"}]},
            },
        ),
    )
    poll(client, contract, created["thread_id"], created["id"], {"requires_action"})
    url = f"/threads/{created['thread_id']}/runs/{created['id']}"
    cancelling = conforms(contract, "cancelRun", client.post(f"{url}/cancel"))
    assert cancelling["status"] == "cancelling"
    cancelled = poll(client, contract, created["thread_id"], created["id"], {"cancelled"})
    assert cancelled["cancelled_at"] is not None
    steps = conforms(contract, "listRunSteps", client.get(f"{url}/steps"))
    assert [s["status"] for s in steps["data"]] == ["cancelled"]
    late = client.post(f"{url}/cancel")
    assert late.status_code == 400
    conforms(contract, "cancelRun", late)


def test_cancel_mid_stream(client: httpx.Client, contract: Contract, assistant: dict[str, Any]) -> None:
    """A cancel during a streamed run ends the stream with cancelling → cancelled and done."""
    with client.stream(
        "POST",
        "/threads/runs",
        json={
            "assistant_id": assistant["id"],
            "stream": True,
            "thread": {"messages": [{"role": "user", "content": f"{SLOW_TRIGGER} a long answer with many words"}]},
        },
    ) as response:
        lines = response.iter_lines()
        raw = ""
        for line in lines:
            raw += line + "\n"
            if line.startswith("data:") and '"thread.message.delta"' in line:
                run_id = json.loads(raw.split("thread.run.created\ndata: ", 1)[1].split("\n", 1)[0])["id"]
                thread_id = json.loads(raw.split("thread.created\ndata: ", 1)[1].split("\n", 1)[0])["id"]
                cancelled = client.post(f"/threads/{thread_id}/runs/{run_id}/cancel")
                assert cancelled.json()["status"] == "cancelling"
                break
        raw += "\n".join(lines) + "\n"
    events = stream_conforms(contract, raw)
    assert names(events)[-5:] == [
        "thread.run.cancelling",
        "thread.message.incomplete",
        "thread.run.step.cancelled",
        "thread.run.cancelled",
        "done",
    ]
    assert dict(events)["thread.message.incomplete"]["incomplete_details"] == {"reason": "run_cancelled"}


def test_second_run_on_a_busy_thread_is_rejected(
    client: httpx.Client, contract: Contract, assistant: dict[str, Any]
) -> None:
    """One active run per thread: a second run, or a new message, is a 400 while it is active."""
    created = conforms(
        contract,
        "createThreadAndRun",
        client.post("/threads/runs", json={"assistant_id": assistant["id"], "tool_choice": "required"}),
    )
    poll(client, contract, created["thread_id"], created["id"], {"requires_action"})
    second = client.post(f"/threads/{created['thread_id']}/runs", json={"assistant_id": assistant["id"]})
    assert second.status_code == 400
    assert conforms(contract, "createRun", second)["error"]["code"] == "thread_busy"
    message = client.post(f"/threads/{created['thread_id']}/messages", json={"role": "user", "content": "x"})
    assert message.status_code == 400


def test_failure_trigger_fails_the_run_with_last_error(
    client: httpx.Client, contract: Contract, assistant: dict[str, Any]
) -> None:
    """`#fail` in the message ends the run failed with last_error.code server_error."""
    events = stream_conforms(
        contract,
        stream(
            client,
            "/threads/runs",
            {"assistant_id": assistant["id"], "thread": {"messages": [{"role": "user", "content": FAIL_TRIGGER}]}},
        ),
    )
    assert names(events)[-2:] == ["thread.run.failed", "done"]
    run = dict(events)["thread.run.failed"]
    assert run["last_error"]["code"] == "server_error"
    assert run["failed_at"] is not None


def test_small_max_completion_tokens_ends_incomplete(
    client: httpx.Client, contract: Contract, assistant: dict[str, Any]
) -> None:
    """An answer longer than max_completion_tokens is cut: message and run end incomplete."""
    long_text = " ".join(f"w{i}" for i in range(300))
    events = stream_conforms(
        contract,
        stream(
            client,
            "/threads/runs",
            {
                "assistant_id": assistant["id"],
                "max_completion_tokens": 256,
                "tool_choice": "none",
                "thread": {"messages": [{"role": "user", "content": long_text}]},
            },
        ),
    )
    found = dict(events)
    assert found["thread.message.incomplete"]["incomplete_details"] == {"reason": "max_tokens"}
    assert len(found["thread.message.incomplete"]["content"][0]["text"]["value"].split()) == 256
    assert found["thread.run.incomplete"]["incomplete_details"] == {"reason": "max_completion_tokens"}
    assert found["thread.run.incomplete"]["usage"]["completion_tokens"] == 256


def test_small_max_prompt_tokens_ends_incomplete(
    client: httpx.Client, contract: Contract, assistant: dict[str, Any]
) -> None:
    """A prompt longer than max_prompt_tokens ends the run incomplete before it answers."""
    long_text = " ".join(f"w{i}" for i in range(300))
    events = stream_conforms(
        contract,
        stream(
            client,
            "/threads/runs",
            {
                "assistant_id": assistant["id"],
                "max_prompt_tokens": 256,
                "thread": {"messages": [{"role": "user", "content": long_text}]},
            },
        ),
    )
    assert names(events)[-2:] == ["thread.run.incomplete", "done"]
    assert dict(events)["thread.run.incomplete"]["incomplete_details"] == {"reason": "max_prompt_tokens"}


def test_run_errors(client: httpx.Client, contract: Contract, assistant: dict[str, Any]) -> None:
    """Unknown assistant, thread, run and step are 404s; a bad run body is a 400."""
    thread = conforms(contract, "createThread", client.post("/threads"))
    tid = thread["id"]
    cases = [
        ("createRun", client.post(f"/threads/{tid}/runs", json={"assistant_id": "asst_missing"}), 404),
        ("createThreadAndRun", client.post("/threads/runs", json={"assistant_id": "asst_missing"}), 404),
        ("createRun", client.post("/threads/thread_missing/runs", json={"assistant_id": assistant["id"]}), 404),
        ("getRun", client.get(f"/threads/{tid}/runs/run_missing"), 404),
        ("modifyRun", client.post(f"/threads/{tid}/runs/run_missing", json={}), 404),
        ("cancelRun", client.post(f"/threads/{tid}/runs/run_missing/cancel"), 404),
        (
            "submitToolOuputsToRun",
            client.post(f"/threads/{tid}/runs/run_missing/submit_tool_outputs", json={"tool_outputs": []}),
            404,
        ),
        ("listRunSteps", client.get(f"/threads/{tid}/runs/run_missing/steps"), 404),
        ("getRunStep", client.get(f"/threads/{tid}/runs/run_missing/steps/step_x"), 404),
        ("listRuns", client.get("/threads/thread_missing/runs"), 404),
        (
            "createRun",
            client.post(f"/threads/{tid}/runs", json={"assistant_id": assistant["id"], "max_completion_tokens": 10}),
            400,
        ),
        ("createRun", client.post(f"/threads/{tid}/runs", json={}), 400),
        ("createThreadAndRun", client.post("/threads/runs", json={"assistant_id": assistant["id"], "top_p": 2}), 400),
        ("listRuns", client.get(f"/threads/{tid}/runs", params={"limit": 0}), 400),
        ("listRunSteps", client.get(f"/threads/{tid}/runs/x/steps", params={"include[]": "bogus"}), 400),
        ("modifyRun", client.post(f"/threads/{tid}/runs/x", json={"status": "completed"}), 400),
    ]
    for op, response, status in cases:
        assert response.status_code == status, (op, response.text)
        conforms(contract, op, response)


def test_deleting_a_thread_removes_its_runs_and_messages(
    client: httpx.Client, contract: Contract, assistant: dict[str, Any]
) -> None:
    """After deleteThread, its messages, runs and steps are gone too."""
    events = dict(stream_conforms(contract, stream(client, "/threads/runs", {"assistant_id": assistant["id"]})))
    run = events["thread.run.completed"]
    message = events["thread.message.completed"]
    client.delete(f"/threads/{run['thread_id']}")
    assert client.get(f"/threads/{run['thread_id']}/runs/{run['id']}").status_code == 404
    assert client.get(f"/threads/{run['thread_id']}/messages/{message['id']}").status_code == 404

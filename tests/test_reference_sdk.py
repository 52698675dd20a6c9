"""The official `openai` SDK works against the reference server unchanged (values asserted)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from assistants_conformance.reference import RunningServer

openai = pytest.importorskip("openai")
from openai import AssistantEventHandler, OpenAI  # noqa: E402
from typing_extensions import override  # noqa: E402

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def sdk(server: RunningServer) -> Iterator[OpenAI]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK deprecates its beta namespace
        client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=10)
        yield client
        client.close()


@pytest.fixture(autouse=True)
def _quiet_deprecations() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def test_assistants_crud_and_auto_paging(sdk: OpenAI) -> None:
    """create, list with auto-paging over several pages, retrieve, update, delete."""
    made = [sdk.beta.assistants.create(model="gpt-4o", name=f"sdk-{i}", metadata={"sdk": "yes"}) for i in range(5)]
    seen = [a.id for a in sdk.beta.assistants.list(limit=2, order="asc")]
    assert [a.id for a in made] == [i for i in seen if i in {a.id for a in made}]
    got = sdk.beta.assistants.retrieve(made[0].id)
    assert got.name == "sdk-0"
    assert got.metadata == {"sdk": "yes"}
    assert got.model == "gpt-4o"
    updated = sdk.beta.assistants.update(made[0].id, description="changed", temperature=0.5)
    assert (updated.description, updated.temperature, updated.name) == ("changed", 0.5, "sdk-0")
    deleted = sdk.beta.assistants.delete(made[0].id)
    assert deleted.deleted is True
    assert deleted.id == made[0].id
    with pytest.raises(openai.NotFoundError) as exc:
        sdk.beta.assistants.retrieve(made[0].id)
    assert exc.value.status_code == 404


def test_bad_request_surfaces_as_the_sdk_error_with_param(sdk: OpenAI) -> None:
    """The SDK parses our error envelope: BadRequestError with its param."""
    with pytest.raises(openai.BadRequestError) as exc:
        sdk.beta.assistants.create(model="gpt-4o", name="n" * 257)
    assert exc.value.param == "name"  # type: ignore[attr-defined]
    assert exc.value.type == "invalid_request_error"  # type: ignore[attr-defined]


def test_threads_and_messages(sdk: OpenAI) -> None:
    """threads.create with messages, messages.create/list/retrieve/update, threads.delete."""
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "first"}], metadata={"t": "1"})
    assert thread.metadata == {"t": "1"}
    sdk.beta.threads.messages.create(thread.id, role="user", content="second")
    listed = list(sdk.beta.threads.messages.list(thread.id, order="asc"))
    assert [m.content[0].text.value for m in listed] == ["first", "second"]  # type: ignore[union-attr]
    one = sdk.beta.threads.messages.retrieve(listed[0].id, thread_id=thread.id)
    assert one.role == "user"
    assert one.thread_id == thread.id
    changed = sdk.beta.threads.messages.update(one.id, thread_id=thread.id, metadata={"m": "x"})
    assert changed.metadata == {"m": "x"}
    assert sdk.beta.threads.delete(thread.id).deleted is True


def test_create_and_poll(sdk: OpenAI) -> None:
    """runs.create_and_poll returns the completed run; the answer is in the thread."""
    assistant = sdk.beta.assistants.create(model="gpt-4o", instructions="Be brief.")
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "ping"}])
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=20)
    assert run.status == "completed"
    assert run.usage is not None
    assert run.usage.completion_tokens == 3
    answer = sdk.beta.threads.messages.list(thread.id, run_id=run.id).data[0]
    assert answer.content[0].text.value == "You said: ping"  # type: ignore[union-attr]
    steps = sdk.beta.threads.runs.steps.list(run.id, thread_id=thread.id)
    assert [s.type for s in steps] == ["message_creation"]


class Recorder(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.deltas: list[str] = []
        self.events: list[str] = []
        self.tool_calls: list[Any] = []

    @override
    def on_event(self, event: Any) -> None:
        self.events.append(event.event)

    @override
    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.deltas.append(delta.value)


def test_stream_with_an_event_handler(sdk: OpenAI) -> None:
    """runs.stream: the handler receives every text delta and the final run."""
    assistant = sdk.beta.assistants.create(model="gpt-4o")
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "stream these few words"}])
    handler = Recorder()
    with sdk.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as stream:
        stream.until_done()
        final_run = stream.get_final_run()
        final_messages = stream.get_final_messages()
    assert "".join(handler.deltas) == "You said: stream these few words"
    assert len(handler.deltas) >= 2
    assert final_run.status == "completed"
    assert final_messages[0].content[0].text.value == "You said: stream these few words"  # type: ignore[union-attr]
    assert handler.events[0] == "thread.run.created"
    assert handler.events[-1] == "thread.run.completed"


def test_function_call_round_trip_with_submit_tool_outputs_stream(sdk: OpenAI) -> None:
    """requires_action from a streamed run, answered with submit_tool_outputs_stream."""
    assistant = sdk.beta.assistants.create(model="gpt-4o", tools=[WEATHER])  # type: ignore[list-item]
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": 'call get_weather {"city": "Oslo"}'}])
    with sdk.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        stream.until_done()
        paused = stream.get_final_run()
    assert paused.status == "requires_action"
    assert paused.required_action is not None
    (call,) = paused.required_action.submit_tool_outputs.tool_calls
    assert call.function.name == "get_weather"
    assert call.function.arguments == '{"city": "Oslo"}'
    handler = Recorder()
    with sdk.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id,
        run_id=paused.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "-3C"}],
        event_handler=handler,
    ) as stream:
        stream.until_done()
        final = stream.get_final_run()
    assert final.status == "completed"
    assert "".join(handler.deltas) == "get_weather returned: -3C"

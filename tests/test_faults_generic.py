"""Faults behave like real servers: each rewritten fault misbehaves for inputs the suite never
sends (so a generic detector such as Schemathesis has the same chance to meet it)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistants_conformance.lab.faults import FAULTS, FaultyApp
from assistants_conformance.lab.faults.middleware import Fault, Req, Res
from assistants_conformance.reference import create_app, running_server

KEY = "sk-generic-faults-0123"


@pytest.fixture
def faulty(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    app = FaultyApp(create_app(api_key=KEY), FAULTS[request.param].make(KEY))
    with (
        running_server(api_key=KEY, app=app) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client,
    ):
        yield client


def _assistant(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = client.post("/assistants", json={"model": "some-model", **fields})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("faulty", ["create-ignores-a-field"], indirect=True)
def test_temperature_is_never_stored_whatever_its_value(faulty: httpx.Client) -> None:
    made = _assistant(faulty, temperature=1.3, name="not the suite's")
    assert made["temperature"] == 1.0
    assert faulty.get(f"/assistants/{made['id']}").json()["temperature"] == 1.0


@pytest.mark.parametrize("faulty", ["list-omits-an-item"], indirect=True)
def test_the_newest_assistant_is_missing_from_the_first_page_whatever_its_name(faulty: httpx.Client) -> None:
    made = _assistant(faulty, name="zz-anything")
    assert made["id"] not in [a["id"] for a in faulty.get("/assistants").json()["data"]]


@pytest.mark.parametrize("faulty", ["unknown-field-accepted"], indirect=True)
@pytest.mark.parametrize("field", ["frobnicate", "file_ids", "x"])
def test_any_unknown_field_is_ignored(faulty: httpx.Client, field: str) -> None:
    assert faulty.post("/assistants", json={"model": "m", field: [1]}).status_code == 200


@pytest.mark.parametrize("faulty", ["limit-out-of-range-accepted"], indirect=True)
@pytest.mark.parametrize("limit", ["500", "-3", "abc", "1000000"])
def test_any_out_of_range_limit_is_served(faulty: httpx.Client, limit: str) -> None:
    assert faulty.get("/assistants", params={"limit": limit}).status_code == 200


@pytest.mark.parametrize("faulty", ["unknown-id-is-400"], indirect=True)
def test_any_unknown_assistant_id_is_400(faulty: httpx.Client) -> None:
    assert faulty.get("/assistants/asst_never_made_by_anyone").status_code == 400
    made = _assistant(faulty)
    faulty.delete(f"/assistants/{made['id']}")
    assert faulty.get(f"/assistants/{made['id']}").status_code == 400


@pytest.mark.parametrize("faulty", ["delete-is-a-no-op"], indirect=True)
def test_any_delete_pretends(faulty: httpx.Client) -> None:
    assert faulty.delete("/assistants/asst_whatever").json()["deleted"] is True
    made = _assistant(faulty)
    assert faulty.delete(f"/assistants/{made['id']}").json()["deleted"] is True
    assert faulty.get(f"/assistants/{made['id']}").status_code == 200


@pytest.mark.parametrize("faulty", ["polled-run-never-finishes"], indirect=True)
def test_any_polled_run_stays_in_progress(faulty: httpx.Client) -> None:
    assistant = _assistant(faulty)
    thread = faulty.post("/threads", json={"messages": [{"role": "user", "content": "hi there"}]}).json()
    run = faulty.post(f"/threads/{thread['id']}/runs", json={"assistant_id": assistant["id"], "tool_choice": "auto"})
    time.sleep(0.5)  # the reference engine has long finished it
    got = faulty.get(f"/threads/{thread['id']}/runs/{run.json()['id']}").json()
    assert got["status"] == "in_progress"


@pytest.mark.parametrize("faulty", ["get-answers-a-stale-copy"], indirect=True)
def test_a_modified_assistant_reads_back_as_first_seen(faulty: httpx.Client) -> None:
    made = _assistant(faulty, name="before", metadata={"k": "v"})
    assert faulty.post(f"/assistants/{made['id']}", json={"name": "after"}).json()["name"] == "after"
    assert faulty.get(f"/assistants/{made['id']}").json()["name"] == "before"
    faulty.delete(f"/assistants/{made['id']}")
    assert faulty.get(f"/assistants/{made['id']}").status_code == 404  # the cache is evicted on delete


@pytest.mark.parametrize("faulty", ["boundary-name-refused"], indirect=True)
def test_a_name_at_the_maximum_is_refused_on_create_and_modify(faulty: httpx.Client) -> None:
    assert faulty.post("/assistants", json={"model": "m", "name": "é" * 256}).status_code == 400
    made = _assistant(faulty, name="n" * 255)
    assert faulty.post(f"/assistants/{made['id']}", json={"name": "q" * 256}).status_code == 400


@pytest.mark.parametrize("faulty", ["after-ignored"], indirect=True)
def test_after_is_ignored_on_any_ascending_list(faulty: httpx.Client) -> None:
    first = _assistant(faulty, name="one")
    _assistant(faulty, name="two")
    page = faulty.get("/assistants", params={"order": "asc", "after": first["id"], "limit": 1}).json()
    assert page["data"][0]["id"] == first["id"]


@pytest.mark.parametrize("faulty", ["busy-thread-accepts-runs"], indirect=True)
def test_every_run_on_a_busy_thread_is_accepted_with_its_own_id(faulty: httpx.Client) -> None:
    assistant = _assistant(faulty, tools=[{"type": "function", "function": {"name": "f"}}])
    thread = faulty.post("/threads", json={"messages": [{"role": "user", "content": "call f please"}]}).json()
    runs = f"/threads/{thread['id']}/runs"
    first = faulty.post(runs, json={"assistant_id": assistant["id"], "tool_choice": "required"})
    assert first.status_code == 200, first.text
    extra = [faulty.post(runs, json={"assistant_id": assistant["id"]}) for _ in range(2)]
    assert [answer.status_code for answer in extra] == [200, 200]
    assert len({first.json()["id"], *(answer.json()["id"] for answer in extra)}) == 3


@pytest.mark.parametrize("faulty", ["cancel-acknowledged-not-carried-out"], indirect=True)
def test_any_cancel_is_acknowledged_and_nothing_is_cancelled(faulty: httpx.Client) -> None:
    """Polled runs, not the suite's streamed one: a run waiting for tool outputs is answered
    `cancelling` and stays waiting; a run being generated is answered `cancelling` and completes;
    a finished run is refused, as it should be."""
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    assistant = _assistant(faulty, tools=[tool])
    waiting = faulty.post(
        "/threads/runs",
        json={
            "assistant_id": assistant["id"],
            "tool_choice": "required",
            "thread": {"messages": [{"role": "user", "content": "look it up"}]},
        },
    ).json()
    runs = f"/threads/{waiting['thread_id']}/runs"
    assert _settled(faulty, f"{runs}/{waiting['id']}") == "requires_action"
    answered = faulty.post(f"{runs}/{waiting['id']}/cancel").json()
    assert (answered["status"], answered["required_action"]) == ("cancelling", None)
    time.sleep(0.3)
    assert faulty.get(f"{runs}/{waiting['id']}").json()["status"] == "requires_action"

    thread = faulty.post("/threads", json={"messages": [{"role": "user", "content": "a long story #slow"}]}).json()
    going = faulty.post(f"/threads/{thread['id']}/runs", json={"assistant_id": assistant["id"], "tool_choice": "none"})
    assert faulty.post(f"/threads/{thread['id']}/runs/{going.json()['id']}/cancel").json()["status"] == "cancelling"
    assert _settled(faulty, f"/threads/{thread['id']}/runs/{going.json()['id']}") == "completed"
    assert faulty.post(f"/threads/{thread['id']}/runs/{going.json()['id']}/cancel").status_code == 400


def _settled(client: httpx.Client, path: str) -> str:
    """A run's status once it stops changing on its own (queued and in_progress pass)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = str(client.get(path).json()["status"])
        if status not in ("queued", "in_progress"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"{path} never settled")


@pytest.mark.parametrize("faulty", ["metadata-values-cut-at-255"], indirect=True)
def test_any_long_metadata_value_is_cut_on_any_object(faulty: httpx.Client) -> None:
    long = "ab" * 150  # 300 characters: valid
    thread = faulty.post("/threads", json={"metadata": {"note": long, "short": "s"}}).json()
    assert thread["metadata"] == {"note": long[:255], "short": "s"}
    assert faulty.post("/threads", json={"metadata": {"note": "x" * 513}}).status_code == 400  # still validated


@pytest.mark.parametrize("faulty", ["instructions-cut-at-65535-bytes"], indirect=True)
def test_any_instructions_over_64_kib_are_cut_on_create_and_modify(faulty: httpx.Client) -> None:
    made = _assistant(faulty, instructions="x" * 70_000)
    assert len(made["instructions"]) == 65_535
    changed = faulty.post(f"/assistants/{made['id']}", json={"instructions": "ü" * 40_000}).json()
    assert changed["instructions"] == "ü" * 32_767  # 2 bytes each: the 65,535th byte splits one
    assert _assistant(faulty, instructions="y" * 60_000)["instructions"] == "y" * 60_000


@pytest.mark.parametrize("faulty", ["tools-come-back-sorted"], indirect=True)
def test_tools_come_back_sorted_whatever_was_sent(faulty: httpx.Client) -> None:
    tools = [{"type": "function", "function": {"name": "zeta"}}, {"type": "code_interpreter"}]
    made = _assistant(faulty, tools=tools)
    assert [t["type"] for t in made["tools"]] == ["code_interpreter", "function"]
    assert [t["type"] for t in faulty.get(f"/assistants/{made['id']}").json()["tools"]] == [
        "code_interpreter",
        "function",
    ]


@pytest.mark.parametrize("faulty", ["name-limit-counts-bytes"], indirect=True)
def test_a_name_within_the_limit_in_characters_but_not_in_bytes_is_refused(faulty: httpx.Client) -> None:
    assert faulty.post("/assistants", json={"model": "m", "name": "ж" * 129}).status_code == 400  # 258 bytes
    assert faulty.post("/assistants", json={"model": "m", "name": "z" * 256}).status_code == 200
    made = _assistant(faulty, name="ok")
    assert faulty.post(f"/assistants/{made['id']}", json={"name": "☃" * 100}).status_code == 400


def _streamed_runs(client: httpx.Client) -> list[dict[str, Any]]:
    assistant = _assistant(client, name="any")
    body = {"assistant_id": assistant["id"], "stream": True, "thread": {"messages": [{"role": "user", "content": "q"}]}}
    text = client.post("/threads/runs", json=body).text
    return [
        json.loads(line[6:])
        for line in text.splitlines()
        if line.startswith("data: {") and '"object": "thread.run"' in line.replace('":"', '": "')
    ]


@pytest.mark.parametrize("faulty", ["usage-reported-while-running"], indirect=True)
def test_every_unfinished_run_reports_usage(faulty: httpx.Client) -> None:
    runs = _streamed_runs(faulty)
    unfinished = [r for r in runs if r["status"] in ("queued", "in_progress")]
    assert unfinished
    assert all(r["usage"] is not None for r in unfinished)


@pytest.mark.parametrize("faulty", ["completed-without-completed-at"], indirect=True)
def test_every_completed_run_lacks_its_timestamp(faulty: httpx.Client) -> None:
    done = [r for r in _streamed_runs(faulty) if r["status"] == "completed"]
    assert done
    assert all(r["completed_at"] is None for r in done)


@pytest.mark.parametrize("faulty", ["null-ids-as-empty-strings"], indirect=True)
def test_any_manual_message_carries_empty_ids(faulty: httpx.Client) -> None:
    thread = faulty.post("/threads", json={}).json()
    message = faulty.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "hello"}).json()
    assert (message["run_id"], message["assistant_id"]) == ("", "")


@pytest.mark.parametrize("faulty", ["user-messages-credited-to-the-assistant"], indirect=True)
def test_after_any_run_user_messages_read_back_as_the_assistants(faulty: httpx.Client) -> None:
    assistant = _assistant(faulty)
    thread = faulty.post("/threads", json={}).json()
    mine = faulty.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "anything"}).json()
    assert mine["assistant_id"] is None
    run = faulty.post(f"/threads/{thread['id']}/runs", json={"assistant_id": assistant["id"]}).json()
    again = faulty.get(f"/threads/{thread['id']}/messages/{mine['id']}").json()
    assert (again["assistant_id"], again["run_id"]) == (assistant["id"], run["id"])


def _paused_run(client: httpx.Client) -> tuple[str, dict[str, Any]]:
    """A polled run paused on `tool_choice: "required"` with a function the suite never defines."""
    tool = {"type": "function", "function": {"name": "lookup_stock", "parameters": {"type": "object"}}}
    assistant = _assistant(client, tools=[tool])
    thread = client.post("/threads", json={"messages": [{"role": "user", "content": "ACME?"}]}).json()
    run = client.post(
        f"/threads/{thread['id']}/runs", json={"assistant_id": assistant["id"], "tool_choice": "required"}
    ).json()
    for _ in range(100):
        run = client.get(f"/threads/{thread['id']}/runs/{run['id']}").json()
        if run["status"] == "requires_action":
            return thread["id"], run
        time.sleep(0.05)
    raise AssertionError(f"the run never paused: {run['status']}")


def _function_outputs(client: httpx.Client, tid: str, run: dict[str, Any]) -> list[object]:
    steps = client.get(f"/threads/{tid}/runs/{run['id']}/steps").json()["data"]
    read = [client.get(f"/threads/{tid}/runs/{run['id']}/steps/{step['id']}").json() for step in steps]
    return [
        call["function"]["output"]
        for step in read
        if step["step_details"]["type"] == "tool_calls"
        for call in step["step_details"]["tool_calls"]
    ]


@pytest.mark.parametrize("faulty", ["tool-outputs-blank-before-submit"], indirect=True)
def test_any_waiting_tool_call_shows_a_blank_output(faulty: httpx.Client) -> None:
    tid, run = _paused_run(faulty)
    assert _function_outputs(faulty, tid, run) == [""]


@pytest.mark.parametrize("faulty", ["submitted-outputs-not-kept"], indirect=True)
def test_any_submitted_output_is_lost_from_the_step(faulty: httpx.Client) -> None:
    tid, run = _paused_run(faulty)
    calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    outputs = [{"tool_call_id": c["id"], "output": "ACME is at 41.5"} for c in calls]
    assert faulty.post(
        f"/threads/{tid}/runs/{run['id']}/submit_tool_outputs", json={"tool_outputs": outputs}
    ).is_success
    for _ in range(100):
        if faulty.get(f"/threads/{tid}/runs/{run['id']}").json()["status"] == "completed":
            break
        time.sleep(0.05)
    assert _function_outputs(faulty, tid, run) == [None]


@pytest.mark.parametrize("faulty", ["assistants-listed-without-instructions"], indirect=True)
def test_every_listed_assistant_lacks_its_instructions_and_tools(faulty: httpx.Client) -> None:
    made = _assistant(faulty, instructions="Be kind.", tools=[{"type": "file_search"}])
    listed = faulty.get("/assistants", params={"order": "asc", "limit": 5}).json()["data"]
    assert [(a["instructions"], a["tools"]) for a in listed if a["id"] == made["id"]] == [(None, [])]
    assert faulty.get(f"/assistants/{made['id']}").json()["instructions"] == "Be kind."


@pytest.mark.parametrize("faulty", ["deletion-confirmed-with-a-new-id"], indirect=True)
def test_every_deletion_is_confirmed_under_another_id(faulty: httpx.Client) -> None:
    thread = faulty.post("/threads", json={"metadata": {"any": "thing"}}).json()
    message = faulty.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "x"}).json()
    paths = [f"/threads/{thread['id']}/messages/{message['id']}", f"/threads/{thread['id']}"]
    paths.append(f"/assistants/{_assistant(faulty)['id']}")
    for path in paths:
        confirmed = faulty.delete(path).json()
        assert confirmed["deleted"] is True
        assert confirmed["id"] != path.rsplit("/", 1)[1]
        assert confirmed["id"].split("_")[0] == path.rsplit("/", 1)[1].split("_")[0]


@pytest.mark.parametrize("faulty", ["modify-run-ignores-metadata"], indirect=True)
def test_any_run_metadata_change_is_dropped(faulty: httpx.Client) -> None:
    tid, run = _paused_run(faulty)  # a run in any status, with metadata the suite never sends
    path = f"/threads/{tid}/runs/{run['id']}"
    assert faulty.post(path, json={"metadata": {"stage": "paused", "n": "2"}}).json()["metadata"] == run["metadata"]
    assert faulty.get(path).json()["metadata"] == run["metadata"]


@pytest.mark.parametrize("faulty", ["run-overrides-ignored"], indirect=True)
def test_any_run_override_is_dropped(faulty: httpx.Client) -> None:
    assistant = _assistant(faulty, instructions="Be terse.")
    thread = faulty.post("/threads", json={}).json()
    tool = {"type": "code_interpreter"}
    body = {"assistant_id": assistant["id"], "instructions": "Reply in Latin.", "tools": [tool]}
    run = faulty.post(f"/threads/{thread['id']}/runs", json=body).json()
    assert (run["instructions"], run["tools"]) == ("Be terse.", [])


@pytest.mark.parametrize("faulty", ["run-settings-not-inherited"], indirect=True)
def test_any_run_without_settings_gets_none(faulty: httpx.Client) -> None:
    tool = {"type": "function", "function": {"name": "lookup_stock", "parameters": {"type": "object"}}}
    assistant = _assistant(faulty, instructions="Be terse.", tools=[tool])
    body = {"assistant_id": assistant["id"], "thread": {"messages": [{"role": "user", "content": "hi"}]}}
    run = faulty.post("/threads/runs", json=body).json()
    assert (run["instructions"], run["tools"]) == ("", [])


# ----------------------------------------------------------------------------- no fault crashes
_BODIES = [
    b'{"model": "m", "temperature": NaN}',
    b'{"model": "m", "name": "\\ud800"}',
    b"\xff\xfe\x00",
    b"[]",
    b"null",
    b'"text"',
    b'{"model": 5, "name": null, "metadata": [], "tools": "x"}',
    b'{"assistant_id": 5, "stream": "yes", "messages": [null], "tool_outputs": {}}',
    b'{"stream": true, "assistant_id": "asst_nobody"}',
]
_ODD_READS = [
    "/assistants?limit=abc",
    "/assistants?limit=-1&order=sideways",
    "/assistants?after=%00&before=%FF&order=asc",
    "/assistants/%E2%98%83",
    "/threads/nope/messages?run_id=&order=asc&after=x",
    "/threads/nope/runs/nope",
    "/threads/nope/runs/nope/steps?limit=0",
]
_WRITES = [
    "/assistants",
    "/assistants/asst_nobody",
    "/threads",
    "/threads/nope",
    "/threads/runs",
    "/threads/nope/messages",
    "/threads/nope/messages/msg_x",
    "/threads/nope/runs",
    "/threads/nope/runs/run_x",
    "/threads/nope/runs/run_x/submit_tool_outputs",
    "/threads/nope/runs/run_x/cancel",
    "/threads/%F3%9E%B6%BC/runs/run_%E2%98%83/cancel",  # ids outside Latin-1, as a generator sends them
    "/threads/%F3%9E%B6%BC/runs/run_%E2%98%83/submit_tool_outputs",
]


def _crashed(answer: httpx.Response) -> bool:
    """A fault that raises shows as the server's bare 500 page: its deliberate 500s carry the envelope."""
    if answer.status_code < 500:
        return False
    try:
        return "error" not in answer.json()
    except ValueError:
        return True


def _hostile_session(fault: Fault) -> list[str]:
    """Odd and valid requests through one fault; the answers that show the fault itself raised."""
    app = FaultyApp(create_app(api_key=KEY), fault)
    crashes: list[str] = []
    with (
        running_server(api_key=KEY, app=app) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client,
    ):

        def send(method: str, path: str, **kw: Any) -> httpx.Response:
            answer = client.request(method, path, **kw)
            if _crashed(answer):
                crashes.append(f"{method} {path} {kw.get('content', '')!r:.60} → {answer.status_code}")
            return answer

        for path in _ODD_READS:
            send("GET", path)
        for path in _WRITES:
            for body in _BODIES:
                send("POST", path, content=body, headers={"Content-Type": "application/json"})
            send("DELETE", path)
        # And a valid conversation, so the hooks that rewrite real objects and streams see them.
        made = send("POST", "/assistants", json={"model": "m", "name": "ünïcode ☃"})
        assistant = made.json().get("id", "asst_x") if made.status_code == 200 else "asst_x"
        thread = send("POST", "/threads", json={"messages": [{"role": "user", "content": "x"}]})
        thread_id = thread.json().get("id", "nope") if thread.status_code == 200 else "nope"
        send("POST", f"/threads/{thread_id}/runs", json={"assistant_id": assistant, "stream": True})
        send(
            "POST",
            "/threads/runs",
            json={
                "assistant_id": assistant,
                "stream": True,
                "thread": {"messages": [{"role": "user", "content": "y"}]},
            },
        )
        send("GET", "/assistants?order=asc&limit=1")
        send("GET", f"/threads/{thread_id}/messages?order=asc&limit=1")
        send("GET", f"/threads/{thread_id}/runs")
    return crashes


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_no_fault_crashes_whatever_it_is_sent(name: str) -> None:
    """Every fault's hooks take any request, odd or valid, without raising: a fault that broke on
    an input it was not written for would be a second defect the catalogue does not name."""
    assert _hostile_session(FAULTS[name].make(KEY)) == []


def test_a_fault_that_raises_is_noticed() -> None:
    def fragile(req: Req, res: Res) -> None:
        if req.method == "GET":
            raise KeyError("data")

    crashes = _hostile_session(Fault("fragile", after=fragile))
    assert crashes
    assert all(line.startswith("GET ") for line in crashes)

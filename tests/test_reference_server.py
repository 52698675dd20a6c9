"""The reference server over real HTTP: every operation, its status codes, and its semantics."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistants_conformance.contract import Contract
from assistants_conformance.reference import RunningServer, running_server
from tests.wire import conforms

ASSISTANT = {
    "model": "gpt-4o",
    "name": "Helper",
    "instructions": "Be brief.",
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    "metadata": {"suite": "reference"},
}


def make_assistant(client: httpx.Client, contract: Contract, **fields: Any) -> dict[str, Any]:
    return conforms(contract, "createAssistant", client.post("/assistants", json={**ASSISTANT, **fields}))


def make_thread(client: httpx.Client, contract: Contract, text: str = "hello") -> dict[str, Any]:
    body = {"messages": [{"role": "user", "content": text}]}
    return conforms(contract, "createThread", client.post("/threads", json=body))


# ----------------------------------------------------------------------------- assistants
def test_assistant_crud_lifecycle(client: httpx.Client, contract: Contract) -> None:
    """create → get → partial modify → list → delete → get 404 → delete again 404."""
    created = make_assistant(client, contract)
    assert created["name"] == "Helper"
    assert created["metadata"] == {"suite": "reference"}
    got = conforms(contract, "getAssistant", client.get(f"/assistants/{created['id']}"))
    assert got == created
    modified = conforms(
        contract, "modifyAssistant", client.post(f"/assistants/{created['id']}", json={"description": "new"})
    )
    assert modified == {**created, "description": "new"}
    listed = conforms(contract, "listAssistants", client.get("/assistants", params={"limit": 100}))
    assert created["id"] in [a["id"] for a in listed["data"]]
    deleted = conforms(contract, "deleteAssistant", client.delete(f"/assistants/{created['id']}"))
    assert deleted == {"id": created["id"], "object": "assistant.deleted", "deleted": True}
    for response, op in (
        (client.get(f"/assistants/{created['id']}"), "getAssistant"),
        (client.delete(f"/assistants/{created['id']}"), "deleteAssistant"),
        (client.post(f"/assistants/{created['id']}", json={}), "modifyAssistant"),
    ):
        assert response.status_code == 404
        assert conforms(contract, op, response)["error"]["param"] == "assistant_id"


def test_create_with_every_field_round_trips(client: httpx.Client, contract: Contract) -> None:
    """Every documented field is stored and returned as sent."""
    fields = {
        "model": "gpt-4o-mini",
        "name": "n" * 256,
        "description": "d" * 512,
        "instructions": "i" * 1000,
        "reasoning_effort": "low",
        "tools": [
            {"type": "code_interpreter"},
            {"type": "file_search", "file_search": {"max_num_results": 5, "ranking_options": {"score_threshold": 0.5}}},
        ],
        "tool_resources": {"code_interpreter": {"file_ids": ["file-1"]}, "file_search": {"vector_store_ids": ["vs_1"]}},
        "metadata": {f"k{i}": "v" * 512 for i in range(16)},
        "temperature": 0.2,
        "top_p": 0.9,
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}},
    }
    created = conforms(contract, "createAssistant", client.post("/assistants", json=fields))
    assert {k: created[k] for k in fields} == fields


def test_vector_stores_helper_becomes_a_vector_store_id(client: httpx.Client, contract: Contract) -> None:
    """On create, file_search.vector_stores yields one new vector store id."""
    created = make_assistant(client, contract, tool_resources={"file_search": {"vector_stores": [{"file_ids": []}]}})
    ids = created["tool_resources"]["file_search"]["vector_store_ids"]
    assert len(ids) == 1
    assert ids[0].startswith("vs_")


def test_modify_replaces_metadata_whole_and_null_clears_it(client: httpx.Client, contract: Contract) -> None:
    """A metadata object replaces the old one; null resets it to {}; other fields are kept."""
    created = make_assistant(client, contract, metadata={"a": "1", "b": "2"})
    url = f"/assistants/{created['id']}"
    after = conforms(contract, "modifyAssistant", client.post(url, json={"metadata": {"c": "3"}}))
    assert after["metadata"] == {"c": "3"}
    assert after["name"] == created["name"]
    cleared = conforms(contract, "modifyAssistant", client.post(url, json={"metadata": None}))
    assert cleared["metadata"] == {}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "gpt-4o", "name": "n" * 257}, "name"),
        ({"model": "gpt-4o", "description": "d" * 513}, "description"),
        ({"model": "gpt-4o", "metadata": {str(i): "v" for i in range(17)}}, "metadata"),
        ({"model": "gpt-4o", "metadata": {"k" * 65: "v"}}, "metadata"),
        ({"model": "gpt-4o", "metadata": {"k": "v" * 513}}, "metadata.k"),
        ({"model": "gpt-4o", "temperature": 2.01}, "temperature"),
        ({"model": "gpt-4o", "top_p": 1.01}, "top_p"),
        ({"model": "gpt-4o", "tools": [{"type": "code_interpreter"}] * 129}, "tools"),
        (
            {"model": "gpt-4o", "tools": [{"type": "function", "function": {"name": "bad name"}}]},
            "tools[0].function.name",
        ),
        ({"model": "gpt-4o", "reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"model": "gpt-4o", "file_ids": []}, "file_ids"),
        ({"name": "no model"}, "model"),
    ],
)
def test_invalid_assistant_is_rejected_naming_the_field(
    client: httpx.Client, contract: Contract, body: dict[str, Any], param: str
) -> None:
    """400 with the error envelope, type invalid_request_error, `param` naming the field."""
    response = client.post("/assistants", json=body)
    assert response.status_code == 400
    error = conforms(contract, "createAssistant", response)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param, error
    assert len(error["message"]) < 400


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2", b'"just a string"', b"[]"])
def test_malformed_body_is_400_not_500(client: httpx.Client, contract: Contract, raw: bytes) -> None:
    """Unparseable or non-object JSON is a client error with the envelope."""
    response = client.post("/assistants", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    conforms(contract, "createAssistant", response)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"order": "sideways"}, "order"),
    ],
)
def test_bad_list_parameters_are_400(
    client: httpx.Client, contract: Contract, params: dict[str, Any], param: str
) -> None:
    """limit outside 1..100 or a bad order are rejected, naming the parameter."""
    response = client.get("/assistants", params=params)
    assert response.status_code == 400
    assert conforms(contract, "listAssistants", response)["error"]["param"] == param


# ----------------------------------------------------------------------------- auth and routing
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_missing_or_wrong_key_is_401_on_every_operation(
    server: RunningServer, contract: Contract, headers: dict[str, str]
) -> None:
    """Every operation refuses a missing or wrong key with the envelope (before validation)."""
    with httpx.Client(base_url=server.base_url, timeout=10) as anonymous:
        for op in contract.operations:
            path = op.path
            for name in ("assistant_id", "thread_id", "message_id", "run_id", "step_id"):
                path = path.replace("{" + name + "}", f"{name}_x")
            response = anonymous.request(op.method, path, headers=headers, json={})
            assert response.status_code == 401, op.operation_id
            conforms(contract, op.operation_id, response)


def test_unknown_url_and_method_answer_with_the_envelope(client: httpx.Client) -> None:
    """404 for unknown paths and 405 (with Allow) for undeclared methods, both enveloped."""
    missing = client.get("/nothing-here")
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}
    for method in ("PUT", "QUERY"):  # QUERY: the new safe method (RFC draft) tools probe with
        wrong = client.request(method, "/assistants")
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == "GET, POST"
        assert "error" in wrong.json()


# ----------------------------------------------------------------------------- pagination
def _walk(client: httpx.Client, url: str, limit: int, order: str) -> list[list[str]]:
    pages, after = [], None
    while True:
        params: dict[str, Any] = {"limit": limit, "order": order, **({"after": after} if after else {})}
        body = client.get(url, params=params).json()
        ids = [item["id"] for item in body["data"]]
        assert body["first_id"] == (ids[0] if ids else None)
        assert body["last_id"] == (ids[-1] if ids else None)
        pages.append(ids)
        if not body["has_more"]:
            return pages
        after = body["last_id"]


def test_cursor_pagination_is_stable_within_one_second(client: httpx.Client, contract: Contract) -> None:
    """7 messages made in the same second: every limit, both orders, each item exactly once, in order."""
    thread = make_thread(client, contract, "m0")
    url = f"/threads/{thread['id']}/messages"
    for i in range(1, 7):
        conforms(contract, "createMessage", client.post(url, json={"role": "user", "content": f"m{i}"}))
    everything = [m["id"] for m in client.get(url, params={"order": "asc", "limit": 100}).json()["data"]]
    assert len(everything) == 7
    for order, expected in (("asc", everything), ("desc", everything[::-1])):
        for limit in range(1, 8):
            pages = _walk(client, url, limit, order)
            assert [i for p in pages for i in p] == expected, (order, limit)
            assert all(len(p) == limit for p in pages[:-1])


def test_before_walks_back_to_the_previous_page(client: httpx.Client, contract: Contract) -> None:
    """`before` the first id of page 2 gives page 1 exactly, in list order."""
    thread = make_thread(client, contract, "b0")
    url = f"/threads/{thread['id']}/messages"
    for i in range(1, 6):
        client.post(url, json={"role": "user", "content": f"b{i}"})
    first = client.get(url, params={"limit": 2, "order": "desc"}).json()
    second = client.get(url, params={"limit": 2, "order": "desc", "after": first["last_id"]}).json()
    back = conforms(
        contract, "listMessages", client.get(url, params={"limit": 2, "order": "desc", "before": second["first_id"]})
    )
    assert [m["id"] for m in back["data"]] == [m["id"] for m in first["data"]]
    assert back["has_more"] is False


def test_unknown_cursor_gives_an_empty_page(client: httpx.Client, contract: Contract) -> None:
    """A cursor that names no item of the list yields an empty, valid page."""
    body = conforms(contract, "listAssistants", client.get("/assistants", params={"after": "asst_nope"}))
    assert body == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


# ----------------------------------------------------------------------------- threads and messages
def test_thread_and_message_lifecycle(client: httpx.Client, contract: Contract) -> None:
    """Threads and messages: create, get, modify, list, delete, and their 404s."""
    thread = make_thread(client, contract, "first")
    tid = thread["id"]
    assert conforms(contract, "getThread", client.get(f"/threads/{tid}")) == thread
    modified = conforms(contract, "modifyThread", client.post(f"/threads/{tid}", json={"metadata": {"k": "v"}}))
    assert modified["metadata"] == {"k": "v"}
    parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]
    message = conforms(
        contract, "createMessage", client.post(f"/threads/{tid}/messages", json={"role": "user", "content": parts})
    )
    assert message["content"][0] == {"type": "text", "text": {"value": "look", "annotations": []}}
    assert message["content"][1]["image_url"]["url"] == "https://x.test/a.png"
    mid = message["id"]
    assert conforms(contract, "getMessage", client.get(f"/threads/{tid}/messages/{mid}")) == message
    changed = conforms(
        contract, "modifyMessage", client.post(f"/threads/{tid}/messages/{mid}", json={"metadata": {"x": "y"}})
    )
    assert changed == {**message, "metadata": {"x": "y"}}
    listed = conforms(contract, "listMessages", client.get(f"/threads/{tid}/messages", params={"order": "asc"}))
    assert [m["content"][0]["text"]["value"] for m in listed["data"]] == ["first", "look"]
    assert conforms(contract, "deleteMessage", client.delete(f"/threads/{tid}/messages/{mid}"))["deleted"] is True
    assert client.get(f"/threads/{tid}/messages/{mid}").status_code == 404
    assert conforms(contract, "deleteThread", client.delete(f"/threads/{tid}"))["object"] == "thread.deleted"
    for op, response in (
        ("getThread", client.get(f"/threads/{tid}")),
        ("listMessages", client.get(f"/threads/{tid}/messages")),
        ("createMessage", client.post(f"/threads/{tid}/messages", json={"role": "user", "content": "x"})),
        ("modifyThread", client.post(f"/threads/{tid}", json={})),
        ("deleteThread", client.delete(f"/threads/{tid}")),
    ):
        assert response.status_code == 404, op
        conforms(contract, op, response)


def test_empty_create_thread_body_is_allowed(client: httpx.Client, contract: Contract) -> None:
    """createThread's body is optional."""
    thread = conforms(contract, "createThread", client.post("/threads"))
    assert thread["metadata"] == {}
    assert thread["tool_resources"] == {}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"role": "system", "content": "x"}, "role"),
        ({"role": "user", "content": []}, "content"),
        ({"role": "user"}, "content"),
    ],
)
def test_invalid_message_is_400(client: httpx.Client, contract: Contract, body: dict[str, Any], param: str) -> None:
    """Message bodies are validated from the contract too."""
    thread = make_thread(client, contract)
    response = client.post(f"/threads/{thread['id']}/messages", json=body)
    assert response.status_code == 400
    assert conforms(contract, "createMessage", response)["error"]["param"] == param


def test_message_of_another_thread_is_404(client: httpx.Client, contract: Contract) -> None:
    """Ids are scoped: a message id under the wrong thread is not found."""
    one, two = make_thread(client, contract), make_thread(client, contract)
    mid = client.get(f"/threads/{one['id']}/messages").json()["first_id"]
    assert client.get(f"/threads/{two['id']}/messages/{mid}").status_code == 404


# ----------------------------------------------------------------------------- persistence and concurrency
def test_file_database_survives_a_restart(tmp_path: Path) -> None:
    """With a database file, objects outlive the server process."""
    db = tmp_path / "ref.sqlite"
    with running_server(db=db) as first:
        headers = {"Authorization": f"Bearer {first.api_key}"}
        made = httpx.post(f"{first.base_url}/assistants", json={"model": "gpt-4o"}, headers=headers).json()
    with running_server(db=db) as second:
        headers = {"Authorization": f"Bearer {second.api_key}"}
        again = httpx.get(f"{second.base_url}/assistants/{made['id']}", headers=headers)
    assert again.status_code == 200
    assert again.json() == made


def test_sixteen_parallel_clients_lose_no_update(server: RunningServer, tmp_path: Path) -> None:
    """16 threads creating and modifying concurrently: every write lands, no 5xx."""
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as c:
        target = c.post("/threads").json()["id"]

    def worker(n: int) -> list[int]:
        codes = []
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as c:
            for i in range(20):
                codes.append(
                    c.post(f"/threads/{target}/messages", json={"role": "user", "content": f"{n}-{i}"}).status_code
                )
                codes.append(c.post("/assistants", json={"model": "m", "metadata": {"n": str(n)}}).status_code)
        return codes

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = [c for batch in pool.map(worker, range(16)) for c in batch]
    assert set(codes) == {200}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as c:
        seen, after = set(), None
        while True:
            body = c.get(
                f"/threads/{target}/messages", params={"limit": 100, **({"after": after} if after else {})}
            ).json()
            seen |= {m["content"][0]["text"]["value"] for m in body["data"]}
            if not body["has_more"]:
                break
            after = body["last_id"]
    assert seen == {f"{n}-{i}" for n in range(16) for i in range(20)}


def test_listening_socket_disables_nagle() -> None:
    """The bound socket is TCP with TCP_NODELAY: without it each answer waits ~40 ms for an ACK."""
    import socket

    from assistants_conformance.listening import bind

    sock = bind()
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


@pytest.mark.parametrize("status", [429, 500, 503])
def test_simulated_error_statuses_conform_on_every_operation(
    client: httpx.Client, contract: Contract, status: int
) -> None:
    """X-Reference-Simulate-Status exercises the declared 429 (with Retry-After) and 5XX answers."""
    for op in contract.operations:
        path = op.path
        for name in ("assistant_id", "thread_id", "message_id", "run_id", "step_id"):
            path = path.replace("{" + name + "}", f"{name}_x")
        response = client.request(op.method, path, json={}, headers={"X-Reference-Simulate-Status": str(status)})
        assert response.status_code == status, op.operation_id
        conforms(contract, op.operation_id, response)
        if status == 429:
            assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize("value", ["²", "9" * 5000, "4290", "abc"])
def test_a_simulate_header_it_does_not_know_is_a_400(client: httpx.Client, value: str) -> None:
    """Latin-1 digits (`²` is one to str.isdigit) and 5,000 digits are refused, never a 500."""
    answer = client.get("/assistants", headers={"X-Reference-Simulate-Status": value.encode("latin-1")})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "x-reference-simulate-status"


def _serve(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "assistants_conformance", "serve", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _listening(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line + (proc.stderr.read() if proc.stderr else "")
    return line.rsplit(" ", 1)[1].strip()


def test_one_server_per_db_file_the_second_says_who_holds_it(tmp_path: Path) -> None:
    db = tmp_path / "ref.db"
    first = _serve("--db", str(db))
    try:
        _listening(first)
        second = _serve("--db", str(db))
        _, err = second.communicate(timeout=30)
        assert second.returncode == 2
        assert f"--db {db} is in use by another reference server (process {first.pid})" in err
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    again = _serve("--db", str(db))  # the lock goes with the server
    try:
        _listening(again)
    finally:
        again.send_signal(signal.SIGINT)
        again.communicate(timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
def test_every_stop_signal_ends_the_server_gracefully_with_exit_0(sig: signal.Signals) -> None:
    proc = _serve()
    _listening(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["--host", "0.0.0.0"], {"ASSISTANTS_API_KEY": ""}, "listens beyond this machine, and the built-in key"),
        (["--api-key", ""], {}, "--api-key is empty"),
        (["--api-key", " k "], {}, "has spaces, control or non-ASCII characters"),
        ([], {"ASSISTANTS_API_KEY": "sk-x\r"}, "has spaces, control or non-ASCII characters"),
    ],
)
def test_a_key_no_client_could_use_or_a_public_default_beyond_loopback_is_refused(
    argv: list[str], env: dict[str, str], says: str
) -> None:
    proc = _serve("--port", "0", *argv, env=env)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    assert says in err


def test_beyond_loopback_with_a_key_of_its_own_it_serves(tmp_path: Path) -> None:
    proc = _serve("--host", "0.0.0.0", "--api-key", "sk-own-key")
    try:
        assert _listening(proc).startswith("http://0.0.0.0:")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)

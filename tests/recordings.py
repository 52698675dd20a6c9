"""Streams recorded live from the reference server, as raw bytes, once per test session."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from assistants_conformance.reference import RunningServer
from assistants_conformance.reference.model import FAIL_TRIGGER, SLOW_TRIGGER

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@dataclass(frozen=True)
class Recording:
    name: str
    operation: str
    raw: bytes


def _stream(client: httpx.Client, url: str, body: dict[str, Any]) -> bytes:
    with client.stream("POST", url, json={**body, "stream": True}) as response:
        return response.read()


def record_all(server: RunningServer) -> dict[str, Recording]:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    out: dict[str, Recording] = {}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as c:
        asst = c.post("/assistants", json={"model": "gpt-4o", "tools": [WEATHER]}).json()["id"]

        def thread_and_run(name: str, text: str, **extra: Any) -> bytes:
            body = {"assistant_id": asst, "thread": {"messages": [{"role": "user", "content": text}]}, **extra}
            raw = _stream(c, "/threads/runs", body)
            out[name] = Recording(name, "createThreadAndRun", raw)
            return raw

        thread_and_run("text", "hello there my friend", tool_choice="none")
        thread_and_run("failed", FAIL_TRIGGER)
        thread_and_run("incomplete", " ".join(["w"] * 300), max_completion_tokens=256, tool_choice="none")
        thread = c.post("/threads", json={"messages": [{"role": "user", "content": "on an existing thread"}]}).json()
        out["run"] = Recording("run", "createRun", _stream(c, f"/threads/{thread['id']}/runs", {"assistant_id": asst}))
        paused = thread_and_run("tool", 'call get_weather {"city": "Paris"}')
        run = next(
            json.loads(line[6:])
            for line in paused.decode().split("\n")
            if line.startswith("data: ") and '"requires_action"' in line and '"thread.run"' in line
        )
        call = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]
        url = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
        out["submit"] = Recording(
            "submit",
            "submitToolOuputsToRun",
            _stream(c, url, {"tool_outputs": [{"tool_call_id": call["id"], "output": "22C"}]}),
        )
        # A cancelled run: start a slow stream, cancel after the first delta, read the rest.
        body = {
            "assistant_id": asst,
            "stream": True,
            "thread": {
                "messages": [{"role": "user", "content": f"{SLOW_TRIGGER} please answer slowly with several words"}]
            },
        }
        raw = b""
        with c.stream("POST", "/threads/runs", json=body) as response:
            chunks = response.iter_bytes()
            for chunk in chunks:
                raw += chunk
                if b"thread.message.delta" in raw:
                    break
            text = raw.decode()
            run_id = json.loads(text.split("event: thread.run.created\ndata: ", 1)[1].split("\n", 1)[0])["id"]
            thread_id = json.loads(text.split("event: thread.created\ndata: ", 1)[1].split("\n", 1)[0])["id"]
            c.post(f"/threads/{thread_id}/runs/{run_id}/cancel")
            for chunk in chunks:
                raw += chunk
        out["cancelled"] = Recording("cancelled", "createThreadAndRun", raw)
        time.sleep(0)
    return out


# ---------------------------------------------------------------- editing recorded streams
Frames = list[list[str]]  # [event, data] pairs


def frames(raw: bytes) -> Frames:
    out = []
    for block in raw.decode().split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.split("\n"))
            out.append([lines["event"], lines["data"]])
    return out


def serialize(items: Frames) -> bytes:
    return "".join(f"event: {e}\ndata: {d}\n\n" for e, d in items).encode()


def find(items: Frames, event: str, nth: int = 0) -> int:
    return [i for i, (e, _) in enumerate(items) if e == event][nth]


def edit(items: Frames, index: int, change: Any) -> Frames:
    """Apply `change(data_dict)` to the decoded data of frame `index` and re-encode it."""
    data = json.loads(items[index][1])
    change(data)
    copy = [list(f) for f in items]
    copy[index][1] = json.dumps(data)
    return copy

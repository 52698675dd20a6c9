"""Synthetic, conforming Assistants streams of any length, written in chunks (for benchmarks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests import samples


def _frame(event: str, data: dict[str, Any] | str) -> str:
    return f"event: {event}\ndata: {data if isinstance(data, str) else json.dumps(data, separators=(',', ':'))}\n\n"


def frames(events: int, deltas_per_message: int = 1000) -> Iterator[str]:
    """About `events` frames: one run writing as many messages as needed, each with many deltas."""
    thread = {**samples.THREAD, "id": "thread_bench"}
    run = {**samples.run("queued"), "id": "run_bench", "thread_id": thread["id"]}
    yield _frame("thread.created", thread)
    yield _frame("thread.run.created", run)
    yield _frame("thread.run.queued", run)
    yield _frame("thread.run.in_progress", {**run, "status": "in_progress", "started_at": samples.T0})
    written, n = 5, 0
    while written < events:
        n += 1
        k = max(1, min(deltas_per_message, events - written - 6))
        message_id, step_id = f"msg_{n}", f"step_{n}"
        step = {
            **samples.STEP_MESSAGE,
            "id": step_id,
            "thread_id": thread["id"],
            "run_id": run["id"],
            "status": "in_progress",
            "completed_at": None,
            "usage": None,
            "step_details": {"type": "message_creation", "message_creation": {"message_id": message_id}},
        }
        message = {
            **samples.MESSAGE_ASSISTANT,
            "id": message_id,
            "thread_id": thread["id"],
            "run_id": run["id"],
            "status": "in_progress",
            "completed_at": None,
            "content": [],
        }
        yield _frame("thread.run.step.created", step)
        yield _frame("thread.run.step.in_progress", step)
        yield _frame("thread.message.created", message)
        yield _frame("thread.message.in_progress", message)
        for i in range(k):
            yield _frame(
                "thread.message.delta",
                {
                    "id": message_id,
                    "object": "thread.message.delta",
                    "delta": {
                        "content": [{"index": 0, "type": "text", "text": {"value": f"w{i} ", "annotations": []}}]
                    },
                },
            )
        text = "".join(f"w{i} " for i in range(k))
        yield _frame(
            "thread.message.completed",
            {
                **message,
                "status": "completed",
                "completed_at": samples.T0,
                "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
            },
        )
        yield _frame("thread.run.step.completed", {**step, "status": "completed", "completed_at": samples.T0})
        written += k + 6
    yield _frame("thread.run.completed", {**samples.run("completed"), "id": run["id"], "thread_id": thread["id"]})
    yield _frame("done", "[DONE]")


def write(path: Path, events: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        batch: list[str] = []
        for frame in frames(events):
            batch.append(frame)
            if len(batch) >= 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return path

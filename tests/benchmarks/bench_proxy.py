"""The proxy's cost to the traffic it judges, each figure beside its straight baseline from the
same run: the latency it adds to sequential GETs, the wall time it adds to a stream of 1,000
deltas, and its resident memory over many exchanges (BENCH_PROXY_EXCHANGES, default 100,000).

`python -m tests.benchmarks.bench_proxy [EXCHANGES]`
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
from starlette.types import Receive, Scope, Send

from assistants_conformance.proxy import running_proxy
from assistants_conformance.reference import running_server

KEY = "sk-bench-proxy"
HEADERS = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
GETS = 600


def _median_ms(client: httpx.Client, url: str, count: int) -> float:
    times = []
    for _ in range(count):
        began = time.perf_counter()
        client.get(url, headers=HEADERS).raise_for_status()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def latency() -> None:
    with (
        running_server(api_key=KEY) as server,
        running_proxy(server.base_url, log=lambda line: None) as proxy,
        httpx.Client(timeout=30) as client,
    ):
        made = client.post(f"{server.base_url}/assistants", json={"model": "m"}, headers=HEADERS).json()
        path = f"/assistants/{made['id']}"
        for _ in range(100):  # warm both paths
            client.get(server.base_url + path, headers=HEADERS)
            client.get(proxy.url + path, headers=HEADERS)
        rounds = [
            (_median_ms(client, server.base_url + path, GETS // 3), _median_ms(client, proxy.url + path, GETS // 3))
            for _ in range(3)
        ]
    straight = statistics.median(r[0] for r in rounds)
    through = statistics.median(r[1] for r in rounds)
    print(
        f"sequential GETs ({GETS} each way, interleaved rounds): straight {straight:.2f} ms median, through the "
        f"proxy {through:.2f} ms: +{through - straight:.2f} ms ({through / straight:.2f}x)"
    )


def _stream_body(deltas: int) -> list[bytes]:
    run = {"id": "run_1", "object": "thread.run", "created_at": 1, "thread_id": "thread_1", "assistant_id": "asst_1"}
    message = {
        "id": "msg_1",
        "object": "thread.message",
        "created_at": 1,
        "thread_id": "thread_1",
        "run_id": "run_1",
        "assistant_id": "asst_1",
        "role": "assistant",
        "attachments": [],
        "metadata": {},
    }
    frames = [
        ("thread.run.created", {**run, "status": "queued"}),
        ("thread.run.in_progress", {**run, "status": "in_progress"}),
    ]
    frames.append(("thread.message.created", {**message, "status": "in_progress", "content": []}))
    text = ""
    for i in range(deltas):
        piece = f"w{i} "
        text += piece
        delta = {"index": 0, "type": "text", "text": {"value": piece, "annotations": []}}
        frames.append(
            ("thread.message.delta", {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": [delta]}})
        )
    content = [{"type": "text", "text": {"value": text, "annotations": []}}]
    frames.append(("thread.message.completed", {**message, "status": "completed", "content": content}))
    frames.append(("thread.run.completed", {**run, "status": "completed"}))
    out = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in frames]
    return [*out, b"event: done\ndata: [DONE]\n\n"]


def _streaming_app(frames: list[bytes], pace: float):  # type: ignore[no-untyped-def]
    import asyncio

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for frame in frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
            if pace:
                await asyncio.sleep(pace)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


def stream(deltas: int = 1000) -> None:
    frames = _stream_body(deltas)
    for pace in (0.0, 0.001):
        with (
            running_server(api_key=KEY, app=_streaming_app(frames, pace)) as server,
            running_proxy(server.base_url, log=lambda line: None) as proxy,
            httpx.Client(timeout=60) as client,
        ):
            url = "/threads/thread_1/runs"
            timings: dict[str, list[float]] = {"straight": [], "proxy": []}
            for _ in range(7):
                for name, base in (("straight", server.base_url), ("proxy", proxy.url)):
                    began = time.perf_counter()
                    with client.stream("POST", base + url, json={"assistant_id": "asst_1", "stream": True}) as answer:
                        size = sum(len(chunk) for chunk in answer.iter_raw())
                    timings[name].append(time.perf_counter() - began)
            result = proxy.stop()
        straight, through = statistics.median(timings["straight"]), statistics.median(timings["proxy"])
        failed = [c.id for c in result.checks if c.outcome.value == "failed"]
        print(
            f"a stream of {deltas:,} deltas ({size:,} bytes, {f'{pace * 1000:g} ms a frame' if pace else 'unpaced'}): "
            f"straight {straight * 1000:.1f} ms, through the proxy {through * 1000:.1f} ms "
            f"({(through / straight - 1) * 100:+.1f} %); judged with {len(failed)} failed check(s) {failed}"
        )


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        status = handle.read()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


@contextlib.contextmanager
def _proxy_process(upstream: str, reports: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "assistants_conformance", "proxy", "--upstream", upstream, "--report-dir", reports],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline().split()[1]
    finally:
        process.kill()
        process.wait()


def memory(exchanges: int) -> None:
    """RSS of a proxy process as exchanges pass, against its RSS after the first thousand."""
    import tempfile

    with (
        running_server(api_key=KEY) as server,
        tempfile.TemporaryDirectory() as tmp,
        _proxy_process(server.base_url, os.path.join(tmp, "reports")) as (process, url),
    ):
        made = httpx.post(f"{url}/assistants", json={"model": "m"}, headers=HEADERS).json()
        paths = [f"/assistants/{made['id']}", "/assistants?limit=2"]
        done = [0]
        marks: dict[int, float] = {}
        checkpoints = sorted({1000, exchanges // 10, exchanges // 2, exchanges})

        def work(share: int) -> None:
            """Reads of one object and of a page, and every fourth a new object: ids keep coming."""
            with httpx.Client(timeout=30) as client:
                for i in range(share):
                    if i % 4 == 3:
                        client.post(url + "/assistants", json={"model": "m", "name": f"n{i}"}, headers=HEADERS)
                    else:
                        client.get(url + paths[i % 2], headers=HEADERS)
                    done[0] += 1

        began = time.perf_counter()
        threads = [threading.Thread(target=work, args=(exchanges // 4,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            for mark in checkpoints:
                if mark not in marks and done[0] >= mark:
                    marks[mark] = _rss_mib(process.pid)
            time.sleep(0.05)
        marks.setdefault(exchanges, _rss_mib(process.pid))
        took = time.perf_counter() - began
    base = marks[min(marks)]
    shown = ", ".join(f"{n:,}: {rss:.1f} MiB ({rss - base:+.1f})" for n, rss in sorted(marks.items()))
    print(f"proxy RSS over {exchanges:,} exchanges ({exchanges / took:.0f}/s, 4 clients): {shown}")


def main(exchanges: int = 100_000) -> None:
    print("== the proxy: added latency, stream wall time, memory over a long session ==")
    latency()
    stream()
    memory(exchanges)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_PROXY_EXCHANGES", "100000")))

"""The proxy's cost to the traffic it judges, each figure beside its straight baseline from the
same run: the latency it adds to sequential GETs, the wall time it adds to a stream of 1,000
deltas, and its resident memory over many exchanges (BENCH_PROXY_EXCHANGES, default 100,000).

Upstream, proxy and client each run in a process of their own, as they do in use: in one process
they would share one interpreter lock and slow each other down, which is not the proxy's cost.

`python -m tests.benchmarks.bench_proxy [EXCHANGES]`
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from assistants_conformance.reference import running_server
from assistants_conformance.validate.sse import SSEParser

KEY = "sk-bench-proxy"
HEADERS = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
GETS = 600
ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def _process(argv: list[str], cwd: Path = ROOT) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A process and the first line it prints (its port or URL)."""
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline().strip()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


@contextlib.contextmanager
def _upstream(*args: str) -> Iterator[str]:
    with _process([sys.executable, "-m", "tests.benchmarks.servers", *args]) as (_, port):
        yield f"http://127.0.0.1:{port}/v1"


@contextlib.contextmanager
def _proxy(upstream: str, reports: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    argv = [
        sys.executable,
        "-m",
        "assistants_conformance",
        "proxy",
        "--upstream",
        upstream,
        "--report-dir",
        str(reports),
    ]
    with _process(argv) as (process, line):
        yield process, line.split()[1]


def _stopped(process: subprocess.Popen[str], reports: Path) -> dict[str, object]:
    """Stop a proxy process the way a user does, and read its report."""
    process.send_signal(signal.SIGINT)
    process.wait(60)
    report: dict[str, object] = json.loads((reports / "conformance.json").read_text())
    return report


def _failed(report: dict[str, object]) -> list[str]:
    return [c["id"] for c in report["checks"] if c["outcome"] == "failed"]  # type: ignore[attr-defined, index]


def _median_ms(client: httpx.Client, url: str, count: int) -> float:
    times = []
    for _ in range(count):
        began = time.perf_counter()
        client.get(url, headers=HEADERS).raise_for_status()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def latency(tmp: Path) -> None:
    with (
        _upstream("reference", KEY) as upstream,
        _proxy(upstream, tmp / "latency") as (process, url),
        httpx.Client(timeout=30) as client,
    ):
        made = client.post(f"{upstream}/assistants", json={"model": "m"}, headers=HEADERS).json()
        path = f"/assistants/{made['id']}"
        for _ in range(100):  # warm both paths
            client.get(upstream + path, headers=HEADERS)
            client.get(url + path, headers=HEADERS)
        rounds = [
            (_median_ms(client, upstream + path, GETS // 3), _median_ms(client, url + path, GETS // 3))
            for _ in range(3)
        ]
        report = _stopped(process, tmp / "latency")
    straight = statistics.median(r[0] for r in rounds)
    through = statistics.median(r[1] for r in rounds)
    print(
        f"sequential GETs ({GETS} each way, interleaved rounds): straight {straight:.2f} ms median, through the "
        f"proxy {through:.2f} ms: +{through - straight:.2f} ms ({through / straight:.2f}x); "
        f"{len(_failed(report))} failed check(s)"
    )


def recorded_stream(deltas: int) -> tuple[str, bytes]:
    """A real createRun stream of the reference server, its text re-cut into `deltas` deltas
    (the completed message says the same text): valid, and as long as wanted; with the path it
    answered."""
    with running_server(api_key=KEY) as server, httpx.Client(timeout=30, headers=HEADERS) as client:
        assistant = client.post(f"{server.base_url}/assistants", json={"model": "m"}).json()
        thread = client.post(
            f"{server.base_url}/threads", json={"messages": [{"role": "user", "content": "hi"}]}
        ).json()
        body = client.post(
            f"{server.base_url}/threads/{thread['id']}/runs", json={"assistant_id": assistant["id"], "stream": True}
        ).content
    parser = SSEParser()
    frames = [*parser.feed(body), *parser.close()]
    out: list[bytes] = []
    text = "".join(f"w{i} " for i in range(deltas))
    for frame in frames:
        data = json.loads(frame.data) if frame.data.startswith("{") else frame.data
        if frame.event == "thread.message.delta":
            if out and out[-1].startswith(b"event: thread.message.delta"):
                continue  # the recorded deltas give way to ours
            for i in range(deltas):
                piece = {"index": 0, "type": "text", "text": {"value": f"w{i} "}}
                data = {"id": data["id"], "object": "thread.message.delta", "delta": {"content": [piece]}}
                out.append(f"event: thread.message.delta\ndata: {json.dumps(data)}\n\n".encode())
            continue
        if frame.event == "thread.message.completed":
            data["content"][0]["text"]["value"] = text
        shown = json.dumps(data) if isinstance(data, dict) else data
        out.append(f"event: {frame.event}\ndata: {shown}\n\n".encode())
    return f"/threads/{thread['id']}/runs", b"".join(out)


def stream(tmp: Path, deltas: int = 1000) -> None:
    recording = tmp / "stream.txt"
    path, body = recorded_stream(deltas)
    recording.write_bytes(body)
    for pace in (0.0, 0.001):
        reports = tmp / f"stream-{pace}"
        with (
            _upstream("replay", KEY, str(recording), str(pace)) as upstream,
            _proxy(upstream, reports) as (process, url),
            httpx.Client(timeout=60) as client,
        ):
            timings: dict[str, list[float]] = {"straight": [], "proxy": []}
            for _ in range(7):
                for name, base in (("straight", upstream), ("proxy", url)):
                    began = time.perf_counter()
                    with client.stream("POST", base + path, json={"stream": True}) as answer:
                        size = sum(len(chunk) for chunk in answer.iter_raw())
                    timings[name].append(time.perf_counter() - began)
            report = _stopped(process, reports)
        straight, through = statistics.median(timings["straight"]), statistics.median(timings["proxy"])
        print(
            f"a stream of {deltas:,} deltas ({size:,} bytes, {f'{pace * 1000:g} ms a frame' if pace else 'unpaced'}): "
            f"straight {straight * 1000:.1f} ms, through the proxy {through * 1000:.1f} ms "
            f"({(through / straight - 1) * 100:+.1f} %); judged, {len(_failed(report))} failed check(s)"
        )


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        status = handle.read()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def memory(tmp: Path, exchanges: int) -> None:
    """RSS of a proxy process as exchanges pass, against its RSS after the first thousand."""
    with _upstream("reference", KEY) as upstream, _proxy(upstream, tmp / "memory") as (process, url):
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
        report = _stopped(process, tmp / "memory")
    base = marks[min(marks)]
    shown = ", ".join(f"{n:,}: {rss:.1f} MiB ({rss - base:+.1f})" for n, rss in sorted(marks.items()))
    print(
        f"proxy RSS over {exchanges:,} exchanges ({exchanges / took:.0f}/s, 4 clients, a new object every 4th): "
        f"{shown}; {report['coverage']['requests']:,} judged"  # type: ignore[index]
    )


def main(exchanges: int = 100_000) -> None:
    print("== the proxy: added latency, stream wall time, memory over a long session ==")
    with tempfile.TemporaryDirectory() as tmp:
        latency(Path(tmp))
        stream(Path(tmp))
        memory(Path(tmp), exchanges)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_PROXY_EXCHANGES", "100000")))

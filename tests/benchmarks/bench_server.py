"""Reference server throughput: CRUD mix requests/s with p99, and streamed events/s.

Each figure is printed next to a baseline measured in the same run on the same stack
(a constant-answer starlette app), because this machine is shared and absolute numbers drift.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

import httpx

from tests.benchmarks import wrk
from tests.benchmarks.load import Result, best_of, drive

KEY = "sk-bench"
HEADERS = {"Authorization": f"Bearer {KEY}"}
ROUNDS = 3


@contextlib.contextmanager
def server(kind: str, *extra: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.servers", kind, KEY, *extra], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def seed(base_url: str) -> list[str]:
    with httpx.Client(base_url=base_url, headers=HEADERS) as c:
        return [c.post("/assistants", json={"model": "gpt-4o", "name": f"seed{i}"}).json()["id"] for i in range(50)]


def best_wrk(root: str, ids: list[str]) -> wrk.WrkResult:
    return max((wrk.crud_mix(root, KEY, ids) for _ in range(ROUNDS)), key=lambda r: r.rate)


def count_events(text: str) -> int:
    return text.count("\n\n")


def streamed_runs(base_url: str) -> tuple[Result, int]:
    with httpx.Client(base_url=base_url, headers=HEADERS) as c:
        assistant = c.post("/assistants", json={"model": "gpt-4o"}).json()["id"]
    words = " ".join(f"w{i}" for i in range(200))
    body = {"assistant_id": assistant, "stream": True, "thread": {"messages": [{"role": "user", "content": words}]}}

    async def request(client: httpx.AsyncClient, n: int) -> int:
        r = await client.post("/threads/runs", json=body)
        assert r.status_code == 200
        return count_events(r.text)

    result = best_of([drive(base_url, HEADERS, request, total=120, concurrency=8) for _ in range(ROUNDS)])
    return result, result.units // 120


def constant_streams(root: str, frames: int) -> Result:
    async def request(client: httpx.AsyncClient, n: int) -> int:
        r = await client.post(root + "/stream")
        assert r.status_code == 200
        return count_events(r.text)

    return best_of([drive(root, HEADERS, request, total=120, concurrency=8) for _ in range(ROUNDS)])


def main() -> None:
    print("== reference server (load generator and server in separate processes, 2 cores shared)")
    if not wrk.available():
        print("wrk is not installed (Debian package `wrk`); `make bench` installs it. Skipping request rates.")
    with server("reference") as url:
        crud = best_wrk(url.removesuffix("/v1"), seed(url)) if wrk.available() else None
        streams, per_run = streamed_runs(url)
    with server("baseline", str(per_run)) as url:
        base = best_wrk(url.removesuffix("/v1"), ["x"]) if wrk.available() else None
        base_streams = constant_streams(url.removesuffix("/v1"), per_run)
    if crud is not None and base is not None:
        print(base.line("baseline: constant JSON"))
        print(crud.line("CRUD mix (1 create:3 get:1 list)"))
        print(f"  ratio to baseline: {crud.rate / base.rate:.2f}   (target: >= 1,000 req/s absolute)")
    print(base_streams.line(f"baseline: {per_run} constant frames", "events"))
    print(streams.line(f"streamed runs ({per_run} events each)", "events"))
    print(f"  ratio to baseline: {streams.rate / base_streams.rate:.2f}")


if __name__ == "__main__":
    main()

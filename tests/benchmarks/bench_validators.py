"""Validator speed, each figure as a ratio to a baseline measured in the same run.

* response validation vs openapi-core's validate path (built once, called per response) and vs
  json.loads alone, on the same bodies;
* stream validation in-process (events/s), the whole `validate-stream` process vs a bare
  json.loads pass over the same frames, and peak RSS for 10k vs 1M events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assistants_conformance.contract import get_contract
from assistants_conformance.validate import validate_response, validate_stream_chunks
from assistants_conformance.validate.openapi_core_adapter import openapi_for, problems
from tests import samples
from tests.benchmarks.streams import write

HEADERS = {"content-type": "application/json"}
BODIES = [
    ("GET", "http://127.0.0.1:9/v1/assistants/asst_1", json.dumps(samples.ASSISTANT).encode()),
    ("GET", "http://127.0.0.1:9/v1/threads/t/runs/r", json.dumps(samples.run("completed")).encode()),
    (
        "GET",
        "http://127.0.0.1:9/v1/threads/t/messages",
        json.dumps(samples.page(*[samples.MESSAGE_TEXT] * 20)).encode(),
    ),
]


def per_call(func: Callable[[], object], seconds: float = 1.5) -> float:
    """Best per-call time over a few repetitions."""
    best = float("inf")
    for _ in range(3):
        n, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds / 3:
            for _ in range(20):
                func()
            n += 20
        best = min(best, (time.perf_counter() - began) / n)
    return best


def responses() -> None:
    api = openapi_for(get_contract().document, "http://127.0.0.1:9/v1")
    print("== response validation (per response; lower is better)")
    for method, url, body in BODIES:
        assert validate_response(method, url, 200, HEADERS, body) == []
        assert problems(api, method, url, 200, HEADERS, body) == []
        ours = per_call(lambda m=method, u=url, b=body: validate_response(m, u, 200, HEADERS, b))
        core = per_call(lambda m=method, u=url, b=body: problems(api, m, u, 200, HEADERS, b))
        loads = per_call(lambda b=body: json.loads(b))
        name = url.rsplit("/v1/", 1)[1]
        print(
            f"  {name:<28} ours {ours * 1e6:8.1f} µs   openapi-core {core * 1e6:8.1f} µs   json.loads "
            f"{loads * 1e6:6.1f} µs   → {core / ours:5.1f}x faster than openapi-core, {ours / loads:4.1f}x json.loads"
        )


def _chunks(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


def _process(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, argv
    return time.perf_counter() - began, usage.ru_maxrss


def streams() -> None:
    cli = [sys.executable, "-m", "assistants_conformance", "validate-stream"]
    with tempfile.TemporaryDirectory() as tmp:
        big = write(Path(tmp) / "100k.sse", 100_000)
        began = time.perf_counter()
        report = validate_stream_chunks(_chunks(big))
        elapsed = time.perf_counter() - began
        assert report.violations == [], report.violations[:3]
        print("== stream validation")
        print(f"  in-process: {report.frames:,} events in {elapsed:.2f} s → {report.frames / elapsed:,.0f} events/s")
        ours, _ = min(_process([*cli, str(big)]) for _ in range(2))
        bare, _ = min(_process([sys.executable, "-m", "tests.benchmarks.bare_json", str(big)]) for _ in range(2))
        print(
            f"  whole process: validate-stream {ours:.2f} s vs bare json.loads pass {bare:.2f} s → {ours / bare:.1f}x"
        )
        small = write(Path(tmp) / "10k.sse", 10_000)
        _, rss_small = _process([*cli, str(small)])
        huge = write(Path(tmp) / "1m.sse", 1_000_000)
        _, rss_huge = _process([*cli, str(huge)])
        print(
            f"  peak RSS: 10k events {rss_small / 1024:.1f} MiB, 1M events {rss_huge / 1024:.1f} MiB "
            f"({(rss_huge / rss_small - 1) * 100:+.1f} %; file {huge.stat().st_size / 2**20:.0f} MiB)"
        )


def main() -> None:
    responses()
    streams()


if __name__ == "__main__":
    main()

"""Wall time of the default conformance run against the reference server (target: <= 60 s here).

Baseline in the same run: the same number of plain GET requests, sequential, to the same server,
so the ratio says what the suite's checking costs on top of the traffic itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.benchmarks.bench_server import KEY, server


def _timed_run(
    url: str, reports: str, *extra: str, env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    command = [sys.executable, "-m", "assistants_conformance", "run", "--base-url", url, "--api-key", KEY]
    began = time.perf_counter()
    done = subprocess.run(
        [*command, "--quiet", "--report-dir", reports, *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, **(env or {})},
    )
    return time.perf_counter() - began, done


def main() -> None:
    """The first run draws the property phase's requests; the second finds them kept (cache.py)."""
    print("== conformance run against the reference server (default options)")
    with server("reference") as url, tempfile.TemporaryDirectory() as reports, tempfile.TemporaryDirectory() as kept:
        first, done = _timed_run(url, reports, env={"XDG_CACHE_HOME": kept})
        again, _ = _timed_run(url, reports, env={"XDG_CACHE_HOME": kept})
        last = done.stdout.strip().splitlines()[-1]
        report = json.loads(Path(reports, "conformance.json").read_text(encoding="utf-8"))
        requests = int(report["coverage"]["requests"])
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
            began = time.perf_counter()
            for _ in range(requests):
                client.get("/assistants", params={"limit": 1})
            bare = time.perf_counter() - began
    print(f"  run, drawing its generated requests: {first:.1f} s wall (exit {done.returncode}; {last})")
    print(f"  run again, its generated requests kept: {again:.1f} s wall → {first / again:.1f}x faster")
    print(f"  baseline: the same {requests} requests as bare sequential GETs: {bare:.1f} s")
    print(f"  → ratios {first / bare:.1f}x (drawing) and {again / bare:.1f}x (kept)")


def single_threaded_ratio() -> None:
    """The same run against one handler served single-threaded and threaded (one thread per
    connection): with one transport the run holds one connection at a time, so a server that
    serves one connection at a time is checked at about the same speed (target: ratio <= 1.5)."""
    from assistants_conformance.reference import running_server
    from tests.miniatures import single_threaded

    print("== single-threaded HTTP/1.1 target vs the same handler threaded (max-examples 5)")
    walls = {}
    with running_server(api_key=KEY) as upstream:
        for threaded in (True, False):
            with single_threaded(upstream.root, threaded=threaded) as (url, _), tempfile.TemporaryDirectory() as out:
                wall, done = _timed_run(url + "/v1", out, "--max-examples", "5")
                walls[threaded] = (wall, done.returncode)
    (threaded_s, code_t), (single_s, code_s) = walls[True], walls[False]
    print(f"  threaded: {threaded_s:.1f} s (exit {code_t}); single-threaded: {single_s:.1f} s (exit {code_s})")
    print(f"  ratio single/threaded: {single_s / threaded_s:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
    single_threaded_ratio()

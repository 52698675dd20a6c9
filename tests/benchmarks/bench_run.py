"""Wall time of the default conformance run against the reference server (target: <= 60 s here).

Baseline in the same run: the same number of plain GET requests, sequential, to the same server,
so the ratio says what the suite's checking costs on top of the traffic itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.benchmarks.bench_server import KEY, server


def main() -> None:
    print("== conformance run against the reference server (default options)")
    with server("reference") as url, tempfile.TemporaryDirectory() as reports:
        began = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "assistants_conformance",
                "run",
                "--base-url",
                url,
                "--api-key",
                KEY,
                "--quiet",
                "--report-dir",
                reports,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - began
        last = done.stdout.strip().splitlines()[-1]
        report = json.loads(Path(reports, "conformance.json").read_text(encoding="utf-8"))
        requests = int(report["coverage"]["requests"])
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
            began = time.perf_counter()
            for _ in range(requests):
                client.get("/assistants", params={"limit": 1})
            bare = time.perf_counter() - began
    print(f"  run: {wall:.1f} s wall (exit {done.returncode}; {last})")
    print(f"  baseline: the same {requests} requests as bare sequential GETs: {bare:.1f} s → ratio {wall / bare:.1f}x")


if __name__ == "__main__":
    main()

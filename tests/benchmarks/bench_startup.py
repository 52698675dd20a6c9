"""Start-up: `--help`, `checks`, `run --reference --max-examples 0` (spawn to exit) and
`assistants-conformance serve` (spawn to first answered request).

The baseline, measured in the same run, is a bare interpreter start (`python -c pass`): what
any command costs on this machine before it imports anything, so the ratio shows what the
server's imports and contract compilation add.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROUNDS = 5
DEADLINE = 30.0
COMMAND = str(Path(sys.executable).with_name("assistants-conformance"))


def interpreter_start() -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - began


def serve_start() -> float:
    """Seconds from spawning `serve --port 0` to the first request it answers."""
    env = {**os.environ, "ASSISTANTS_API_KEY": "sk-bench"}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [COMMAND, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "http://" in line:
                url = line[line.index("http://") :].split()[0]
                break
        else:
            raise RuntimeError("serve exited before printing its URL")
        while time.perf_counter() - began < DEADLINE:
            try:
                status = httpx.get(url + "/assistants", headers={"Authorization": "Bearer sk-bench"}).status_code
            except httpx.TransportError:
                time.sleep(0.01)
                continue
            if status == 200:
                return time.perf_counter() - began
            raise RuntimeError(f"serve answered {status} to its first request")
        raise RuntimeError(f"serve did not answer within {DEADLINE} s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def command(*argv: str) -> float:
    """Seconds from spawning the command to its exit (it must succeed)."""
    began = time.perf_counter()
    subprocess.run([COMMAND, *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return time.perf_counter() - began


def main() -> None:
    print("== command start-up (spawn to exit; median of 5)")
    base = statistics.median(interpreter_start() for _ in range(ROUNDS))
    print(f"  baseline: bare interpreter start   {base * 1000:8.0f} ms")
    with tempfile.TemporaryDirectory() as reports:
        for label, argv in (
            ("--help", ["--help"]),
            ("checks", ["checks"]),
            (
                "run --reference --max-examples 0",
                ["run", "--reference", "--max-examples", "0", "--quiet", "--report-dir", reports],
            ),
        ):
            took = statistics.median(command(*argv) for _ in range(ROUNDS))
            print(f"  {label:<34} {took * 1000:8.0f} ms   ratio {took / base:5.1f}")
    print("== serve start-up (spawn to first answered request; median of 5)")
    serve = statistics.median(serve_start() for _ in range(ROUNDS))
    print(f"  baseline: bare interpreter start   {base * 1000:8.0f} ms")
    print(f"  assistants-conformance serve       {serve * 1000:8.0f} ms")
    print(f"  ratio to baseline: {serve / base:.1f}   (target: < 2 s absolute)")


if __name__ == "__main__":
    main()

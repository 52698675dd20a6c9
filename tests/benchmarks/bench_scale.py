"""Validators at scale: peak memory flat whatever the input's size, time linear in its deltas.

Each input is made on the fly and piped to the command's standard input (nothing on disk), so the
figures are the command's own; each size is compared with the smallest one, measured in the same run.

* `validate-stream` with unknown events, and with `data:` lines that never end their frame;
* `validate-stream` with the deltas of one message (time per MiB, 10 to 40 MiB);
* `validate-har` with a HAR of many entries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

MIB = 1 << 20
CLI = [sys.executable, "-m", "assistants_conformance"]


def _piped(argv: list[str], chunks: Iterator[bytes]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of `argv` fed `chunks` on stdin."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None
    try:
        for chunk in chunks:
            proc.stdin.write(chunk)
    except BrokenPipeError:
        pass
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - began, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def _repeat(unit: bytes, size: int, head: bytes = b"", tail: bytes = b"") -> Iterator[bytes]:
    block = unit * max(1, MIB // len(unit))
    yield head
    for _ in range(size // len(block)):
        yield block
    yield tail


def unknown_events(size: int) -> Iterator[bytes]:
    return _repeat(b'event: conformance.unknown\ndata: {"x": 1}\n\n', size)


def endless_frame(size: int) -> Iterator[bytes]:
    return _repeat(b"data: " + b"x" * 200 + b"\n", size, head=b"event: thread.run.created\n")


def deltas(size: int) -> Iterator[bytes]:
    """One run, one message whose text arrives in `size` bytes of deltas, then its end."""
    run = {"id": "run_1", "object": "thread.run", "status": "queued", "thread_id": "t", "assistant_id": "a"}
    head = (
        f"event: thread.run.created\ndata: {json.dumps(run)}\n\n"
        + 'event: thread.message.created\ndata: {"id": "msg_1", "object": "thread.message", '
        '"status": "in_progress", "thread_id": "t", "run_id": "run_1", "role": "assistant", "content": []}\n\n'
    ).encode()
    piece = b'event: thread.message.delta\ndata: {"id": "msg_1", "object": "thread.message.delta", ' + (
        b'"delta": {"content": [{"index": 0, "type": "text", "text": {"value": "' + b"w" * 100 + b'"}}]}}\n\n'
    )
    return _repeat(piece, size, head=head, tail=b"event: done\ndata: [DONE]\n\n")


def har(size: int) -> Iterator[bytes]:
    entry = {
        "request": {"method": "GET", "url": "https://h.test/v1/assistants/asst_1"},
        "response": {
            "status": 200,
            "headers": [{"name": "content-type", "value": "application/json"}],
            "content": {"mimeType": "application/json", "text": json.dumps({"id": "asst_1", "object": "x" * 300})},
        },
    }
    unit = json.dumps(entry).encode() + b","
    blocks = max(1, size // MIB)
    block = unit * (MIB // len(unit))
    yield b'{"log": {"entries": ['
    for _ in range(blocks):
        yield block
    yield json.dumps(entry).encode() + b"]}}"


CASES: list[tuple[str, list[str], Callable[[int], Iterator[bytes]]]] = [
    ("validate-stream, unknown events", [*CLI, "validate-stream", "-"], unknown_events),
    ("validate-stream, one frame never ended", [*CLI, "validate-stream", "-"], endless_frame),
    ("validate-har, many entries", [*CLI, "validate-har", "/dev/stdin"], har),
]


def main(large: int = 1024 * MIB) -> None:
    print("== validators at scale (peak RSS of the command; flat is the goal)")
    for name, argv, make in CASES:
        small_s, small_rss, _ = _piped(argv, make(10 * MIB))
        big_s, big_rss, code = _piped(argv, make(large))
        print(
            f"  {name:<40} 10 MiB: {small_rss:6.1f} MiB RSS {small_s:5.1f} s | {large // MIB} MiB: "
            f"{big_rss:6.1f} MiB RSS {big_s:6.1f} s (exit {code}) → RSS {big_rss / small_rss:.2f}x for "
            f"{large / (10 * MIB):.0f}x the input"
        )
    print("== deltas of one message (time per MiB; linear is the goal)")
    base = None
    for size in (10, 20, 40):
        seconds, rss, code = _piped([*CLI, "validate-stream", "-"], deltas(size * MIB))
        per = seconds / size
        base = base or per
        print(
            f"  {size:>3} MiB of deltas: {seconds:5.1f} s ({per:.3f} s/MiB, {per / base:.2f}x the 10 MiB rate), "
            f"{rss:.0f} MiB RSS, exit {code}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 1024 * MIB)

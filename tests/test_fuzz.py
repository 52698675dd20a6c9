"""Fuzzing as tests: the CLI under generated argv and files, and the reference server under
Schemathesis' generated (and hostile) requests. A small budget here; `make fuzz` runs the same
with FUZZ_EXAMPLES set high."""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import string
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistants_conformance.cli import main
from assistants_conformance.reference import running_server

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
RANDOM = "FUZZ_EXAMPLES" in os.environ  # `make fuzz` explores afresh; CI replays the same examples
UNREACHABLE = "http://127.0.0.1:9/v1"
MAX_SECONDS = 30  # one command, including a refused connection and its retry
MAX_GROWTH_MB = 300
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=not RANDOM
)

# ----------------------------------------------------------------------------- files the CLI reads
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["PAGE-004", "2027-13-45", "streaming", "fast", "\x1b[2J", "\ud800"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "capabilities",
                    "run",
                    "accepted",
                    "id",
                    "reason",
                    "expires",
                    "model",
                    "log",
                    "entries",
                    "checks",
                    "verdict",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
raw_files = st.one_of(
    st.binary(max_size=200),
    documents.map(lambda d: json.dumps(d, default=str).encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b'a: &a ["x","x"]\nb: [*a,*a]\n',
            b"capabilities: [streaming]\n",
            b'{"log": {"entries": [{"request": {"method": 5, "url": []}, "response": {"content": []}}]}}',
            b'{"format": "assistants-conformance/report/1"}',
            b"event: done\ndata: [DONE]\n\n",
            b"data: {\n\n",
            # Deep JSON in every file the CLI reads (profile, baseline, report, HAR, stream data).
            b'{"log": {"entries": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}",
            b'{"capabilities": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
            b"event: thread.run.created\ndata: " + b"[" * 50_000 + b"]" * 50_000 + b"\n\n",
        ]
    ),
)

FLAGS: dict[str, list[str]] = {
    "run": [
        "--timeout",
        "--budget-requests",
        "--max-examples",
        "--workers",
        "--only",
        "--skip",
        "--header",
        "--query",
        "--auth-header",
        "--seed",
        "--sweep-age",
        "--model",
    ],
    "report": ["--html", "--junit", "--markdown"],
}


@st.composite
def command_lines(draw: st.DrawFn, folder: Path) -> list[str]:
    """A command (never one that serves or runs for long) with generated options and files."""
    data = folder / f"in-{draw(st.integers(0, 3))}"
    data.write_bytes(draw(raw_files))
    command = draw(st.sampled_from(["run", "report", "compare", "checks", "spec", "validate-stream", "validate-har"]))
    values = st.one_of(
        st.sampled_from(["nan", "inf", "-1", "0", "1", "999999999999", "", "é☃", "X: y", "a=b", str(data)]),
        st.sampled_from(["X-Key: v\r", "X-Key: v\nInjected: 1", "X-Key: caf\u00e9", "X-Key: \x00", "X-Key: \x7f"]),
        st.text(alphabet=string.printable, max_size=12),
    )
    argv = [command]
    if command == "run":
        argv += ["--base-url", draw(st.sampled_from([UNREACHABLE, "ftp://x", "http://", "http://u:p@127.0.0.1:9"]))]
        argv += draw(st.sampled_from([[], ["--api-key", "sk-\r"], ["--api-key", "sk-é"], ["--api-key", "sk\x01"]]))
        argv += draw(st.sampled_from([[], ["--profile", str(data)], ["--baseline", str(data)]]))
        argv += ["--report-dir", str(folder / "reports"), "--quiet"]
    elif command in ("report", "validate-stream", "validate-har"):
        argv.append(str(data))
    elif command == "compare":
        argv += [str(data), str(data)]
    for _ in range(draw(st.integers(0, 3))):
        flags = FLAGS.get(command)
        if flags:
            argv += [draw(st.sampled_from(flags)), draw(values)]
    return argv


def test_the_cli_never_crashes_whatever_it_is_given(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Generated argv and files: the exit code is always one the README documents, never a
    traceback on either stream, and nothing reaches the network beyond a refused loopback port."""
    folder = tmp_path_factory.mktemp("fuzz")
    # Memory: the process's high-water mark (kB on Linux) may not grow by more than this over the
    # whole session; a YAML alias bomb reached 2.5 GB before the safe loader.
    start_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    @FUZZ
    @given(argv=command_lines(folder))
    def check(argv: list[str]) -> None:
        out, err = io.StringIO(), io.StringIO()
        began = time.monotonic()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv, stdout=out)
            except SystemExit as exit_:  # argparse's own usage errors
                code = int(exit_.code or 0)
        took = time.monotonic() - began
        grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_kb) / 1024
        text = out.getvalue() + err.getvalue()
        assert code in (0, 1, 2, 3), (argv, code, text[-500:])  # 4 would be a bug of ours
        assert "Traceback" not in text, (argv, text[-500:])
        assert took < MAX_SECONDS, (argv, f"{took:.1f} s")
        assert grew_mb < MAX_GROWTH_MB, (argv, f"peak memory grew by {grew_mb:.0f} MB")

    check()


# ----------------------------------------------------------------------------- the reference server
HOSTILE_BODIES = [
    b'{"model": "m", "temperature": NaN}',
    b'{"model": "m", "name": "\\ud800"}',
    b'{"model": "m", "tools": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"model": "m", "description": "' + b"x" * 100_000 + b'"}',
    b"\xff\xfe\x00",
    b"[]",
    b"null",
]


def test_the_reference_server_survives_generated_and_hostile_requests() -> None:
    """Schemathesis' positive and negative requests on every operation, plus hostile bodies on every
    POST: no answer is a 5xx, and every list still answers 200 afterwards."""
    import schemathesis

    from assistants_conformance.contract import load_document

    key = "sk-fuzz-0123456789"
    fives: list[str] = []
    threads: set[str] = set()
    with running_server(api_key=key) as server, httpx.Client(timeout=30) as client:
        headers = {"Authorization": f"Bearer {key}", "OpenAI-Beta": "assistants=v2"}
        schema = schemathesis.openapi.from_dict(load_document())
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

                @settings(
                    max_examples=max(2, EXAMPLES // 10),
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=not RANDOM,
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def send(case: Any) -> None:
                    kw = case.as_transport_kwargs(base_url=server.base_url, headers=headers)
                    answer = client.request(
                        kw["method"],
                        kw["url"],
                        params=kw.get("params"),
                        headers=kw.get("headers"),
                        json=kw.get("json"),
                        content=kw.get("data") if isinstance(kw.get("data"), bytes) else None,
                    )
                    if answer.status_code >= 500:
                        fives.append(f"{case.method} {case.formatted_path} → {answer.status_code}")
                    made = (
                        answer.json() if answer.headers.get("content-type", "").startswith("application/json") else None
                    )
                    if isinstance(made, dict) and made.get("object") == "thread":
                        threads.add(made["id"])
                    elif isinstance(made, dict) and made.get("object") == "thread.run":
                        threads.add(made["thread_id"])

                send()
            if operation.method.upper() == "POST" and "{" not in operation.path:
                for body in HOSTILE_BODIES:
                    answer = client.post(
                        f"{server.base_url}{operation.path}",
                        content=body,
                        headers={**headers, "Content-Type": "application/json"},
                    )
                    if answer.status_code >= 500:
                        fives.append(f"POST {operation.path} hostile body {body[:30]!r} → {answer.status_code}")
        # Every list still reads: one poisoned object would make these 500 for ever.
        lists = ["/assistants"] + [f"/threads/{t}/{kind}" for t in sorted(threads) for kind in ("messages", "runs")]
        statuses = {path: client.get(f"{server.base_url}{path}", headers=headers).status_code for path in lists}
    assert fives == []
    assert statuses["/assistants"] == 200
    assert threads, "the generated requests created no thread to list"
    assert set(statuses.values()) <= {200, 404}, statuses  # 404: a generated DELETE removed that thread


# ----------------------------------------------------------------------------- signals and slow heads
@pytest.mark.parametrize("seed", range(3))
def test_a_signal_at_a_random_moment_ends_the_run_as_documented(seed: int, tmp_path: Path) -> None:
    """SIGINT, SIGTERM or SIGHUP at a random moment of a run: exit 0, 1 or 3 (3 when it came in
    time to interrupt), never 4, no traceback, a report when the run had begun, nothing left behind."""
    import random
    import signal
    import subprocess
    import sys

    rng = random.Random(seed if not RANDOM else None)
    sig = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
    key = "sk-fuzz-signal-0123456789"
    with running_server(api_key=key) as server:
        argv = [sys.executable, "-m", "assistants_conformance", "run", "--base-url", server.root, "--api-key", key]
        proc = subprocess.Popen(
            [*argv, "--max-examples", "2", "--report-dir", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.5, 6.0))
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        listed = httpx.get(
            f"{server.base_url}/assistants", params={"limit": 100}, headers={"Authorization": f"Bearer {key}"}
        ).json()["data"]
    assert proc.returncode in (0, 1, 3, -sig, 128 + sig), (sig, proc.returncode, out[-500:], err[-500:])
    assert "Traceback" not in err
    if (tmp_path / "conformance.json").exists():
        assert listed == []


@pytest.mark.parametrize("seed", range(2))
def test_a_head_sent_at_a_random_pace_ends_within_the_deadline(seed: int, tmp_path: Path) -> None:
    import asyncio
    import random

    from tests.hostile import read_request, serve

    rng = random.Random(seed if not RANDOM else None)
    pauses = [rng.uniform(0.0, 1.5) for _ in range(60)]

    async def drips(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        for byte, pause in zip(head, pauses, strict=False):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(pause)

    with serve(drips) as url:
        began = time.monotonic()
        code = main(
            ["run", "--base-url", url, "--api-key", "sk-x", "--timeout", "2", "--report-dir", str(tmp_path), "--quiet"],
            stdout=io.StringIO(),
        )
    assert code in (1, 3)
    assert time.monotonic() - began < 15

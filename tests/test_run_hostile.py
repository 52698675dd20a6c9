"""Hostile targets end the run within its deadline, with a readable message and exit 1 or 3, never a hang."""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path

import pytest

from assistants_conformance.cli import main
from tests.hostile import Handler, answering, read_request, serve

KEY = "sk-canary-hostile-0123456789abcdef"
ERROR_BODY = json.dumps({"error": {"message": "m", "type": "t", "param": None, "code": None}}).encode()


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await asyncio.sleep(3600)


async def trickles(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
    for _ in range(3600):
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.3)


async def endless_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    frame = b"event: thread.run.in_progress\ndata: {}\n\n"
    while True:
        writer.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
        await writer.drain()


async def huge_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    size = 50 << 20
    writer.write(f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n".encode())
    chunk = b"[" * (1 << 20)
    for _ in range(50):
        writer.write(chunk)
        await writer.drain()


async def drops(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.transport.abort()


CASES: list[tuple[str, Handler, int, str]] = [
    ("never answers", never_answers, 3, "ReadTimeout"),
    ("trickles a byte at a time", trickles, 3, "did not finish within"),
    ("endless body", endless_stream, 3, "exceeded|did not finish within"),
    ("50 MB body", huge_body, 3, "exceeded"),
    ("drops the connection", drops, 3, "RemoteProtocolError"),
    (
        "500 on everything",
        answering("500 Internal Server Error", {"content-type": "application/json"}, ERROR_BODY),
        1,
        "NON-CONFORMANT",
    ),
    (
        "HTML error page",
        answering("502 Bad Gateway", {"content-type": "text/html"}, b"<html><h1>502</h1></html>"),
        1,
        "RESP-MEDIA-001",
    ),
    (
        "non-JSON with a JSON content type",
        answering("200 OK", {"content-type": "application/json"}, b"<html>"),
        1,
        "RESP-JSON-001",
    ),
    (
        "invalid UTF-8",
        answering("200 OK", {"content-type": "application/json"}, b'{"a": "\xff\xfe"}'),
        1,
        "RESP-JSON-001",
    ),
    (
        "429 on everything",
        answering("429 Too Many Requests", {"content-type": "application/json", "retry-after": "0"}, ERROR_BODY),
        3,
        "rate limited|kept answering 429",
    ),
]


@pytest.mark.parametrize(("handler", "code", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], handler: Handler, code: int, message: str
) -> None:
    """Each ends within its deadline, with the expected exit code and message, and leaks no key."""
    with serve(handler) as url:
        out = io.StringIO()
        began = time.monotonic()
        got = main(
            ["run", "--base-url", url, "--api-key", KEY, "--timeout", "1.5", "--report-dir", str(tmp_path)], stdout=out
        )
        elapsed = time.monotonic() - began
    err = capsys.readouterr().err
    text = out.getvalue() + err
    assert got == code, text[-2000:]
    assert any(part in text for part in message.split("|")), text[-1000:]
    assert "Traceback" not in text
    assert KEY not in text
    assert elapsed < 60
    report = tmp_path / "conformance.json"
    if report.exists():
        assert KEY not in report.read_text()


def test_redirect_to_another_host_never_receives_the_key(tmp_path: Path) -> None:
    """A 307 to another origin is not followed: the key stays with the target, and the 307 is reported."""
    seen: list[dict[str, str]] = []
    with (
        serve(answering("200 OK", {"content-type": "application/json"}, b"{}", seen)) as elsewhere,
        serve(answering("307 Temporary Redirect", {"location": elsewhere + "/v1/assistants"}, b"")) as url,
    ):
        code = main(
            ["run", "--base-url", url, "--api-key", KEY, "--timeout", "2", "--report-dir", str(tmp_path)],
            stdout=io.StringIO(),
        )
    assert code == 1
    assert seen == []
    assert "RESP-STATUS-001" in (tmp_path / "conformance.json").read_text()


def test_a_target_answering_json_nested_100000_deep_errors_no_check(tmp_path: Path) -> None:
    """Such an answer cannot be read (nor judged beyond "not the schema"): findings, never ERRORED."""
    deep = b"[" * 100_000 + b"]" * 100_000
    with serve(answering("200 OK", {"content-type": "application/json"}, deep)) as url:
        code = main(
            ["run", "--base-url", url, "--api-key", KEY, "--timeout", "5", "--report-dir", str(tmp_path)],
            stdout=io.StringIO(),
        )
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert code in (1, 3)
    assert [c["id"] for c in report["checks"] if c["outcome"] == "errored"] == []

"""Reliability of a run: deadlines that cover the whole exchange, every signal ending the run the same
way, proxies and TLS as the user set them, and what the user hands the tool refused at the door."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistants_conformance.reference import create_app, running_server
from assistants_conformance.results import Outcome
from assistants_conformance.runner import Options, run
from tests.command import cli
from tests.hostile import read_request, serve

KEY = "sk-canary-reliability-0123456789"


# ----------------------------------------------------------------------------- deadlines over the whole exchange
async def slow_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The status line and headers one byte every 2 s: each read answers, so only a deadline over
    the whole exchange ends it."""
    await read_request(reader)
    for byte in b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}":
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(2)


async def continue_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    while True:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("handler", [slow_head, continue_forever], ids=["slow head", "100 Continue forever"])
def test_a_head_that_never_ends_is_cut_at_the_timeout(
    handler: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(handler) as url:
        began = time.monotonic()
        code, text = cli(
            ["run", "--base-url", url, "--api-key", KEY, "--timeout", "2", "--report-dir", str(tmp_path)], capsys
        )
        elapsed = time.monotonic() - began
    assert code == 3, text
    assert "no answer within 2 s" in text
    assert elapsed < 10  # the deadline and the /v1 probe, not minutes


def endless_streams(app: ASGIApp) -> ASGIApp:
    """Every event stream goes on forever after its last event: the server never closes it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        streaming = False

        async def relay(message: Message) -> None:
            nonlocal streaming
            if message["type"] == "http.response.start":
                streaming = any(
                    k == b"content-type" and v.startswith(b"text/event-stream") for k, v in message["headers"]
                )
            if streaming and message["type"] == "http.response.body" and not message.get("more_body"):
                await send({**message, "more_body": True})
                await asyncio.sleep(3600)
            await send(message)

        await app(scope, receive, relay)

    return wrapped


def test_an_endless_stream_is_a_failed_stream_check_not_an_incomplete_run() -> None:
    with running_server(api_key=KEY, app=endless_streams(create_app(api_key=KEY))) as server:
        result = run(
            Options(
                base_url=server.base_url,
                api_key=KEY,
                timeout=2,
                poll_timeout=3,
                max_examples=0,
                only={"STREAM-END-001"},
            )
        )
    (end,) = [c for c in result.checks if c.id == "STREAM-END-001"]
    assert end.outcome is Outcome.FAILED
    assert all("`done` arrived, but the server did not close the stream" in f.message for f in end.findings)
    assert all("did not finish within 2 s (--timeout)" in f.message for f in end.findings)
    assert not [c for c in result.checks if c.outcome is Outcome.ERRORED]


# ----------------------------------------------------------------------------- signals
def _start(url: str, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "assistants_conformance", "run", "--base-url", url, "--api-key", KEY]
    argv += ["--report-dir", str(tmp_path), *extra]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _listed(server: Any) -> list[Any]:
    headers = {"Authorization": f"Bearer {KEY}"}
    return httpx.get(f"{server.base_url}/assistants", params={"limit": 100}, headers=headers).json()["data"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_clean_up_and_report_like_ctrl_c(sig: signal.Signals, tmp_path: Path) -> None:
    with running_server(api_key=KEY) as server:
        proc = _start(server.root, tmp_path, "--max-examples", "50")
        time.sleep(4)  # well into the run
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        left = _listed(server)
    assert proc.returncode == 3, out + err
    assert "Traceback" not in err
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["verdict"] == "incomplete"
    assert f"interrupted ({sig.name})" in report["verdict_reason"]
    assert report["resources"]["leaked"] == []
    assert left == []


def slow_deletes(app: ASGIApp, seen: list[float]) -> ASGIApp:
    """Each DELETE takes half a second, and is noted (when it arrived)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "DELETE":
            seen.append(time.monotonic())
            await asyncio.sleep(0.5)
        await app(scope, receive, send)

    return wrapped


def test_a_second_signal_during_clean_up_still_writes_the_report_with_what_is_left(tmp_path: Path) -> None:
    deletes: list[float] = []
    with running_server(api_key=KEY, app=slow_deletes(create_app(api_key=KEY), deletes)) as server:
        proc = _start(server.root, tmp_path, "--max-examples", "0")
        time.sleep(3)
        first = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        for _ in range(300):  # the second signal once clean-up has begun deleting
            if any(at > first for at in deletes):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out + err
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert "clean-up stopped by a second signal (SIGTERM)" in report["resources"]["interrupted"]
    assert report["resources"]["leaked"]
    assert all("interrupted" in line for line in report["resources"]["leaked"])
    assert report["resources"]["tag"]["conformance_run"].startswith("conf_")


def test_drawing_cases_notices_ctrl_c_within_a_second(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANTS_CONFORMANCE_NO_CACHE": "1"}
    with running_server(api_key=KEY) as server:
        argv = [sys.executable, "-m", "assistants_conformance", "run", "--base-url", server.root, "--api-key", KEY]
        argv += ["--only", "PROP-5XX-001", "--max-examples", "300", "--report-dir", str(tmp_path)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(5)  # preflight done; drawing 300 cases per operation takes minutes
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        stopped = time.monotonic() - sent
    assert proc.returncode == 3, out + err
    assert stopped < 6  # noticed within a second; then clean-up and the reports
    assert "interrupted (Ctrl-C)" in json.loads((tmp_path / "conformance.json").read_text())["verdict_reason"]
    assert "properties ok" not in out


# ----------------------------------------------------------------------------- keys and headers at the door
@pytest.mark.parametrize(
    ("env", "argv", "says"),
    [
        ({"ASSISTANTS_API_KEY": "sk-canary-crlf-0123456789\r"}, [], "from $ASSISTANTS_API_KEY has a line ending"),
        ({"ASSISTANTS_API_KEY": "sk-canary-lf-0123456789\n"}, [], "has a line ending"),
        ({}, ["--api-key", "sk-canary-é-0123456789"], "from --api-key has a character outside ASCII"),
        ({}, ["--header", "X-Tenant: café-canary-0123456789"], "--header X-Tenant: the value has a character outside"),
    ],
)
def test_a_key_or_header_that_cannot_be_sent_is_refused_unseen(
    env: dict[str, str], argv: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = cli(["run", "--base-url", "http://127.0.0.1:9", *argv, "--report-dir", str(tmp_path)], capsys, env=env)
    assert code == 2, text
    assert says in text
    assert "canary" not in text  # the value is never printed
    assert not (tmp_path / "conformance.json").exists()


async def echoes_the_key(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Every answer is a 4 KiB-odd JSON error that repeats the Authorization header it got, escaped
    and placed so that a 4,096-byte cut would fall inside it."""
    while True:
        _, headers = await read_request(reader)
        key = headers.get("authorization", "")
        body = json.dumps({"error": {"message": "x" * 4080 + key + json.dumps(key)}}).encode()
        head = f"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()


def test_a_key_a_target_echoes_never_reaches_a_report_even_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(echoes_the_key) as url:
        cli(["run", "--base-url", url, "--api-key", KEY, "--max-examples", "0", "--report-dir", str(tmp_path)], capsys)
    for path in tmp_path.iterdir():
        text = path.read_text(encoding="utf-8")
        for piece in (KEY, KEY[:20], KEY[-20:]):
            assert piece not in text, (path.name, piece)


# ----------------------------------------------------------------------------- proxies
class _Forwarding:
    """A minimal forward proxy (absolute-form requests), counting what passes through it."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
                body = await reader.readexactly(length) if length else b""
                self.seen.append(target)
                sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
                answer = await client.request(method, target, headers=sent, content=body or None)
                out = {
                    k: v for k, v in answer.headers.items() if k.lower() not in ("transfer-encoding", "content-length")
                }
                writer.write(
                    f"HTTP/1.1 {answer.status_code} X\r\n".encode()
                    + "".join(f"{k}: {v}\r\n" for k, v in out.items()).encode()
                    + f"content-length: {len(answer.content)}\r\n\r\n".encode()
                    + answer.content
                )
                await writer.drain()


@pytest.fixture
def proxy() -> Iterator[tuple[str, _Forwarding]]:
    forwarding = _Forwarding()
    with serve(forwarding) as url:
        yield url, forwarding


def test_the_environment_s_proxy_is_used_and_named_for_a_target(
    proxy: tuple[str, _Forwarding], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, forwarding = proxy
    with running_server(api_key=KEY) as server:
        code, text = cli(
            [
                "run",
                "--base-url",
                server.base_url,
                "--api-key",
                KEY,
                "--only",
                "AUTH-001",
                "--report-dir",
                str(tmp_path),
            ],
            capsys,
            env={"HTTP_PROXY": url, "NO_PROXY": ""},
        )
    assert code == 0, text
    assert f"requests go through the proxy {url} (from $HTTP_PROXY; --no-proxy goes direct)" in text
    assert forwarding.seen
    notes = json.loads((tmp_path / "conformance.json").read_text())["coverage"]["notes"]
    assert any("through the proxy" in note for note in notes)


def test_no_proxy_and_the_bundled_server_never_go_through_a_proxy(
    proxy: tuple[str, _Forwarding], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, forwarding = proxy
    env = {"HTTP_PROXY": url, "HTTPS_PROXY": url, "ALL_PROXY": url, "NO_PROXY": ""}
    code, text = cli(["run", "--reference", "--max-examples", "0", "--report-dir", str(tmp_path)], capsys, env=env)
    assert code == 0, text
    with running_server(api_key=KEY) as server:
        argv = ["run", "--base-url", server.base_url, "--api-key", KEY, "--no-proxy", "--only", "AUTH-001"]
        code, text = cli([*argv, "--report-dir", str(tmp_path)], capsys, env=env)
    assert code == 0, text
    assert forwarding.seen == []
    assert "through the proxy" not in text


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("ftp://proxy:21", "ALL_PROXY is not a proxy URL"),
        ("http://proxy:port", "has a port that is not a number"),
        ("http://[bad", "ALL_PROXY is not a proxy URL (Invalid IPv6 URL)"),
    ],
)
def test_a_malformed_proxy_is_a_usage_error_naming_its_variable(
    value: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = cli(
        ["run", "--base-url", "http://example.test/v1", "--report-dir", str(tmp_path)],
        capsys,
        env={"ALL_PROXY": value, "NO_PROXY": ""},
    )
    assert code == 2, text
    assert says in text


def test_an_unreachable_proxy_is_named_in_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = cli(
        ["run", "--base-url", "http://example.test/v1", "--api-key", KEY, "--report-dir", str(tmp_path)],
        capsys,
        env={"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""},
    )
    assert code == 3, text
    assert "through the proxy http://127.0.0.1:9" in text


def test_a_socks_proxy_is_honoured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """socks5:// needs no extra install: it is tried (here, unreachable, and said so), never exit 4."""
    code, text = cli(
        ["run", "--base-url", "http://example.test/v1", "--api-key", KEY, "--report-dir", str(tmp_path)],
        capsys,
        env={"ALL_PROXY": "socks5://127.0.0.1:9", "NO_PROXY": ""},
    )
    assert code == 3, text
    assert "socks5://127.0.0.1:9" in text


# ----------------------------------------------------------------------------- TLS
@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The reference server over HTTPS with a self-signed certificate (made by openssl)."""
    import uvicorn

    from assistants_conformance.listening import bind

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    names = ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run([*request, *names], check=True, capture_output=True)
    sock = bind()
    config = uvicorn.Config(
        create_app(api_key=KEY), log_level="warning", ssl_certfile=str(cert), ssl_keyfile=str(key), lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{sock.getsockname()[1]}/v1", cert
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_self_signed_target_needs_ca_cert_or_insecure(
    tls_server: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, cert = tls_server
    base = ["run", "--base-url", url, "--api-key", KEY, "--only", "AUTH-001", "--report-dir", str(tmp_path)]
    code, text = cli(base, capsys)
    assert code == 3
    assert "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text
    code, text = cli([*base, "--ca-cert", str(cert)], capsys)
    assert code == 0, text
    assert f"TLS certificates are verified against {cert}" in text
    code, text = cli([*base, "--insecure"], capsys)
    assert code == 0, text
    assert "NOT verified (--insecure)" in text
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert any("NOT verified" in note for note in report["coverage"]["notes"])
    assert "NOT verified" in (tmp_path / "conformance.html").read_text()
    assert "NOT verified" in (tmp_path / "summary.md").read_text()

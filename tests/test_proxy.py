"""The live validating proxy: the official SDK's traffic, forwarded unchanged and judged beside
it by the same checks a run uses; the client's requests judged apart."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from assistants_conformance.cli import main
from assistants_conformance.lab.faults import FAULTS, FaultyApp
from assistants_conformance.lab.faults.middleware import CutConnection, Fault
from assistants_conformance.proxy import Proxy, running_proxy
from assistants_conformance.reference import create_app, running_server
from assistants_conformance.reference.testing import RunningServer
from assistants_conformance.results import Outcome, RunResult, Verdict
from assistants_conformance.traffic import NOT_HERE, Traffic

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's word on the Assistants API
KEY = "sk-proxy-test-key-0123456789"
# Judged on the traffic itself beyond the validators' rules: what an SDK session shows.
ACROSS = ("ASST-CRUD-002", "ASST-CRUD-005", "THREAD-001", "MSG-001", "PAGE-001", "PAGE-002", "RUN-SNAP-001")


@contextlib.contextmanager
def through(app: Any = None, *, pace: float = 0.0, **kw: Any) -> Iterator[tuple[openai.OpenAI, Proxy, RunningServer]]:
    """The reference server (or `app`), the proxy in front of it, and the SDK pointed at the proxy."""
    with running_server(api_key=KEY, app=app, pace=pace) as server, running_proxy(server.base_url, **kw) as proxy:
        yield openai.OpenAI(base_url=proxy.url, api_key=KEY, max_retries=0, timeout=30), proxy, server


def faulty(name: str) -> Any:
    return FaultyApp(create_app(api_key=KEY), FAULTS[name].make(KEY))


def session(client: openai.OpenAI) -> None:
    """What an application does with the SDK: assistants, threads, messages, a streamed run, a
    polled run, pages, a modify and deletes, each read back the way an application reads them."""
    beta = client.beta
    first = beta.assistants.create(model="gpt-4o-mini", name="first")
    assistant = beta.assistants.create(model="gpt-4o-mini", name="helper", instructions="be brief")
    beta.assistants.retrieve(assistant.id)
    beta.assistants.update(assistant.id, name="renamed", metadata={"team": "blue"})
    beta.assistants.retrieve(assistant.id)
    page = beta.assistants.list(limit=1)
    beta.assistants.list(limit=1, after=page.data[0].id)
    thread = beta.threads.create(messages=[{"role": "user", "content": "hello"}])
    beta.threads.messages.create(thread.id, role="user", content="and more")
    with beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        streamed = stream.get_final_run()
    beta.threads.runs.retrieve(streamed.id, thread_id=thread.id)
    polled = beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    beta.threads.messages.list(thread.id, run_id=polled.id)
    beta.threads.runs.update(polled.id, thread_id=thread.id, metadata={"seen": "yes"})
    beta.threads.runs.retrieve(polled.id, thread_id=thread.id)
    beta.threads.update(thread.id, metadata={"k": "v"})
    beta.threads.retrieve(thread.id)
    beta.threads.delete(thread.id)
    with contextlib.suppress(openai.NotFoundError):
        beta.threads.retrieve(thread.id)
    for gone in (assistant, first):
        beta.assistants.delete(gone.id)
        with contextlib.suppress(openai.NotFoundError):
            beta.assistants.retrieve(gone.id)


def outcomes(result: RunResult) -> dict[str, Outcome]:
    return {check.id: check.outcome for check in result.checks}


def test_an_sdk_session_through_the_proxy_against_the_reference_server_fails_nothing() -> None:
    with through() as (client, proxy, _):
        session(client)
        result = proxy.stop()
    broken = {c.id: c.findings[0].message for c in result.checks if c.outcome in (Outcome.FAILED, Outcome.WARNED)}
    assert broken == {}
    assert result.verdict is Verdict.CONFORMANT
    assert result.scope == "observed"
    assert result.verdict_reason.startswith("as far as observed")
    assert {check: outcomes(result)[check] for check in ACROSS} == dict.fromkeys(ACROSS, Outcome.PASSED)
    assert outcomes(result)["STREAM-FOLD-001"] is Outcome.PASSED
    assert {c.id: c.outcome for c in result.client} == dict.fromkeys(
        ("CLIENT-JSON-001", "CLIENT-BODY-001", "CLIENT-QUERY-001", "CLIENT-BETA-001"), Outcome.PASSED
    )
    probes = {c.id: c.reason for c in result.checks if c.id in ("AUTH-001", "VALID-002", "PROP-NEG-001")}
    assert probes == dict.fromkeys(("AUTH-001", "VALID-002", "PROP-NEG-001"), "not exercised: " + NOT_HERE)


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("deltas-do-not-add-up", "STREAM-FOLD-001"),
        ("null-tools", "RESP-SCHEMA-001"),
        ("get-answers-a-stale-copy", "ASST-CRUD-002"),
        ("delete-is-a-no-op", "ASST-CRUD-005"),
        ("thread-survives-delete", "THREAD-001"),
    ],
)
def test_a_defect_the_sdks_traffic_meets_is_named_in_the_proxys_report(fault: str, check: str) -> None:
    with through(faulty(fault)) as (client, proxy, _):
        session(client)
        result = proxy.stop()
    failed = {c.id for c in result.checks if c.outcome is Outcome.FAILED}
    assert check in failed
    assert result.verdict is Verdict.NON_CONFORMANT
    assert check in result.verdict_reason


def test_a_slow_stream_arrives_through_the_proxy_event_by_event() -> None:
    """The client's first event comes when the server sends it, long before the stream ends."""
    with through(pace=0.05) as (client, proxy, _):
        assistant = client.beta.assistants.create(model="gpt-4o-mini")
        headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
        body = {
            "assistant_id": assistant.id,
            "stream": True,
            "thread": {"messages": [{"role": "user", "content": "hi"}]},
        }
        began = time.monotonic()
        arrivals = []
        with httpx.stream("POST", f"{proxy.url}/threads/runs", json=body, headers=headers, timeout=30) as answer:
            for chunk in answer.iter_raw():
                if b"event:" in chunk:
                    arrivals.append(time.monotonic() - began)
        result = proxy.stop()
    assert len(arrivals) >= 5
    assert arrivals[0] < arrivals[-1] / 3
    assert outcomes(result)["STREAM-END-001"] is Outcome.PASSED


class _CutAfter:
    """Sends three frames and half of the fourth, then drops the connection."""

    def __init__(self) -> None:
        self.frames = 0

    def feed(self, raw: bytes) -> bytes:
        self.frames += 1
        if self.frames == 4:
            raise CutConnection(raw[: len(raw) // 2])
        return raw

    def end(self) -> bytes:
        return b""


def test_a_cut_stream_reaches_the_client_cut_and_is_a_finding() -> None:
    cut = Fault("stream-cut", frames=lambda req: _CutAfter() if req.path.endswith("/runs") else None)
    app = FaultyApp(create_app(api_key=KEY), cut)
    with through(app) as (client, proxy, _):
        assistant = client.beta.assistants.create(model="gpt-4o-mini")
        thread = client.beta.threads.create()
        headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
        received: list[bytes] = []

        def read() -> None:
            with httpx.stream(
                "POST",
                f"{proxy.url}/threads/{thread.id}/runs",
                json={"assistant_id": assistant.id, "stream": True},
                headers=headers,
                timeout=30,
            ) as answer:
                received.extend(answer.iter_raw())

        with pytest.raises(httpx.RemoteProtocolError):
            read()
        result = proxy.stop()
    assert b"".join(received).count(b"\n\n") == 3  # three whole frames, then half of one: as the server sent them
    end = next(c for c in result.checks if c.id == "STREAM-END-001")
    assert end.outcome is Outcome.FAILED
    assert "broke off" in end.findings[0].message


def test_a_judge_that_raises_never_changes_what_the_client_receives(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Traffic, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a validator bug")

    monkeypatch.setattr(Traffic, "observe", broken)
    said: list[str] = []
    with through(log=said.append) as (client, proxy, _):
        session(client)  # every step still works
        result = proxy.stop()
    assert any("a validator bug" in line for line in said)
    assert any("not judged" in note for note in result.coverage["notes"])


def test_what_passes_through_is_what_the_server_sent() -> None:
    """Status, headers and body bytes as the upstream answered, the hop-by-hop headers aside."""
    with through() as (client, proxy, server):
        made = client.beta.assistants.create(model="gpt-4o-mini", name="same")
        headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2", "X-Custom": "kept"}
        direct = httpx.get(f"{server.base_url}/assistants/{made.id}", headers=headers)
        proxied = httpx.get(f"{proxy.url}/assistants/{made.id}", headers=headers)
        refused = httpx.get(f"{proxy.url}/assistants/asst_none", headers=headers)
        proxy.stop()
    assert (proxied.status_code, proxied.content) == (direct.status_code, direct.content)
    for name in ("content-type", "content-length"):
        assert proxied.headers[name] == direct.headers[name]
    assert refused.status_code == 404


def test_the_clients_own_mistakes_are_reported_apart_and_never_against_the_server() -> None:
    with through() as (_, proxy, _server):
        answer = httpx.get(
            f"{proxy.url}/assistants", params={"limit": "500"}, headers={"Authorization": f"Bearer {KEY}"}
        )
        result = proxy.stop()
    assert answer.status_code == 400  # the server refused it, as it should
    client = {c.id: c for c in result.client}
    assert client["CLIENT-QUERY-001"].outcome is Outcome.FAILED
    assert "limit" in client["CLIENT-QUERY-001"].findings[0].message
    assert client["CLIENT-BETA-001"].outcome is Outcome.WARNED
    assert result.verdict is Verdict.CONFORMANT


BETA = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}


@pytest.mark.parametrize(
    ("rule", "sent"),
    [
        ("CLIENT-JSON-001", {"method": "POST", "url": "/assistants", "content": b"{not json", "headers": BETA}),
        ("CLIENT-BODY-001", {"method": "POST", "url": "/assistants", "json": {"model": 4}, "headers": BETA}),
        ("CLIENT-QUERY-001", {"method": "GET", "url": "/assistants", "params": {"order": "up"}, "headers": BETA}),
        ("CLIENT-BETA-001", {"method": "GET", "url": "/assistants", "headers": {"Authorization": f"Bearer {KEY}"}}),
    ],
)
def test_each_client_rule_fails_alone_on_the_request_that_breaks_it(rule: str, sent: dict[str, Any]) -> None:
    """Every rule of the client's is proven to fail: one broken request, that rule alone."""
    with through() as (_, proxy, _server):
        rest = {k: v for k, v in sent.items() if k not in ("method", "url")}
        httpx.request(sent["method"], proxy.url + sent["url"], **rest)
        result = proxy.stop()
    broken = {c.id for c in result.client if c.outcome in (Outcome.FAILED, Outcome.WARNED)}
    assert broken == {rule}
    (check,) = [c for c in result.client if c.id == rule]
    assert check.outcome is (Outcome.WARNED if rule == "CLIENT-BETA-001" else Outcome.FAILED)
    assert result.verdict is not Verdict.NON_CONFORMANT  # the client's mistake is never the server's


def test_the_key_never_reaches_a_report_the_har_or_the_log(tmp_path: Path) -> None:
    said: list[str] = []
    with through(faulty("null-tools"), har=tmp_path / "s.har", log=said.append) as (client, proxy, _):
        session(client)
        result = proxy.stop()
    assert result.verdict is Verdict.NON_CONFORMANT  # findings, with their exchanges shown
    shown = json.dumps(result.to_dict()) + (tmp_path / "s.har").read_text() + "\n".join(said)
    assert KEY not in shown
    assert KEY[3:-3] not in shown


def test_validate_har_on_the_proxys_recording_gives_the_same_findings(tmp_path: Path) -> None:
    har = tmp_path / "session.har"
    with through(faulty("get-answers-a-stale-copy"), har=har) as (client, proxy, _):
        session(client)
        live = proxy.stop()
    with (tmp_path / "out.txt").open("w") as out:
        code = main(["validate-har", str(har), "--report-dir", str(tmp_path / "har")], stdout=out)
    replayed = json.loads((tmp_path / "har" / "conformance.json").read_text())

    def found(report: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
        return sorted(
            (c["id"], c["outcome"], tuple(sorted(f["kind"] for f in c["findings"])))
            for c in report["checks"] + report["client"]
        )

    assert code == 1
    assert found(replayed) == found(live.to_dict())
    assert "ASST-CRUD-002" in {c["id"] for c in replayed["checks"] if c["outcome"] == "failed"}


# ----------------------------------------------------------------------------- the command
@contextlib.contextmanager
def proxy_command(upstream: str, *args: str, cwd: Path) -> Iterator[tuple[Any, str]]:
    """`assistants-conformance proxy` in a process of its own; yields it and the URL it says."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "assistants_conformance", "proxy", "--upstream", upstream, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline() if process.stdout else ""
        assert first.startswith("proxy: http://"), first + (process.stderr.read() if process.stderr else "")
        yield process, first.split()[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def finished(process: Any) -> tuple[str, str]:
    """What it printed after its first line, once it has exited (read through the same buffered
    files that read the first line: communicate() would skip what they hold)."""
    process.wait(30)
    return process.stdout.read(), process.stderr.read()


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_the_proxy_command_writes_its_reports_when_told_to_stop(tmp_path: Path, signal_name: str) -> None:
    import signal

    with running_server(api_key=KEY) as server, proxy_command(server.base_url, cwd=tmp_path) as (process, url):
        client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
        client.beta.assistants.create(model="gpt-4o-mini", name="via the command")
        process.send_signal(getattr(signal, signal_name))
        out, err = finished(process)
    assert process.returncode == 0, out + err
    report = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    assert (report["scope"], report["verdict"]) == ("observed", "conformant")
    assert f"proxy: stopped ({signal_name})" in out
    assert "CONFORMANT: as far as observed (1 exchange(s)" in out
    assert KEY not in out + err + (tmp_path / "reports" / "conformance.html").read_text()


def test_the_proxy_command_reports_every_few_seconds_and_exits_1_on_findings(tmp_path: Path) -> None:
    import signal

    with (
        running_server(api_key=KEY, app=faulty("null-tools")) as server,
        proxy_command(server.base_url, "--report-every", "1", cwd=tmp_path) as (process, url),
    ):
        openai.OpenAI(base_url=url, api_key=KEY, max_retries=0).beta.assistants.create(model="gpt-4o-mini")
        written = tmp_path / "reports" / "conformance.json"
        deadline = time.monotonic() + 15
        while not written.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process.poll() is None  # written while it still serves
        assert json.loads(written.read_text())["verdict"] == "non-conformant"
        process.send_signal(signal.SIGINT)
        out, _ = finished(process)
    assert process.returncode == 1
    assert "FAILED   RESP-SCHEMA-001" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--upstream", "ftp://x"], "--upstream must be an http(s) URL"),
        (["--upstream", "http://h/v1", "--port", "70000"], "--port must be between 0 and 65535"),
        (["--upstream", "http://h/v1", "--report-every", "0"], "--report-every must be"),
        (["--upstream", "http://h/v1", "--insecure", "--ca-cert", "x.pem"], "contradict"),
    ],
)
def test_bad_proxy_arguments_are_one_line_and_exit_2(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["proxy", *argv, "--report-dir", str(tmp_path / "r")]) == 2
    assert said in capsys.readouterr().err


def test_listening_beyond_loopback_is_said(tmp_path: Path) -> None:
    import signal

    with (
        running_server(api_key=KEY) as server,
        proxy_command(server.base_url, "--host", "0.0.0.0", cwd=tmp_path) as (process, _),
    ):
        process.send_signal(signal.SIGINT)
        out, _ = finished(process)
    assert "WARNING: listening on 0.0.0.0, not loopback" in out
    assert process.returncode == 3  # nothing watched: nothing decided


# ----------------------------------------------------------------------------- the pytest fixture
PROJECT_TEST = """
import warnings
import openai

def test_my_app_creates_an_assistant(assistants_conformance_proxy):
    warnings.simplefilter("ignore", DeprecationWarning)
    client = openai.OpenAI(base_url=assistants_conformance_proxy, api_key="{key}", max_retries=0)
    made = client.beta.assistants.create(model="gpt-4o-mini", name="mine")
    assert client.beta.assistants.retrieve(made.id).name == "mine"
"""


@pytest.mark.parametrize(("app", "code"), [(None, 0), ("null-tools", 1)])
def test_the_fixture_makes_a_projects_sdk_tests_a_conformance_check(
    pytester: pytest.Pytester, app: str | None, code: int
) -> None:
    """One fixture in a project's own tests: their traffic judged; the session fails on findings
    though every test passed, and says which."""
    pytester.makepyfile(PROJECT_TEST.format(key=KEY))
    with running_server(api_key=KEY, app=faulty(app) if app else None) as server:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--assistants-upstream", server.base_url, "--assistants-report-dir", "reports"
        )
    assert result.ret == code
    result.stdout.fnmatch_lines(["*1 passed*"])
    result.stdout.fnmatch_lines(["*assistants-conformance proxy*"])
    if code:
        result.stdout.fnmatch_lines(["FAILED   RESP-SCHEMA-001: *tools*", "NON-CONFORMANT: as far as observed*"])
    else:
        result.stdout.fnmatch_lines(["CONFORMANT: as far as observed*"])
    assert (pytester.path / "reports" / "conformance.json").exists()


def test_the_fixture_without_an_upstream_says_what_it_needs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PROJECT_TEST.format(key=KEY))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*needs --assistants-upstream URL*"])

"""Hostile input, each reproduction of the hardening issue: a clear message and the right exit
code before any request, never a traceback, never a crash that reads as a verdict; and a
reference server that keeps its data readable whatever it is sent."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistants_conformance import cli
from assistants_conformance.cli import main
from assistants_conformance.reference import running_server

UNREACHABLE = "http://127.0.0.1:9/v1"  # were any of these to send a request, the exit code would be 3


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, stdout=out)
    captured = capsys.readouterr()
    return code, out.getvalue() + captured.out + captured.err


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--timeout", "nan"], "--timeout must be a number of seconds"),
        (["--timeout", "inf"], "--timeout must be a number of seconds"),
        (["--sweep-age", "nan"], "--sweep-age must be a finite number"),
        (["--budget-requests", "0"], "--budget-requests must be between"),
        (["--header", "X-Uni: é☃"], "HTTP headers do not carry"),
        (["--header", "Bad Name: v"], "a header name is ASCII"),
        (["--header", "Transfer-Encoding: gzip"], "is the HTTP client's to set"),
        (["--query", "novalue"], "--query must look like NAME=VALUE"),
        (["--auth-header", "api key"], "--auth-header must be a header name"),
    ],
)
def test_bad_numbers_and_headers_are_refused_at_the_door(
    extra: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _run(["run", "--base-url", UNREACHABLE, *extra], capsys)
    assert code == 2
    assert says in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("flag", "content", "says"),
    [
        ("--profile", b'a: &a ["x","x","x","x"]\nb: &b [*a,*a,*a,*a]\nc: [*b,*b,*b,*b]\n', "aliases"),
        ("--profile", b"capabilities: [streaming]\n", "`capabilities` must be a table"),
        ("--profile", b'run: "fast"\n', "`run` must be a table"),
        ("--profile", b"\x00\xff\xfe binary", "not UTF-8"),
        ("--profile", b"capabilities:\n  teleport: true\n", "capabilities are streaming"),
        ("--profile", b"x" * (2 << 20), "larger than"),
        ("--baseline", b"accepted:\n  - check: PAGE-004\n    reason: x\n    expires: 2027-13-45\n", "month must be"),
        ("--baseline", b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        ("--baseline", b"accepted: [1, 2]\n", "every entry needs a check and a reason"),
    ],
    ids=[
        "profile-alias-bomb",
        "profile-list-capabilities",
        "profile-string-run",
        "profile-binary",
        "profile-unknown-capability",
        "profile-huge",
        "baseline-impossible-date",
        "baseline-binary",
        "baseline-not-entries",
    ],
)
def test_a_bad_profile_or_baseline_is_a_usage_error(
    flag: str, content: bytes, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Parsed safely (size cap, UTF-8, no aliases) and checked key by key, before any request."""
    given = tmp_path / "given.yaml"
    given.write_bytes(content)
    code, text = _run(["run", "--base-url", UNREACHABLE, flag, str(given)], capsys)
    assert code == 2
    assert says in text


def test_a_report_dir_that_cannot_hold_the_report_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file in place of the directory, or a directory in place of conformance.json: exit 2 at once."""
    afile = tmp_path / "file"
    afile.write_text("x")
    code, text = _run(["run", "--base-url", UNREACHABLE, "--report-dir", str(afile)], capsys)
    assert code == 2
    assert "is a file, not a folder" in text
    blocked = tmp_path / "reports"
    (blocked / "conformance.json").mkdir(parents=True)
    code, text = _run(["run", "--base-url", UNREACHABLE, "--report-dir", str(blocked)], capsys)
    assert code == 2
    assert "conformance.json there is a directory" in text


def test_report_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "x.json"
    source.write_text('{"format": "assistants-conformance/report/1"}')
    code, text = _run(["report", str(source), "--html", str(source)], capsys)
    assert code == 2
    assert "would be overwritten" in text
    assert source.read_text() == '{"format": "assistants-conformance/report/1"}'


def test_a_closed_pipe_ends_quietly() -> None:
    """`checks | head -1`: no BrokenPipeError traceback, the shell's pipe status (141), not 0/1/2/3."""
    done = subprocess.run(
        f"{sys.executable} -m assistants_conformance checks | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        executable="/bin/bash",
    )
    assert done.stdout.startswith("| ID |")
    assert "Traceback" not in done.stderr
    assert "BrokenPipe" not in done.stderr


def test_an_internal_error_is_exit_4_with_one_line_and_a_saved_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug of the tool is never a verdict: exit 4, one line naming the file with the details."""
    from assistants_conformance.commands import checks

    def broken(*_: object) -> int:
        raise RuntimeError("a bug, with sk-secret-in-message-1234 in it")

    monkeypatch.setattr(checks, "run_checks", broken)
    monkeypatch.setenv("ASSISTANTS_API_KEY", "sk-secret-in-message-1234")
    code, text = _run(["checks"], capsys)
    assert code == cli.INTERNAL_ERROR == 4
    assert text.count("\n") == 1
    assert "internal error: RuntimeError" in text
    assert "Traceback" not in text
    saved = Path(text.rsplit("details in ", 1)[1].strip())
    details = saved.read_text()
    assert "Traceback" in details
    assert "sk-secret-in-message-1234" not in details + text
    saved.unlink()


# ----------------------------------------------------------------------------- the reference server
@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"model": "gpt-4o-mini", "temperature": NaN}', 400),
        (b'{"model": "gpt-4o-mini", "temperature": Infinity}', 400),
        (b'{"model": "gpt-4o-mini", "name": "\\ud800"}', 400),
        (b'{"model": "gpt-4o-mini", "metadata": {"k": "\\udfff"}}', 400),
        (b'{"model": "gpt-4o-mini", "tools": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
        (b'{"model": "gpt-4o-mini", "description": "' + b"d" * (9 << 20) + b'"}', 413),
    ],
    ids=["nan", "infinity", "lone-surrogate", "surrogate-in-metadata", "deep-nesting", "9-MiB-body"],
)
def test_the_reference_server_refuses_what_it_could_not_read_back(body: bytes, status: int) -> None:
    """Refused with the envelope before anything is stored; the list still answers 200 after."""
    key = "sk-hostile-0123"
    with running_server(api_key=key) as server, httpx.Client(timeout=30) as client:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        answer = client.post(f"{server.base_url}/assistants", content=body, headers=headers)
        listed = client.get(f"{server.base_url}/assistants", headers=headers)
    assert answer.status_code == status, answer.text[:200]
    assert "error" in answer.json()
    assert listed.status_code == 200
    assert listed.json()["data"] == []


def test_a_bad_db_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all, not at all" * 10)
    for db in (garbage, tmp_path / "no" / "such" / "dir" / "x.db"):
        code, text = _run(["serve", "--db", str(db)], capsys)
        assert code == 2
        assert "cannot be used as the server's SQLite database" in text


def test_a_run_caught_by_a_restart_expires_instead_of_blocking_its_thread(tmp_path: Path) -> None:
    from assistants_conformance.reference import objects
    from assistants_conformance.reference.store import Store

    db = tmp_path / "ref.db"
    store = Store(db)
    store.insert("thread", {"id": "thread_1", "object": "thread"})
    store.insert("run", {"id": "run_1", "object": "thread.run", "status": "in_progress"}, parent="thread_1")
    store.insert(
        "run", {"id": "run_2", "object": "thread.run", "status": "requires_action", "required_action": {}}, parent="t"
    )
    store.close()
    again = Store(db)
    assert again.expire_interrupted(objects.now()) == 2
    assert again.active_run("thread_1") is None
    assert again.get("run", "run_2") == {
        "id": "run_2",
        "object": "thread.run",
        "status": "expired",
        "required_action": None,
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},  # ended: usage reported
    }
    again.close()


@pytest.mark.parametrize(
    "entry",
    [
        {"request": {"method": "GET", "url": "https://h/v1/assistants"}, "response": {"status": 200, "content": []}},
        {"request": {"method": 5, "url": "https://h/v1/assistants"}, "response": {"status": 200}},
        {"request": {"method": "GET", "url": ["x"]}, "response": {"status": 200}},
        {
            "request": {"method": "GET", "url": "https://h/v1/assistants"},
            "response": {"status": 200, "content": {"text": 12345}},
        },
        {"request": {"method": "GET", "url": "https://h/v1/assistants"}, "response": {"status": 1e400}},
    ],
    ids=["content-list", "method-number", "url-list", "text-number", "status-huge"],
)
def test_a_hostile_har_entry_is_skipped_not_a_crash(
    entry: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    har = tmp_path / "x.har"
    har.write_text(json.dumps({"log": {"entries": [entry]}}).replace("Infinity", "1e400"))
    code, text = _run(["validate-har", str(har)], capsys)
    assert code == 3  # nothing could be checked
    assert "malformed HAR entry, skipped" in text


def test_control_characters_from_a_har_are_shown_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    url = "https://h/v1/assistants/\x1b]0;pwned\x07\x1b[2J"
    entry = {
        "request": {"method": "GET", "url": url},
        "response": {
            "status": 200,
            "headers": [{"name": "content-type", "value": "application/json"}],
            "content": {"text": "{}"},
        },
    }
    har = tmp_path / "x.har"
    har.write_text(json.dumps({"log": {"entries": [entry]}}))
    _, text = _run(["validate-har", str(har)], capsys)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\\x1b]0;pwned" in text


def test_an_id_that_cannot_be_put_in_a_url_is_a_finding_and_cleanup_goes_on() -> None:
    """A server answering assistant ids with a NUL byte and a slash: a finding with its evidence,
    every object is still deleted (its id quoted), and the run ends with a report, not a traceback."""
    from assistants_conformance.lab.faults import Fault, FaultyApp, Req, Res, set_json
    from assistants_conformance.lab.faults.registry import json_answer
    from assistants_conformance.reference import create_app
    from assistants_conformance.results import Outcome
    from assistants_conformance.runner import Options, run

    key = "sk-hostile-ids-0123"
    real: dict[str, str] = {}

    def odd(req: Req, res: Res) -> None:
        body = json_answer(res)
        if req.method == "POST" and req.path == "/v1/assistants" and isinstance(body, dict) and "id" in body:
            real[body["id"] + "\x00/x"] = body["id"]
            body["id"] += "\x00/x"
            set_json(res, body)

    def back(req: Req) -> None:
        for weird, plain in real.items():
            req.path = req.path.replace(weird, plain)

    app = FaultyApp(create_app(api_key=key), Fault("odd ids", before=back, after=odd))
    with running_server(api_key=key, app=app) as server:
        result = run(Options(base_url=server.base_url, api_key=key, max_examples=0, poll_timeout=3.0))
    schema = next(c for c in result.checks if c.id == "RESP-SCHEMA-001")
    assert schema.outcome is Outcome.FAILED
    assert any("cannot stand in a URL path" in f.message for f in schema.findings)
    assert all(c.outcome is not Outcome.ERRORED for c in result.checks)
    assert result.resources["leaked"] == []
    assert result.resources["created"] == result.resources["deleted"] > 0


def test_a_yaml_alias_bomb_given_to_spec_check_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    levels += [f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefg", "bcdefgh", strict=True)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(levels) + "\nopenapi: 3.1.0\n")
    began = time.monotonic()
    code, text = _run(["spec", "--check", "--file", str(bomb)], capsys)
    assert code == 2
    assert "uses YAML aliases" in text
    assert time.monotonic() - began < 5


def test_numbers_no_client_can_read_are_said_so_alike_in_bodies_and_events() -> None:
    from assistants_conformance.validate import validate_response, validate_stream_bytes

    body = validate_response(
        "GET", "/v1/assistants/a", 200, {"content-type": "application/json"}, b'{"id": "a", "temperature": 1e400}'
    )
    assert [v.check for v in body] == ["RESP-JSON-001"]
    assert "out of the range of a 64-bit float" in body[0].message
    event = validate_stream_bytes(b'event: thread.run.created\ndata: {"temperature": 1e400}\n\n').violations
    assert any(v.check == "SSE-JSON-001" and "infinity" in v.message for v in event)

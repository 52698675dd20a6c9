"""A user's day after the first run: choosing checks, a terminal that tells the truth, CI in one
step (waiting for a server, annotations), re-checking what failed, and a run that leaves nothing
behind in the current directory."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.checks.selection import resolve
from assistants_conformance.cli import main
from assistants_conformance.terminal import Paint, clip
from tests.command import cli

FAST = ["--max-examples", "0"]


def _report(folder: Path) -> dict:
    return json.loads((folder / "conformance.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- choosing what to run
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("STREAM-*", {i for i in CATALOGUE if i.startswith("STREAM-")}),
        ("stream", {i for i, c in CATALOGUE.items() if c.category == "stream"}),
        ("streams", {i for i, c in CATALOGUE.items() if c.category == "stream"}),
        ("pagination,AUTH-001", {i for i, c in CATALOGUE.items() if c.category == "pagination"} | {"AUTH-001"}),
        ("auth-00?", {"AUTH-001", "AUTH-002"}),
    ],
)
def test_only_and_skip_take_ids_globs_and_categories(words: str, expected: set[str]) -> None:
    assert resolve(words) == expected


def test_a_word_that_names_no_check_is_a_usage_error_listing_what_is_understood(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, text = cli(["run", "--reference", "--only", "STREEM-*", "--report-dir", str(tmp_path)], capsys)
    assert code == 2
    assert "'STREEM-*' names no check" in text
    assert "pagination" in text


def test_only_a_glob_judges_those_checks_alone(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _ = cli(["run", "--reference", *FAST, "--only", "STREAM-*", "--report-dir", str(tmp_path)], capsys)
    assert code == 0
    judged = {c["id"] for c in _report(tmp_path)["checks"]}
    assert judged
    assert all(i.startswith("STREAM-") for i in judged)
    assert "STREAM-FOLD-001" in judged


# ---------------------------------------------------------------- the terminal
def test_quiet_prints_the_verdict_line_alone(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, text = cli(["run", "--reference", *FAST, "--quiet", "--report-dir", str(tmp_path)], capsys)
    assert code == 0
    assert text.splitlines() == ["CONFORMANT: every selected MUST check passed on evidence"]


def test_a_failing_run_in_one_command_shows_the_fault_and_its_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["run", "--reference", "--fault", "deltas-do-not-add-up", *FAST, "--report-dir", str(tmp_path)]
    code, text = cli(argv, capsys)
    assert code == 1, text
    assert "broken on purpose: --fault deltas-do-not-add-up" in text
    assert "FAILED   STREAM-FOLD-001" in text
    code, text = cli(["run", "--base-url", "http://127.0.0.1:9/v1", "--fault", "deltas-do-not-add-up"], capsys)
    assert code == 2
    assert "--fault needs --reference" in text
    code, text = cli(["run", "--reference", "--fault", "no-such-fault"], capsys)
    assert code == 2
    assert "serve --list-faults" in text


def test_checks_that_share_one_cause_read_as_one_fix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Errors shaped {detail: …} fail the schema check and every probe of a refusal: one FIX line."""
    argv = ["run", "--reference", "--fault", "errors-as-detail", *FAST, "--report-dir", str(tmp_path)]
    code, text = cli(argv, capsys)
    assert code == 1
    fix = [line for line in text.splitlines() if line.lstrip().startswith("FIX")]
    assert len(fix) == 1, text
    assert "{detail}" in fix[0]
    named = text.split(fix[0], 1)[1].splitlines()[1]
    assert {"RESP-SCHEMA-001", "AUTH-001", "AUTH-002", "VALID-004"} <= set(named.split(": ", 1)[1].split(", "))
    # ... and those checks have no line of their own
    assert "FAILED   AUTH-001" not in text


def test_long_lines_end_in_an_ellipsis_at_a_word() -> None:
    text = "the deltas add up to a message that is not the one the server later answered for that id " * 3
    cut = clip(text, 60)
    assert len(cut) <= 60
    assert cut.endswith("…")
    assert text.startswith(cut[:-1])
    assert text[len(cut) - 1] == " "
    assert clip("short", 60) == "short"


def test_colour_on_a_terminal_or_when_forced_never_in_a_pipe_or_with_no_color(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["run", "--reference", "--fault", "deltas-do-not-add-up", *FAST, "--report-dir", str(tmp_path)]
    _, piped = cli(argv, capsys)
    assert "\x1b[" not in piped
    _, forced = cli(argv, capsys, FORCE_COLOR="1")
    assert "\x1b[31;1mNON-CONFORMANT\x1b[0m" in forced
    assert "\x1b[31mfailed\x1b[0m: STREAM-FOLD-001" in forced  # the scenario it failed in, too
    _, refused = cli(argv, capsys, FORCE_COLOR="1", NO_COLOR="1")
    assert "\x1b[" not in refused
    assert Paint(False)("x", "red") == "x"


def test_one_request_count_from_the_status_to_the_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, text = cli(["run", "--reference", *FAST, "--report-dir", str(tmp_path)], capsys)
    assert code == 0
    said = int(text.split(" requests in ")[0].rsplit(" ", 1)[1])
    assert said == _report(tmp_path)["coverage"]["requests"]


def test_a_run_leaves_nothing_in_the_current_directory_but_the_reports(tmp_path: Path) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    done = subprocess.run(
        [sys.executable, "-m", "assistants_conformance", "run", "--reference", "--max-examples", "2", "--quiet"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in work.iterdir()) == ["reports"]
    assert (home / ".cache" / "assistants-conformance").is_dir()


# ---------------------------------------------------------------- CI
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def late_server() -> Iterator[str]:
    """The reference server on a port that answers nothing for 5 s, then serves."""
    port = _free_port()
    holder: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        holder.append(
            subprocess.Popen(
                [sys.executable, "-m", "assistants_conformance", "serve", "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    timer = threading.Timer(5.0, start)
    timer.start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        timer.cancel()
        for process in holder:
            process.terminate()
            process.wait(10)


def test_wait_for_checks_a_server_that_starts_late(
    late_server: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    began = time.monotonic()
    argv = ["run", "--base-url", late_server, "--api-key", "sk-reference-local", "--wait-for", "30"]
    code, text = cli([*argv, *FAST, "--only", "auth", "--report-dir", str(tmp_path)], capsys)
    assert code == 0, text
    assert time.monotonic() - began >= 4.5
    assert "waiting up to 30 s" in text


def test_wait_for_gives_up_saying_how_long_it_waited(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["run", "--base-url", f"http://127.0.0.1:{_free_port()}/v1", "--api-key", "k", "--wait-for", "1.5"]
    code, text = cli([*argv, "--report-dir", str(tmp_path)], capsys)
    assert code == 3
    assert "no answer after waiting 2 s (--wait-for 1.5)" in text or "no answer after waiting 1 s" in text


def test_under_github_actions_each_finding_group_is_an_annotation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["run", "--reference", "--fault", "errors-as-detail", *FAST, "--quiet", "--report-dir", str(tmp_path)]
    code, text = cli(argv, capsys, GITHUB_ACTIONS="true")
    assert code == 1
    errors = [line for line in text.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1, text  # the seven checks share one cause
    assert "title=conformance%3A 7 checks%2C one cause::" in errors[0]
    _, clean = cli(
        ["run", "--reference", *FAST, "--quiet", "--report-dir", str(tmp_path)], capsys, GITHUB_ACTIONS="true"
    )
    assert "::error" not in clean
    assert "::warning" not in clean


# ---------------------------------------------------------------- re-checking
def test_last_failed_judges_fewer_checks_and_keeps_the_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, again = tmp_path / "first", tmp_path / "again"
    base = ["run", "--reference", "--fault", "deltas-do-not-add-up", *FAST]
    assert cli([*base, "--seed", "7", "--report-dir", str(first)], capsys)[0] == 1
    code, text = cli([*base, "--last-failed", str(first / "conformance.json"), "--report-dir", str(again)], capsys)
    assert code == 1, text
    before, after = _report(first), _report(again)
    assert len(after["checks"]) < len(before["checks"])
    assert {c["id"] for c in after["checks"]} == {c["id"] for c in before["checks"] if c["outcome"] == "failed"}
    assert all(c["outcome"] == "failed" for c in after["checks"])
    assert after["seed"] == 7  # the same generated requests as the run it re-checks
    # on the fixed server, what failed now passes
    code, _ = cli(
        ["run", "--reference", *FAST, "--last-failed", str(first / "conformance.json"), "--report-dir", str(again)],
        capsys,
    )
    assert code == 0


def test_last_failed_of_a_green_report_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli(["run", "--reference", *FAST, "--only", "AUTH-001", "--report-dir", str(tmp_path)], capsys)[0] == 0
    code, text = cli(["run", "--reference", "--last-failed", str(tmp_path / "conformance.json")], capsys)
    assert code == 2
    assert "nothing to re-check" in text


def test_compare_changed_shows_only_what_differs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    assert cli(["run", "--reference", *FAST, "--report-dir", str(good)], capsys)[0] == 0
    argv = ["run", "--reference", "--fault", "deltas-do-not-add-up", *FAST, "--report-dir", str(bad)]
    assert cli(argv, capsys)[0] == 1
    _, everything = cli(["compare", str(good / "conformance.json"), str(bad / "conformance.json")], capsys)
    _, changed = cli(["compare", str(good / "conformance.json"), str(bad / "conformance.json"), "--changed"], capsys)
    rows = [line for line in changed.splitlines() if line.startswith("| `")]
    assert "STREAM-FOLD-001" in [r.split("`")[1] for r in rows]
    for row in rows:  # each row shown has two different outcomes
        cells = [re.findall(r"passed|failed|warned|skipped|errored|—", cell) for cell in row.split("|")[3:5]]
        assert cells[0] != cells[1], row
    assert len([line for line in everything.splitlines() if line.startswith("| `")]) > 20
    _, same = cli(["compare", str(good / "conformance.json"), str(good / "conformance.json"), "--changed"], capsys)
    assert "every check has the same outcome" in same


def test_validate_stream_takes_either_spelling_of_submit_tool_outputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stream = tmp_path / "s.txt"
    stream.write_text("event: done\ndata: [DONE]\n\n", encoding="utf-8")
    for name in ("submitToolOutputsToRun", "submitToolOuputsToRun"):
        code, text = cli(["validate-stream", str(stream), "--operation", name], capsys)
        assert code in (0, 1)
        assert "--operation must be" not in text
    code, text = cli(["validate-stream", str(stream), "--operation", "submitToolOutput"], capsys)
    assert code == 2
    assert "submitToolOutputsToRun is accepted too" in text


# ---------------------------------------------------------------- reproducing a failure
STALE = "get-answers-a-stale-copy"
KEY = "sk-users-day-canary-0123456789"


@pytest.fixture
def stale_server() -> Iterator[str]:
    from assistants_conformance.lab.faults import FAULTS, FaultyApp
    from assistants_conformance.reference import create_app, running_server

    app = FaultyApp(create_app(api_key=KEY), FAULTS[STALE].make(KEY))
    with running_server(api_key=KEY, app=app) as server:  # type: ignore[arg-type]
        yield server.base_url


def test_reproduce_says_whether_the_defect_is_still_there(
    stale_server: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from assistants_conformance.reference import running_server

    argv = ["run", "--base-url", stale_server, "--api-key", KEY, *FAST, "--report-dir", str(tmp_path)]
    code, text = cli(argv, capsys)
    assert code == 1
    assert f"reproduce {tmp_path / 'conformance.json'} ASST-CRUD-002" in text
    assert _report(tmp_path)["resources"]["leaked"] == []  # everything it made is gone
    report = str(tmp_path / "conformance.json")
    code, text = cli(["reproduce", report, "ASST-CRUD-002", "--api-key", KEY], capsys)
    assert code == 1, text
    assert "STILL FAILS: ASST-CRUD-002" in text
    assert "GET http://127.0.0.1:" in text
    assert "ANSWER=$(curl" in text
    assert "ID1=$(printf" in text
    assert KEY not in text
    with running_server(api_key=KEY) as clean:
        code, text = cli(["reproduce", report, "ASST-CRUD-002", "--api-key", KEY, "--base-url", clean.base_url], capsys)
    assert code == 0, text
    assert "FIXED: ASST-CRUD-002 passes now" in text
    code, text = cli(["reproduce", report, "NOPE-001"], capsys)
    assert code == 2
    assert "these failed there: ASST-CRUD-002" in text


CURL = '''#!/usr/bin/env python3
"""A stand-in for curl (-sS -X METHOD URL -H 'Name: value' --data-raw BODY), for machines without it."""
import sys, urllib.request, urllib.error
args = sys.argv[1:]
method, url, headers, body = "GET", None, {}, None
while args:
    a = args.pop(0)
    if a == "-X": method = args.pop(0)
    elif a == "-H": name, _, value = args.pop(0).partition(":"); headers[name.strip()] = value.strip()
    elif a == "--data-raw": body = args.pop(0).encode()
    elif a.startswith("-"): continue
    else: url = a
request = urllib.request.Request(url, data=body, method=method, headers=headers)
try:
    with urllib.request.urlopen(request) as answer: sys.stdout.write(answer.read().decode())
except urllib.error.HTTPError as answer: sys.stdout.write(answer.read().decode())
'''


def test_a_reports_reproduction_is_a_self_contained_script(stale_server: str, tmp_path: Path) -> None:
    """The run deleted what it made; the report's script makes it afresh, shows the defect, and
    deletes what it made."""
    import httpx

    from assistants_conformance.reporting.render import reproduction

    reports = tmp_path / "reports"
    argv = ["run", "--base-url", stale_server, "--api-key", KEY, *FAST, "--only", "lifecycle", "--report-dir"]
    assert main([*argv, str(reports)], stdout=io.StringIO()) == 1
    report = _report(reports)
    (check,) = [c for c in report["checks"] if c["id"] == "ASST-CRUD-002"]
    script = reproduction(report["exchanges"], check["findings"][0]["exchange"])
    assert script.count("curl -sS") >= 4  # create, read, modify, the read that shows it, delete
    assert KEY not in script
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "curl").write_text(CURL, encoding="utf-8")
    (shim / "curl").chmod(0o755)
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
    before = len(httpx.get(f"{stale_server}/assistants?limit=100", headers=headers).json()["data"])
    done = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, "ASSISTANTS_API_KEY": KEY, "PATH": f"{shim}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answers, text, decoder = [], done.stdout, json.JSONDecoder()
    while text.strip():
        answer, end = decoder.raw_decode(text.strip())
        answers.append(answer)
        text = text.strip()[end:]
    changed = "changed by the conformance suite"
    assert [a.get("description") == changed for a in answers] == [False, True, False], answers
    # the first read (what the stale cache keeps), the modify answering the change, the read after
    # it answering the old copy; the delete's answer goes to /dev/null
    after = len(httpx.get(f"{stale_server}/assistants?limit=100", headers=headers).json()["data"])
    assert after == before


def test_a_shared_cause_from_a_hostile_body_is_inert_in_every_report() -> None:
    """The cause names the keys of the server's error body: they are the target's words, escaped."""
    from assistants_conformance.reporting import render_html, render_markdown
    from assistants_conformance.reporting.annotations import workflow_commands

    key = "<img src=x onerror=alert(1)>![t](http://evil.example/t.png)`|\n::error::forged"
    body = json.dumps({key: "no"})
    exchange = {
        "method": "GET",
        "url": "http://server.test/v1/assistants",
        "request_headers": {},
        "request_body": "",
        "status": 401,
        "response_headers": {},
        "response_body": body,
        "response_size": len(body),
        "elapsed_ms": 1.0,
        "error": None,
    }
    finding = {"message": "refused", "where": "", "spec": "", "severity": "error", "exchange": 0, "frame": None}
    base = {"level": "MUST", "category": "auth", "requirement": "r", "outcome": "failed", "reason": "", "spec": "#/x"}
    from tests.test_report_golden import FIXED

    report = FIXED.to_dict()
    report["exchanges"] = [exchange]
    template = report["checks"][0]
    report["checks"] = [{**template, **base, "id": name, "findings": [finding]} for name in ("AUTH-001", "AUTH-002")]
    markdown = render_markdown(report)
    assert "One fix, 2 checks" in markdown
    assert "<img" not in markdown
    assert "](http" not in markdown
    assert "\n::error" not in markdown
    html_text = render_html(report)
    assert "One fix, 2 checks" in html_text
    assert "<img src=x" not in html_text
    lines = workflow_commands(report)
    assert all("\n" not in line for line in lines)
    assert sum(line.startswith("::error") for line in lines) == 1


def test_a_baseline_may_spell_submit_tool_outputs_correctly(tmp_path: Path) -> None:
    from assistants_conformance.baseline import load_baseline

    path = tmp_path / "accepted.yaml"
    path.write_text(
        "accepted:\n  - check: RESP-SCHEMA-001\n    operations: [submitToolOutputsToRun, getRun]\n"
        "    where: /usage\n    kind: x\n    reason: known\n",
        encoding="utf-8",
    )
    (entry,) = load_baseline(path)
    assert entry.operations == ("submitToolOuputsToRun", "getRun")


def test_each_finding_group_of_a_check_is_its_own_annotation() -> None:
    from assistants_conformance.reporting.annotations import workflow_commands
    from tests.test_report_golden import FIXED

    report = FIXED.to_dict()
    template = report["checks"][0]
    findings = [
        {"message": f"page {n} overlaps", "where": "", "spec": "", "severity": "error", "count": n, "frame": None}
        for n in (1, 3)
    ]
    report["checks"] = [{**template, "id": "PAGE-001", "outcome": "failed", "findings": findings}]
    lines = workflow_commands(report)
    title = f"PAGE-001 ({template['level']}%2C {template['category']})"
    assert lines == [
        f"::error title={title}::page 1 overlaps",
        f"::error title={title}::page 3 overlaps (seen 3 times)",
    ]
    many = [{**findings[0], "message": f"finding {n}"} for n in range(80)]
    report["checks"][0]["findings"] = many
    lines = workflow_commands(report)
    assert len(lines) == 51
    assert lines[-1] == "::notice::30 more finding group(s): see the reports"


def test_a_report_keeps_what_a_failing_exchange_needs_oldest_first() -> None:
    """The create of each object the exchange names (and theirs in turn), what was done to them
    since, a poll asked again once; nothing for a watched session's report."""
    from assistants_conformance.outcomes import evidence_only
    from assistants_conformance.results import CheckResult, Exchange, Finding, Outcome

    def ex(method: str, path: str, status: int = 200, answer: str = "", body: str = "") -> Exchange:
        return Exchange(method, f"http://s.test/v1{path}", {}, body, status, {}, answer, len(answer), 1.0)

    exchanges = [
        ex("POST", "/assistants", answer='{"id": "asst_1", "object": "assistant"}'),  # 0
        ex("GET", "/assistants?limit=1"),  # 1: names nothing
        ex("POST", "/threads", answer='{"id": "thread_1", "object": "thread"}'),  # 2
        ex("POST", "/threads/thread_1/runs", answer='{"id": "run_1"}', body='{"assistant_id": "asst_1"}'),  # 3
        ex("GET", "/threads/thread_1/runs/run_1"),  # 4: a poll
        ex("GET", "/threads/thread_1/runs/run_1"),  # 5: the same poll again
        ex("POST", "/threads/thread_1/runs/run_1/cancel", status=400),  # 6: the failing one
    ]
    finding = Finding("cancel refused", exchange=6, examples=(6,))
    check = CheckResult("RUN-CANCEL-001", "MUST", "runs", "r", Outcome.FAILED, findings=(finding,))
    (judged,), shipped = evidence_only((check,), lambda i: exchanges[i] if i < len(exchanges) else None)
    assert [e.url.split("/v1")[1] for e in shipped] == [
        "/assistants",
        "/threads",
        "/threads/thread_1/runs",
        "/threads/thread_1/runs/run_1",
        "/threads/thread_1/runs/run_1/cancel",
    ]
    assert shipped[-1].needs == (0, 1, 2, 3)
    assert judged.findings[0].exchange == 4
    _, watched = evidence_only((check,), lambda i: exchanges[i] if i < len(exchanges) else None, replayable=False)
    assert len(watched) == 1
    assert watched[0].needs == ()

"""One verdict policy: a check passes only on evidence, a run is conformant only when every
selected MUST check was judged, and every front end (exit code, JUnit, Markdown, pytest) says so."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from assistants_conformance import runner
from assistants_conformance.checks import CATALOGUE, Level
from assistants_conformance.cli import main
from assistants_conformance.outcomes import owed, verdict_of
from assistants_conformance.reference import running_server
from assistants_conformance.reporting import render_junit, render_markdown
from assistants_conformance.results import CheckResult, Outcome, Verdict
from assistants_conformance.runner import Options, run
from assistants_conformance.scenarios import SCENARIOS

KEY = "sk-canary-verdict-0123456789"


@pytest.mark.parametrize("removed", [sc.name for sc in SCENARIOS], ids=[sc.name for sc in SCENARIOS])
def test_no_check_passes_when_the_scenario_that_exercises_it_is_gone(
    removed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one scenario taken out, every check only it can judge is "not exercised" (never passed),
    and an owed MUST makes the run incomplete, naming it."""
    kept = tuple(sc for sc in SCENARIOS if sc.name != removed)
    monkeypatch.setattr(runner, "SCENARIOS", kept)
    gone = next(sc for sc in SCENARIOS if sc.name == removed)
    judged_elsewhere = set().union(*(sc.checks for sc in kept))
    only_there = set(gone.checks) - judged_elsewhere
    if removed == "runs":  # the only scenario that streams: every stream rule goes with it
        only_there |= {c for c in CATALOGUE if c.startswith(("STREAM-", "SSE-")) and not CATALOGUE[c].trigger}
        only_there.discard("STREAM-UNKNOWN-001")  # SHOULD: not owed, but still not passed
    with running_server(api_key=KEY) as server:
        result = run(
            Options(
                base_url=server.base_url,
                api_key=KEY,
                poll_timeout=3.0,
                max_examples=2 if removed == "properties" else 0,
            )
        )
    outcome = {c.id: c for c in result.checks}
    for check in only_there:
        assert outcome[check].outcome is Outcome.SKIPPED, (check, outcome[check].outcome)
        # A check that waits for a server behaviour says it was not triggered; the others, that
        # nothing exercised them. Neither is a pass.
        said = "not triggered" if CATALOGUE[check].trigger else "not exercised"
        assert outcome[check].reason.startswith(said), outcome[check].reason
        assert outcome[check].evidence == {}
    owed_musts = sorted(c for c in only_there if CATALOGUE[c].level is Level.MUST)
    assert result.verdict is Verdict.INCOMPLETE
    assert "never exercised" in result.verdict_reason
    assert owed_musts[0] in result.verdict_reason


def test_checks_waiting_for_a_behaviour_say_not_triggered_and_do_not_hold_the_verdict() -> None:
    skipped = CheckResult("RESP-HEADER-001", "MUST", "response", "r", Outcome.SKIPPED, reason="not triggered: no 429")
    passed = CheckResult("AUTH-001", "MUST", "auth", "r", Outcome.PASSED, evidence={"listAssistants": 1})
    assert not owed(skipped)
    assert verdict_of((passed, skipped), [])[0] is Verdict.CONFORMANT
    unexercised = CheckResult("AUTH-002", "MUST", "auth", "r", Outcome.SKIPPED, reason="not exercised: x")
    assert verdict_of((passed, unexercised), [])[0] is Verdict.INCOMPLETE
    should = CheckResult("PAGE-004", "SHOULD", "pagination", "r", Outcome.SKIPPED, reason="not exercised: x")
    assert verdict_of((passed, should), [])[0] is Verdict.CONFORMANT


@pytest.mark.parametrize(
    "argv",
    [
        ["--only", "AUTH-001", "--skip", "AUTH-001"],
        ["--only", "PROP-GONE-001", "--max-examples", "0"],
    ],
    ids=["only-and-skip", "property-check-without-property-phase"],
)
def test_selecting_no_check_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Zero checks selected: exit 2 before any request, never a CONFORMANT with 0 passed."""
    code = main(["run", "--base-url", "http://127.0.0.1:9/v1", *argv], stdout=io.StringIO())
    assert code == 2
    assert "no check is selected" in capsys.readouterr().err


def _incomplete_report(tmp_path: Path) -> dict[str, Any]:
    with running_server(api_key=KEY) as server:
        code = main(
            [
                "run",
                "--base-url",
                server.base_url,
                "--api-key",
                KEY,
                "--max-examples",
                "0",
                "--budget-requests",
                "40",
                "--report-dir",
                str(tmp_path),
                "--quiet",
            ],
            stdout=io.StringIO(),
        )
    assert code == 3
    return json.loads((tmp_path / "conformance.json").read_text())


def test_junit_and_markdown_go_red_on_an_incomplete_run(tmp_path: Path) -> None:
    """A budget-cut run fails no check; JUnit still carries a failing verdict testcase and the
    Markdown summary states the verdict first."""
    report = _incomplete_report(tmp_path)
    assert report["verdict"] == "incomplete"
    assert not [c for c in report["checks"] if c["outcome"] == "failed"]
    suite = ET.fromstring(render_junit(report).split("?>", 1)[1])
    verdict = suite.find("testcase[@name='verdict: incomplete']")
    assert verdict is not None
    assert verdict.find("failure") is not None
    assert int(suite.get("failures") or 0) >= 1
    assert render_markdown(report).startswith("## ⚠️ INCOMPLETE")


def test_validate_har_with_nothing_to_check_does_not_pass(tmp_path: Path) -> None:
    """A HAR without one Assistants exchange judged nothing: exit 3 and a sentence, not a green 0."""
    har = tmp_path / "other.har"
    entry = {
        "request": {"method": "GET", "url": "https://cdn.example.com/app.js", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"mimeType": "text/javascript", "text": "x"}},
    }
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    out = io.StringIO()
    assert main(["validate-har", str(har)], stdout=out) == 3
    assert "nothing was checked" in out.getvalue()

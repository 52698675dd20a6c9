"""The CI gate holds findings, not check IDs: a new defect under an accepted check fails it and is
named; an accepted finding no longer seen is fixed (remove it); when the gate passes, every output
leads with it (terminal, summary.md, JUnit, HTML), and when it fails, with the new findings."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from assistants_conformance.cli import main
from assistants_conformance.lab.faults import Fault, FaultyApp, Req, Res
from assistants_conformance.reference import create_app, running_server

KEY = "sk-canary-baseline-0123456789"


def _keyless_accepted(req: Req) -> None:
    """Defect A: a request without a key is served as if it carried one."""
    req.headers.setdefault("authorization", f"Bearer {KEY}")


def _keyless_without_envelope(req: Req) -> Res | None:
    """Defect B, under the same check: a keyless request is refused with 401, but in FastAPI's shape."""
    if "authorization" not in req.headers:
        return Res(401, {"content-type": "application/json"}, b'{"detail": "Not authenticated"}')
    return None


FAULTS = {
    "A": Fault("missing auth accepted", before=_keyless_accepted),
    "B": Fault("401 without the envelope", before=_keyless_without_envelope),
}


def gate(tmp_path: Path, server: str | None, *extra: str, baseline: str | None = None) -> tuple[int, str, Path]:
    """A run against the reference server behind defect `server` (None: the clean one); returns the
    exit code, the terminal and the report directory."""
    app = create_app(api_key=KEY)
    if server is not None:
        app = FaultyApp(app, FAULTS[server])  # type: ignore[assignment]
    reports = tmp_path / f"reports-{server}-{len(list(tmp_path.iterdir()))}"
    argv = ["run", "--api-key", KEY, "--max-examples", "0", "--only", "AUTH-001,AUTH-002,ASST-CRUD-001"]
    argv += ["--report-dir", str(reports)]
    if baseline is not None:
        argv += ["--baseline", baseline]
    with running_server(api_key=KEY, app=app) as running:
        out = io.StringIO()
        code = main([argv[0], "--base-url", running.root, *argv[1:], *extra], stdout=out)
    return code, out.getvalue(), reports


@pytest.fixture
def accepted_a(tmp_path: Path) -> str:
    """A baseline written from a run against defect A."""
    path = tmp_path / "accepted.yaml"
    code, out, _ = gate(tmp_path, "A", "--write-baseline", str(path))
    assert code == 1
    assert f"finding(s) written to {path}" in out
    return str(path)


def test_a_baseline_holds_findings_with_their_operation_place_and_kind(accepted_a: str) -> None:
    entries = yaml.safe_load(Path(accepted_a).read_text())["accepted"]
    assert entries
    for entry in entries:
        assert entry["check"] == "AUTH-001"
        assert entry["operations"]  # where it was seen
        assert re.search(r"answered [24]0[04]; expected 401 with the error envelope$", entry["kind"])  # statuses kept
        assert entry["reason"].startswith("failing since ")


def test_a_new_defect_under_an_accepted_check_fails_the_gate_and_is_named(tmp_path: Path, accepted_a: str) -> None:
    code, out, reports = gate(tmp_path, "B", baseline=accepted_a)
    assert code == 1
    assert f"GATE FAILED ({accepted_a}):" in out
    assert "NEW    AUTH-001 in " in out
    assert "without the error envelope" in out.split("GATE FAILED", 1)[1]
    summary = (reports / "summary.md").read_text()
    assert summary.startswith("## ❌ Gate failed: ")
    assert "- **new:** AUTH-001 in " in summary
    suite = ET.parse(reports / "junit.xml").getroot()
    (verdict,) = [case for case in suite.iter("testcase") if case.get("name", "").startswith("gate:")]
    assert verdict.get("name") == "gate: failed (verdict: non-conformant)"
    assert "without the error envelope" in (verdict.find("failure").text or "")
    (auth,) = [case for case in suite.iter("testcase") if case.get("name", "").startswith("AUTH-001")]
    assert auth.find("failure") is not None  # a new finding: a failure, not accepted
    # The fixed entries of A are named too: A's defect is gone on server B.
    assert "FIXED  AUTH-001" in out


def test_the_accepted_defect_again_passes_the_gate_and_every_output_says_so(tmp_path: Path, accepted_a: str) -> None:
    code, out, reports = gate(tmp_path, "A", baseline=accepted_a)
    assert code == 0, out
    closing = out.split("\n\n")[-1]
    assert closing.startswith(f"GATE PASSED ({accepted_a}): ")  # the gate leads the closing lines
    assert "0 new" in closing
    assert "NON-CONFORMANT (only where the baseline accepts it):" in closing
    assert "ACCEPTED AUTH-001" in out
    summary = (reports / "summary.md").read_text()
    assert summary.startswith("## ✅ Gate passed: ")
    assert "accepted finding" in summary.splitlines()[0]
    assert "0 new" in summary.splitlines()[0]
    assert "| <code>AUTH-001</code> | MUST | accepted |" in summary
    suite = ET.parse(reports / "junit.xml").getroot()
    assert suite.get("failures") == "0"
    (auth,) = [case for case in suite.iter("testcase") if case.get("name", "").startswith("AUTH-001")]
    skipped = auth.find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("accepted by the baseline: failing since ")
    html = (reports / "conformance.html").read_text()
    assert html.index('id="gate"') < html.index('id="verdict"')  # the gate leads the page
    assert "Gate passed: " in html
    assert "accepted by the baseline)" in html  # What to fix says how many are accepted
    assert 'class="badge" title="failing since' in html
    report = json.loads((reports / "conformance.json").read_text())
    assert report["verdict"] == "non-conformant"  # the report stays truthful
    assert report["baseline"]["passed"] is True
    findings = next(c for c in report["checks"] if c["id"] == "AUTH-001")["findings"]
    assert all(f["accepted"] for f in findings)


def test_an_accepted_finding_no_longer_seen_is_fixed_and_fails_the_gate(tmp_path: Path, accepted_a: str) -> None:
    """The baseline only shrinks: on the clean server every entry is fixed ("remove it")."""
    code, out, reports = gate(tmp_path, None, baseline=accepted_a)
    assert code == 1
    assert "FIXED  AUTH-001 in " in out
    assert "remove it from the baseline" in out
    assert "- **fixed** (remove it from " in (reports / "summary.md").read_text()


def test_an_entry_whose_check_was_not_judged_is_not_called_fixed(tmp_path: Path, accepted_a: str) -> None:
    code, out, reports = gate(tmp_path, "A", "--skip", "AUTH-001", baseline=accepted_a)
    assert code == 0, out
    report = json.loads((reports / "conformance.json").read_text())
    assert report["baseline"]["stale"] == []
    assert report["baseline"]["unjudged"]


def test_an_expired_entry_no_longer_excuses(tmp_path: Path, accepted_a: str) -> None:
    path = Path(accepted_a)
    data = yaml.safe_load(path.read_text())
    for entry in data["accepted"]:
        entry["expires"] = "2020-01-01"
    path.write_text(yaml.safe_dump(data).replace("'2020-01-01'", "2020-01-01"))
    code, out, _ = gate(tmp_path, "A", baseline=str(path))
    assert code == 1
    assert "EXPIRED AUTH-001" in out
    assert "NEW    AUTH-001" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("accepted: [{check: AUTH-001}]\n", "needs a check and a reason"),
        ("nope: 1\n", "must hold an `accepted:` list"),
        ("accepted: [{check: AUTH-001, reason: r, expires: soon}]\n", "must be a date"),
        ("accepted: [{check: AUTH-001, reason: r, operations: getThread}]\n", "must be a list of operationIds"),
        ("accepted: [{id: AUTH-001, reason: r}]\n", "names a check only"),
    ],
)
def test_bad_baselines_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(content)
    assert main(["run", "--reference", "--baseline", str(path)], stdout=io.StringIO()) == 2
    assert message in capsys.readouterr().err

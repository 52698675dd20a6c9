"""The CI gate: new failure → 1, baselined failure → 0, stale entry → 1, expired entry → 1."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from assistants_conformance.cli import main
from assistants_conformance.faults import Fault, FaultyApp, Req
from assistants_conformance.reference import create_app, running_server

KEY = "sk-canary-baseline-0123456789"


def _inject_auth(req: Req) -> None:
    req.headers.setdefault("authorization", f"Bearer {KEY}")


def gate(
    tmp_path: Path, baseline: str | None, *, faulty: bool = True, extra: list[str] | None = None
) -> tuple[int, str]:
    app = create_app(api_key=KEY)
    if faulty:
        app = FaultyApp(app, Fault("missing auth accepted", before=lambda r: _inject_auth(r)))  # type: ignore[assignment]
    argv = ["run", "--api-key", KEY, "--max-examples", "0", "--quiet", "--report-dir", str(tmp_path / "r")]
    if baseline is not None:
        path = tmp_path / "baseline.yaml"
        path.write_text(baseline)
        argv += ["--baseline", str(path)]
    with running_server(api_key=KEY, app=app) as server:
        out = io.StringIO()
        code = main([*argv[:1], "--base-url", server.root, *argv[1:], *(extra or [])], stdout=out)
    return code, out.getvalue()


def test_new_failure_fails_the_gate(tmp_path: Path) -> None:
    code, out = gate(tmp_path, "accepted: []\n")
    assert code == 1
    assert "new failures: ['AUTH-001']" in out


def test_baselined_failure_passes_the_gate_but_the_report_stays_truthful(tmp_path: Path) -> None:
    code, out = gate(tmp_path, "accepted:\n  - id: AUTH-001\n    reason: auth lands next sprint\n")
    assert code == 0, out
    report = json.loads((tmp_path / "r" / "conformance.json").read_text())
    assert report["verdict"] == "non-conformant"
    assert report["baseline"]["accepted"] == ["AUTH-001"]
    assert "Baseline gate" in (tmp_path / "r" / "conformance.html").read_text()


def test_stale_entry_fails_the_gate(tmp_path: Path) -> None:
    """A baselined check that passes now must be removed: the baseline only shrinks."""
    code, out = gate(tmp_path, "accepted:\n  - id: AUTH-001\n    reason: x\n  - id: PAGE-001\n    reason: y\n")
    assert code == 1
    assert "stale entries: ['PAGE-001']" in out


def test_expired_entry_no_longer_excuses(tmp_path: Path) -> None:
    code, out = gate(tmp_path, "accepted:\n  - id: AUTH-001\n    reason: x\n    expires: 2020-01-01\n")
    assert code == 1
    assert "expired: ['AUTH-001']" in out


def test_write_baseline_records_current_failures(tmp_path: Path) -> None:
    """--write-baseline starts a team off; the written file then passes the gate."""
    target = tmp_path / "start.yaml"
    code, _ = gate(tmp_path, None, extra=["--write-baseline", str(target)])
    assert code == 1
    assert "id: AUTH-001" in target.read_text()
    code, _ = gate(tmp_path, target.read_text())
    assert code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("accepted: [{id: AUTH-001}]\n", "needs an id and a reason"),
        ("nope: 1\n", "must hold an `accepted:` list"),
        ("accepted: [{id: AUTH-001, reason: r, expires: soon}]\n", "must be a date"),
    ],
)
def test_bad_baselines_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(content)
    assert main(["run", "--reference", "--baseline", str(path)], stdout=io.StringIO()) == 2
    assert message in capsys.readouterr().err

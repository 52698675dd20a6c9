"""Proof of detection: every named fault makes exactly its named checks fail; the clean server makes none."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.cli import main
from assistants_conformance.lab.faults import FAULTS, FaultSpec, FaultyApp
from assistants_conformance.lab.faults.registry import MUST_BE_SHOWN_ELSEWHERE
from assistants_conformance.reference import create_app, running_server
from assistants_conformance.results import Outcome, RunResult, Verdict
from assistants_conformance.runner import Options, run

KEY = "sk-canary-detection-0123456789"


@pytest.mark.parametrize("spec", list(FAULTS.values()), ids=list(FAULTS))
def test_each_fault_fails_exactly_its_named_checks(spec: FaultSpec) -> None:
    """The run meets the fault: the checks its description predicts fire (MUSTs fail, SHOULDs warn),
    nothing errors, and the verdict follows."""
    result = _met(spec)
    by_outcome = {o: {c.id for c in result.checks if c.outcome is o} for o in Outcome}
    # Predictions, not snapshots: the checks the fault's description says must catch it do; others
    # that also fire are consequences the matrix records (`detection` shows them), not asserted.
    assert spec.expects <= by_outcome[Outcome.FAILED], sorted(spec.expects - by_outcome[Outcome.FAILED])
    assert spec.warns <= by_outcome[Outcome.WARNED] | by_outcome[Outcome.FAILED]
    assert by_outcome[Outcome.ERRORED] == set(), [c.reason for c in result.checks if c.outcome is Outcome.ERRORED]
    assert result.verdict is (Verdict.NON_CONFORMANT if spec.expects else Verdict.CONFORMANT)
    if spec.leaves_objects:  # its deletes do not delete: the read-back says which and why
        assert result.resources["leaked"]
        assert all("still answers" in line for line in result.resources["leaked"])
    else:
        assert result.resources["leaked"] == []


def _met(spec: FaultSpec) -> RunResult:
    """The conformance run against the reference server with this one fault in front of it."""
    app = FaultyApp(create_app(api_key=KEY), spec.make(KEY))
    examples = 10 if spec.phase == "properties" else 0  # scenario faults need no generated requests
    with running_server(api_key=KEY, app=app) as server:
        return run(
            Options(base_url=server.root, api_key=KEY, poll_timeout=3.0, timeout=10.0, max_examples=examples, seed=0)
        )


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("metadata-values-cut-at-255", "VALID-ECHO-001"),
        ("tools-come-back-sorted", "VALID-ECHO-001"),
        ("user-messages-credited-to-the-assistant", "RESP-IDENTITY-001"),
        ("null-ids-as-empty-strings", "RESP-SCHEMA-001"),  # the createMessage `run_id: null` rule
        ("tool-outputs-blank-before-submit", "RUN-TOOL-003"),
        ("submitted-outputs-not-kept", "RUN-TOOL-003"),
        ("run-overrides-ignored", "RUN-SETTINGS-001"),
        ("run-settings-not-inherited", "RUN-SETTINGS-001"),
        ("modify-run-ignores-metadata", "RUN-MODIFY-001"),
        ("deletion-confirmed-with-a-new-id", "RESP-ID-001"),
        ("assistants-listed-without-instructions", "ASST-CRUD-004"),
    ],
)
def test_a_newer_check_has_a_server_that_fails_it_alone(fault: str, check: str) -> None:
    """Beyond predictions: for each check added with the echo, identity, status, tool-output, run
    settings and id rules, one broken server makes that check, and no other, fail."""
    result = _met(FAULTS[fault])
    assert {c.id for c in result.checks if c.outcome in (Outcome.FAILED, Outcome.WARNED)} == {check}


def test_the_catalogue_is_broad() -> None:
    """At least 30 defects, over every area, and every check is caught by a fault or proven elsewhere."""
    assert len(FAULTS) >= 30
    categories = Counter(spec.category for spec in FAULTS.values())
    assert set(categories) >= {"auth", "schema", "responses", "errors", "assistants", "threads", "pagination"}
    assert set(categories) >= {"validation", "runs", "sse", "stream", "properties"}
    caught = set().union(*(spec.expects | spec.warns for spec in FAULTS.values()))
    assert caught <= set(CATALOGUE)
    assert set(CATALOGUE) - caught == MUST_BE_SHOWN_ELSEWHERE


def test_serve_lists_its_faults() -> None:
    out = io.StringIO()
    assert main(["serve", "--list-faults"], stdout=out) == 0
    assert out.getvalue().count("\n") == len(FAULTS)
    assert "done-missing" in out.getvalue()
    assert "[STREAM-END-001]" in out.getvalue()


def test_serve_refuses_an_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--fault", "no-such-fault"], stdout=io.StringIO()) == 2
    assert "unknown --fault 'no-such-fault'" in capsys.readouterr().err


def test_detection_command_writes_the_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two faults and the clean server, without the Schemathesis columns: JSON and HTML, each fault detected."""
    code = main(
        [
            "detection",
            "--faults",
            "done-missing,any-key-accepted",
            "--max-examples",
            "0",
            "--skip-schemathesis",
            "--report-dir",
            str(tmp_path),
        ],
        stdout=io.StringIO(),
    )
    assert code == 0, capsys.readouterr().err
    matrix = json.loads((tmp_path / "detection.json").read_text())
    rows = {row["fault"]: row for row in matrix["faults"]}
    assert rows["done-missing"]["suite"]["fired"] == ["STREAM-END-001"]
    assert rows["done-missing"]["suite"]["detected"] is True
    assert rows["any-key-accepted"]["suite"]["fired"] == ["AUTH-002"]
    assert matrix["clean"]["suite"]["fired"] == []
    assert matrix["columns"]["suite"]["detected"] == 2
    assert matrix["columns"]["suite"]["false_alarms"] == 0
    assert "skipped" in matrix["columns"]["schemathesis_vendor"]["status"]
    html = (tmp_path / "detection.html").read_text()
    assert "done-missing" in html
    assert "STREAM-END-001" in html
    assert "<script src" not in html


def test_detection_without_the_vendor_document_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "detection",
            "--faults",
            "any-key-accepted",
            "--max-examples",
            "0",
            "--vendor-spec",
            str(tmp_path / "missing.yaml"),
            "--skip-schemathesis",
            "--report-dir",
            str(tmp_path),
        ],
        stdout=io.StringIO(),
    )
    assert code == 0
    assert "vendor spec" in capsys.readouterr().err
    matrix = json.loads((tmp_path / "detection.json").read_text())
    assert "not found" in matrix["columns"]["schemathesis_vendor"]["status"]


def test_detection_refuses_an_unknown_fault(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["detection", "--faults", "done-missing,nope", "--report-dir", str(tmp_path)], stdout=io.StringIO())
    assert code == 2
    assert "unknown fault(s): nope" in capsys.readouterr().err
    assert not (tmp_path / "detection.json").exists()


def test_the_middleware_alone_changes_nothing_a_client_sends() -> None:
    """Odd header bytes, repeated and blank query parameters reach the app as sent: no defect of the
    middleware's own may count as a fault's (or a false alarm on the clean server)."""
    import httpx

    from assistants_conformance.lab.faults import Fault

    app = FaultyApp(create_app(api_key=KEY), Fault("none"))
    with running_server(api_key=KEY, app=app) as server, httpx.Client(base_url=server.base_url) as client:
        odd = client.get("/assistants", headers={"Authorization": f"Bearer {KEY}", "X-Odd": b"caf\xe9"})
        blank = client.get("/assistants", params={"limit": ""}, headers={"Authorization": f"Bearer {KEY}"})
    assert odd.status_code == 200
    assert blank.status_code == 400  # an empty limit is invalid, not "no limit"


class _Unchanged:
    def feed(self, raw: bytes) -> bytes:
        return raw

    def end(self) -> bytes:
        return b""


@pytest.mark.parametrize(
    ("hooks", "live"),
    [
        ({}, True),  # the clean server of every detector
        ({"before": lambda req: None}, True),
        ({"after": lambda req, res: None}, False),  # it may rewrite the stream: held whole
        ({"after": lambda req, res: None, "sees": lambda req: req.path.endswith("/cancel")}, True),
        ({"after": lambda req, res: None, "frames": lambda req: _Unchanged()}, True),  # edited as it goes
    ],
)
def test_a_stream_no_fault_changes_goes_out_live(hooks: dict[str, Any], live: bool) -> None:
    """Behind the middleware a client can act mid-stream (cancel a run) unless the fault may
    rewrite that very answer; then the stream is held and sent whole."""
    import time

    import httpx

    from assistants_conformance.lab.faults import Fault

    app = FaultyApp(create_app(api_key=KEY), Fault("hooks", **hooks))
    auth = {"Authorization": f"Bearer {KEY}"}
    with running_server(api_key=KEY, app=app) as server, httpx.Client(base_url=server.base_url, headers=auth) as c:
        assistant = c.post("/assistants", json={"model": "m"}).json()
        body = {
            "assistant_id": assistant["id"],
            "stream": True,
            "thread": {"messages": [{"role": "user", "content": "a paced answer #slow"}]},
        }
        arrivals = []
        with c.stream("POST", "/threads/runs", json=body) as streamed:
            for _ in streamed.iter_bytes():
                arrivals.append(time.monotonic())
    assert (arrivals[-1] - arrivals[0] > 0.3) is live  # paced 50 ms an event: well over 0.3 s live


def test_the_detection_page_escapes_what_it_shows() -> None:
    """Summaries render `code` spans; anything else, including what a detector printed, is inert text."""
    from assistants_conformance.lab.detection import render_html

    matrix = {
        "tool_version": "0",
        "generated_at": "now",
        "seed": 0,
        "max_examples": 0,
        "vendor_spec": None,
        "columns": {
            "suite": {"title": "suite", "status": "ran", "wall_s": 1, "faults": 1, "detected": 1, "false_alarms": 0}
        },
        "clean": {},
        "faults": [
            {
                "fault": "f",
                "summary": "uses `x` <script>alert(1)</script>",
                "category": "c",
                "phase": "scenarios",
                "named": ["AUTH-001"],
                "suite": {
                    "fired": ["AUTH-001"],
                    "warned": [],
                    "detected": True,
                    "seconds": 1,
                    "outcome": "<img src=x onerror=alert(1)>",
                    "note": "",
                },
            }
        ],
    }
    html = render_html(matrix)
    assert "<code>x</code>" in html
    assert "<script>" not in html
    assert "<img" not in html


def test_a_schemathesis_cell_measured_once_is_reused_until_an_input_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept by everything that decides it; `reuse=False` (--remeasure) measures again, and a cell
    Schemathesis could not finish is never kept."""
    from assistants_conformance.lab.detection import matrix

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    runs: list[str] = []

    def fake(document: Path, base_url: str, *, seed: int, max_examples: int) -> tuple[list[str], str, bool]:
        runs.append(document.name)
        return ([f"ST {document.read_text()}"], "exit 1", document.read_text() == "breaks")

    monkeypatch.setattr(matrix, "schemathesis_failures", fake)
    document = tmp_path / "spec.yaml"
    document.write_text("one")
    spec = FAULTS["done-missing"]
    first = matrix.schemathesis_cell(document, spec, seed=0, max_examples=5)
    again = matrix.schemathesis_cell(document, spec, seed=0, max_examples=5)
    assert (first.cached, again.cached, again.fired, len(runs)) == (False, True, ["ST one"], 1)
    assert not matrix.schemathesis_cell(document, spec, seed=0, max_examples=5, reuse=False).cached
    assert not matrix.schemathesis_cell(document, spec, seed=1, max_examples=5).cached  # another seed
    document.write_text("two")
    assert matrix.schemathesis_cell(document, spec, seed=0, max_examples=5).fired == ["ST two"]
    document.write_text("breaks")
    matrix.schemathesis_cell(document, spec, seed=0, max_examples=5)
    assert not matrix.schemathesis_cell(document, spec, seed=0, max_examples=5).cached
    assert len(runs) == 6

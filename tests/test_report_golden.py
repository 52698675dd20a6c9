"""Golden files: HTML, JUnit and Markdown of one fixed results model, byte for byte.

After an intended change to a renderer, regenerate with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistants_conformance.reporting import render_html, render_junit, render_markdown
from assistants_conformance.reporting.render import problems
from assistants_conformance.results import CheckResult, Exchange, Finding, Outcome, RunResult, Verdict

GOLDEN = Path(__file__).parent / "golden"

FIXED = RunResult(
    tool_version="0.1.0",
    spec_sha256="0" * 64,
    target="http://server.test/v1",
    seed=7,
    started_at="2026-11-23T12:00:00+00:00",
    finished_at="2026-11-23T12:00:09+00:00",
    duration_s=9.0,
    verdict=Verdict.NON_CONFORMANT,
    verdict_reason="1 MUST check(s) failed: ASST-CRUD-007",
    checks=(
        CheckResult(
            "AUTH-001",
            "MUST",
            "auth",
            "A request without an API key is refused with 401 and the envelope.",
            Outcome.PASSED,
            evidence={"createThread": 1, "listAssistants": 1},
        ),
        CheckResult(
            "ASST-CRUD-007",
            "MUST",
            "lifecycle",
            "An unknown id answers 404 with the error envelope.",
            Outcome.FAILED,
            (
                Finding(
                    "an unknown id answered 400; expected 404 with the error envelope",
                    "",
                    "",
                    "error",
                    0,
                    None,
                    2,
                    (0,),
                ),
            ),
        ),
        CheckResult(
            "RESP-HEADER-001",
            "MUST",
            "response",
            "Declared required headers are present.",
            Outcome.SKIPPED,
            reason="not triggered: the target never answered a status with a required header (429)",
        ),
        CheckResult(
            "PAGE-004",
            "SHOULD",
            "pagination",
            "`before` walks back to the previous page.",
            Outcome.WARNED,
            (Finding("`before` gave [] <b>not</b> the page", "/data", "#/components/schemas/ListPage", "error", None),),
        ),
    ),
    exchanges=(
        Exchange(
            "GET",
            "http://server.test/v1/assistants/asst_x",
            {"Authorization": "[redacted: API key]", "OpenAI-Beta": "assistants=v2"},
            "",
            400,
            {"content-type": "application/json"},
            '{"error": {"message": "<i>bad id</i>", "type": "t", "param": null, "code": null}}',
            76,
            3.1,
        ),
    ),
    coverage={
        "operations": {"getAssistant": {"400": 1}},
        "events": {"done": 1},
        "requests": 1,
        "notes": [],
        "timings_ms": {"getAssistant": 3.1},
    },
    resources={"created": 2, "deleted": 2, "leaked": [], "swept": []},
    profile={"model": "gpt-4o-mini"},
)


@pytest.mark.parametrize(
    ("name", "render"), [("report.html", render_html), ("junit.xml", render_junit), ("summary.md", render_markdown)]
)
def test_renderer_output_matches_its_golden_file(name: str, render: object) -> None:
    """Renderers are pure functions of the model: the same model gives the same bytes."""
    model = FIXED.to_dict()
    assert problems(model) == []
    text = render(model)  # type: ignore[operator]
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")

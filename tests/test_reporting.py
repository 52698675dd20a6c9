"""Reports: the JSON validates against its shipped schema; HTML, JUnit and Markdown render from it alone."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from assistants_conformance.cli import main
from assistants_conformance.commands.run import write_json
from assistants_conformance.lab.faults import Fault, FaultyApp, Req, Res, answer
from assistants_conformance.reference import create_app, running_server
from assistants_conformance.reporting import render_html, render_junit, render_markdown
from assistants_conformance.reporting.render import curl, problems
from assistants_conformance.runner import Options, run

KEY = "sk-canary-report-0123456789abcdef"
HOSTILE = "<script>document.title='PWNED'</script><img src=x onerror=alert(1)>"


def _hostile_404(req: Req) -> Res | None:
    if req.path.endswith("/assistants/asst_conformance_does_not_exist"):
        return answer(404, {"detail": HOSTILE})
    return None


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One non-conformant run whose target answers with markup, written with every view."""
    directory = tmp_path_factory.mktemp("reports")
    app = FaultyApp(create_app(api_key=KEY), Fault("hostile 404", before=_hostile_404))
    with running_server(api_key=KEY, app=app) as server:
        result = run(Options(base_url=server.root, api_key=KEY, max_examples=2))
    write_json(result, directory, secrets=[KEY])
    return directory


@pytest.fixture(scope="module")
def report(written: Path) -> dict[str, Any]:
    return json.loads((written / "conformance.json").read_text())


def test_json_report_validates_against_the_shipped_schema(report: dict[str, Any]) -> None:
    """The canonical form is schema-valid, and records the failure with its evidence."""
    assert problems(report) == []
    assert report["verdict"] == "non-conformant"
    failed = {c["id"] for c in report["checks"] if c["outcome"] == "failed"}
    assert failed == {"ASST-CRUD-007", "RESP-SCHEMA-001"}


def test_schema_rejects_a_report_that_looks_clean_but_is_not(report: dict[str, Any]) -> None:
    """A failed check without findings, or an unknown verdict, is not a valid report."""
    broken = json.loads(json.dumps(report))
    next(c for c in broken["checks"] if c["outcome"] == "failed")["findings"] = []
    assert problems(broken)
    assert problems({**report, "verdict": "mostly fine"})


def test_no_byte_of_any_report_holds_the_key(written: Path) -> None:
    """The canary key appears in no file of the report directory."""
    for path in written.iterdir():
        assert KEY not in path.read_text(encoding="utf-8"), path.name


def test_html_is_self_contained_and_escapes_what_the_target_sent(written: Path) -> None:
    """No external resource; the target's markup shows as text, never as markup."""
    html = (written / "conformance.html").read_text()
    assert HOSTILE not in html
    assert "&lt;script&gt;document.title=" in html
    for marker in ('src="http', "src='http", 'href="http', "<link", "@import", "url("):
        assert marker not in html
    assert "NON-CONFORMANT" in html
    assert "Content-Security-Policy" in html


def test_html_failures_carry_a_reproduction_without_the_key(report: dict[str, Any]) -> None:
    """Each failing finding links to its exchange; the curl line reads the key from the environment."""
    html = render_html(report)
    assert html.count("<details") >= 2
    assert "Bearer $ASSISTANTS_API_KEY" in html
    exchange = report["exchanges"][
        next(c for c in report["checks"] if c["id"] == "ASST-CRUD-007")["findings"][0]["exchange"]
    ]
    command = curl(exchange)
    assert command.startswith("curl -sS -X GET ")
    assert '"Authorization: Bearer $ASSISTANTS_API_KEY"' in command
    assert KEY not in command


@pytest.mark.parametrize(
    ("headers", "wanted", "unwanted"),
    [
        ({"OpenAI-Beta": "assistants=v2"}, [], ["ASSISTANTS_API_KEY"]),
        ({"api-key": "[redacted: API key]"}, ['"api-key: $ASSISTANTS_API_KEY"'], ["Authorization"]),
        (
            {"Authorization": "Bearer sk-conformance-wrong-key"},
            ["'Authorization: Bearer sk-conformance-wrong-key'"],
            ["ASSISTANTS_API_KEY"],
        ),
        ({"Cookie": "[redacted]", "X-Tenant": "t1"}, ["'X-Tenant: t1'"], ["Cookie", "ASSISTANTS_API_KEY"]),
    ],
    ids=["keyless-probe", "gateway-header", "wrong-key-probe", "other-secret"],
)
def test_the_curl_line_repeats_the_request_as_it_was_sent(
    headers: dict[str, str], wanted: list[str], unwanted: list[str]
) -> None:
    """The key goes back (from the environment) only where the request carried it, in the header it
    was sent in; a keyless or wrong-key probe reproduces as the failing request was sent."""
    exchange = {"method": "GET", "url": "http://h/v1/assistants?api-version=1", "request_headers": headers}
    command = curl({**exchange, "request_body": ""})
    assert "'http://h/v1/assistants?api-version=1'" in command
    for text in wanted:
        assert text in command
    for text in unwanted:
        assert text not in command


def test_html_opens_on_the_verdict_and_what_to_fix(report: dict[str, Any]) -> None:
    """Verdict, then one line per failed check (count and first example), then the full tables."""
    html = render_html(report)
    verdict, to_fix, first_table = html.index('id="verdict"'), html.index('id="to-fix"'), html.index("<table")
    assert verdict < to_fix < first_table
    fix = html[to_fix : html.index("</section>", to_fix)]
    failed = [c["id"] for c in report["checks"] if c["outcome"] == "failed"]
    assert fix.count("<li") == len([c for c in report["checks"] if c["outcome"] in ("failed", "errored", "warned")])
    for check_id in failed:
        assert f'href="#{check_id}"' in fix
    assert "— e.g. GET http://127.0.0.1:" in fix  # the first example exchange


def test_html_lists_failures_first_in_each_category(report: dict[str, Any]) -> None:
    import re

    html = render_html(report)
    rank = {"failed": 0, "errored": 1, "warned": 2, "skipped": 3, "passed": 4}
    for table in html.split('<table class="checks">')[1:]:
        outcomes = re.findall(r'<tr class="check (\w+)"', table.split("</table>")[0])
        assert outcomes == sorted(outcomes, key=rank.__getitem__)


def test_requirements_render_their_markdown_and_nothing_else() -> None:
    from assistants_conformance.reporting.render import inline_markdown

    assert str(inline_markdown("`before` walks *back*")) == "<code>before</code> walks <em>back</em>"
    assert "<b>" not in str(inline_markdown("<b>x</b> `<i>`"))
    assert "&lt;i&gt;" in str(inline_markdown("`<i>`"))


def test_html_shows_the_request_headers_that_were_sent_with_secrets_redacted(report: dict[str, Any]) -> None:
    html = render_html(report)
    assert "request headers (secrets redacted)" in html
    assert "OpenAI-Beta: assistants=v2" in html
    assert "Authorization: [redacted: API key]" in html
    assert KEY not in html


def test_junit_has_one_testcase_per_check(report: dict[str, Any]) -> None:
    """CI systems read it: counts on the suite match the checks."""
    suite = ET.fromstring(render_junit(report).split("?>", 1)[1])
    cases = suite.findall("testcase")
    assert len(cases) == len(report["checks"]) + 1  # + the verdict
    assert cases[0].get("name") == f"verdict: {report['verdict']}"
    assert int(suite.get("failures")) == len(suite.findall("testcase/failure")) == 3  # 2 checks + the verdict
    assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped"))


def test_markdown_summary_leads_with_the_verdict(report: dict[str, Any]) -> None:
    """Fit for $GITHUB_STEP_SUMMARY: verdict first, failing checks in a table."""
    text = render_markdown(report)
    assert text.startswith("## ❌ NON-CONFORMANT")
    assert "| <code>ASST-CRUD-007</code> | MUST | failed |" in text


def test_report_command_rerenders_a_saved_report(written: Path, tmp_path: Path) -> None:
    """Any saved JSON can be rendered again, without re-running anything."""
    out = io.StringIO()
    code = main(
        [
            "report",
            str(written / "conformance.json"),
            "--html",
            str(tmp_path / "a.html"),
            "--junit",
            str(tmp_path / "a.xml"),
            "--markdown",
            str(tmp_path / "a.md"),
        ],
        stdout=out,
    )
    assert code == 0
    assert (tmp_path / "a.html").read_text() == (written / "conformance.html").read_text()
    assert (tmp_path / "a.xml").read_text() == (written / "junit.xml").read_text()


def test_report_schema_is_printed() -> None:
    out = io.StringIO()
    assert main(["report", "--schema"], stdout=out) == 0
    assert json.loads(out.getvalue())["title"] == "assistants-conformance report"


@pytest.mark.parametrize(
    ("content", "message"), [(b"{}", "not a valid assistants-conformance report"), (b"nope", "not a JSON report")]
)
def test_report_command_refuses_what_is_not_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    target = tmp_path / "x.json"
    target.write_bytes(content)
    assert main(["report", str(target), "--html", str(tmp_path / "x.html")], stdout=io.StringIO()) == 2
    assert message in capsys.readouterr().err


MARKDOWN_ATTACKS = (
    "![pixel](https://tracker.test/p.png) [click](https://evil.test) <img src=x onerror=alert(1)> "
    "`code` ``two`` | pipe | *bold* _em_ # head https://bare.test www.bare.test\nnext line"
)


def test_every_field_reaching_summary_md_is_inert(report: dict[str, Any]) -> None:
    """Whatever a target sent, in any field summary.md shows (target, verdict reason, findings, leaked
    objects, the gate's lines), renders as text: no image, no link, no HTML, no broken code span,
    no extra table cell."""
    from markdown_it import MarkdownIt

    hostile = json.loads(json.dumps(report))
    hostile["target"] = "http://host.test/v1" + MARKDOWN_ATTACKS
    hostile["verdict_reason"] = MARKDOWN_ATTACKS
    for check in hostile["checks"]:
        for finding in check["findings"]:
            finding["message"] = MARKDOWN_ATTACKS
    hostile["resources"]["leaked"] = [f"/threads/{MARKDOWN_ATTACKS}: DELETE answered 500"]
    hostile["profile"]["transport"] = [MARKDOWN_ATTACKS]
    hostile["baseline"] = {
        "file": MARKDOWN_ATTACKS,
        "passed": False,
        "headline": "gate failed: " + MARKDOWN_ATTACKS,
        "accepted": [],
        "new_failures": [MARKDOWN_ATTACKS],
        "stale": [MARKDOWN_ATTACKS],
        "expired": [],
    }
    text = render_markdown(hostile)
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<img" not in html
    assert "<a " not in html
    assert "onerror" not in html.replace("onerror=alert", "")  # only as escaped text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "https://" not in text  # no bare URL for GitHub to autolink
    assert "www.bare" not in text
    for row in (line for line in text.splitlines() if line.startswith("| <code>")):
        assert row.count(" | ") == 3  # the table keeps its four cells: pipes are escaped


def test_a_report_whose_findings_point_past_its_exchanges_is_refused(
    written: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = json.loads((written / "conformance.json").read_text())
    next(c for c in broken["checks"] if c["findings"])["findings"][0]["exchange"] = 10_000
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    for argv in (["report", str(path), "--html", str(tmp_path / "x.html")], ["compare", str(path), str(path)]):
        assert main(argv, stdout=io.StringIO()) == 2
        assert "points at exchange 10000, but the report holds" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["report", "compare", "validate-har"])
def test_json_nested_100000_deep_is_a_usage_error(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"log": {"entries": ' + "[" * 100_000 + "]" * 100_000 + "}}")
    argv = [command, str(path)] + ([str(path)] if command == "compare" else [])
    assert main(argv, stdout=io.StringIO()) == 2
    assert "Traceback" not in capsys.readouterr().err

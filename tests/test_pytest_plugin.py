"""The pytest plugin: one item per check, driven by the same runner; inert without its option."""

from __future__ import annotations

import pytest

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.reference import running_server


def _against(pytester: pytest.Pytester, root: str, *extra: str) -> pytest.RunResult:
    """The plugin against `root` with the test key, in a subprocess (as a user's session runs)."""
    return pytester.runpytest_subprocess(
        "--assistants-base-url", root, "--assistants-api-key", "sk-plugin-test", "-p", "no:cacheprovider", *extra
    )


def test_plugin_is_inert_without_a_target(pytester: pytest.Pytester) -> None:
    """Installing the package changes nothing in an unrelated suite."""
    pytester.makepyfile("def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_one_item_per_check_against_the_reference_server(pytester: pytest.Pytester) -> None:
    """Against the clean reference server: every check is an item; none fails."""
    with running_server(api_key="sk-plugin-test") as server:
        result = _against(pytester, server.root, "--assistants-max-examples", "0", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0
    assert outcomes["passed"] + outcomes.get("skipped", 0) == len(CATALOGUE) + 1  # + the verdict item
    result.stdout.fnmatch_lines(["*assistants-conformance target: http://127.0.0.1:*"])
    result.stdout.fnmatch_lines([f"collected {len(CATALOGUE) + 1} items"])


def test_items_are_grouped_under_the_target_and_located_in_the_catalogue(pytester: pytest.Pytester) -> None:
    """A nodeid per check under one node named for the target; a failure points at the check's line
    in the catalogue, where its requirement is written."""
    result = pytester.runpytest_subprocess(
        "--assistants-base-url", "http://127.0.0.1:9/v1", "-p", "no:cacheprovider", "-k", "AUTH-002", "-v"
    )
    result.stdout.fnmatch_lines(["assistants-conformance[[]127.0.0.1:9/v1]::AUTH-002 FAILED*"])
    result.stdout.fnmatch_lines(["*AUTH-002: *key*"])  # the failure's headline is the requirement
    listed = pytester.runpytest_subprocess(
        "--assistants-base-url", "http://127.0.0.1:9/v1", "-p", "no:cacheprovider", "--collect-only", "-q"
    )
    ids = [line for line in listed.stdout.lines if "::" in line]
    assert len(ids) == len(CATALOGUE) + 1
    assert all(line.startswith("assistants-conformance[127.0.0.1:9/v1]::") for line in ids)


def test_the_plugin_imports_nothing_of_ours_until_its_option_is_given(pytester: pytest.Pytester) -> None:
    """Pytest loads the plugin in every session of the environment: it must cost nothing there."""
    pytester.makeconftest(
        "import sys\n"
        "def pytest_sessionfinish(session):\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith('assistants_conformance'))\n"
        "    print('LOADED', loaded)\n"
    )
    pytester.makepyfile("def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    assert "LOADED ['assistants_conformance', 'assistants_conformance.pytest_plugin']\n" in result.stdout.str()


def test_the_verdict_item_fails_an_incomplete_run(pytester: pytest.Pytester) -> None:
    """A run cut short by its budget fails no check, but its verdict item fails the session."""
    with running_server(api_key="sk-plugin-test") as server:
        pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
        pytester.makeconftest(
            "import pytest\n"
            "from assistants_conformance import runner\n"
            "_real = runner.Options.__init__\n"
            "def _small(self, *a, **k):\n"
            "    _real(self, *a, **{**k, 'budget_requests': 12})\n"
            "runner.Options.__init__ = _small\n"
        )
        result = pytester.runpytest_subprocess(
            "--assistants-base-url",
            server.base_url,
            "--assistants-api-key",
            "sk-plugin-test",
            "--assistants-max-examples",
            "0",
        )
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*INCOMPLETE*budget*"])
    result.stdout.fnmatch_lines(["*FAILED*verdict*"])


def test_failing_check_is_a_failing_item(pytester: pytest.Pytester) -> None:
    """An unreachable target errors every check: the items fail with the reason, not a traceback."""
    result = pytester.runpytest_subprocess(
        "--assistants-base-url", "http://127.0.0.1:9", "-p", "no:cacheprovider", "-k", "AUTH-001"
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*the conformance run could not start*ConnectError*"])
    assert "Traceback" not in result.stdout.str()


def test_an_unusable_base_url_is_one_usage_error(pytester: pytest.Pytester) -> None:
    """A bad scheme is said once, as pytest's usage error (exit 4), not as a traceback per check."""
    result = pytester.runpytest_subprocess("--assistants-base-url", "ftp://nowhere", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.str().count("--assistants-base-url: --base-url must be an http(s) URL") == 1
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_k_limits_what_the_run_judges_and_the_reports_are_written(pytester: pytest.Pytester) -> None:
    """`-k AUTH` judges the AUTH checks alone (the run sends a handful of requests, not the whole
    suite's), and --conformance-report-dir writes the same reports `run` writes."""
    reports = pytester.path / "conformance-reports"
    with running_server(api_key="sk-plugin-test") as server:
        result = _against(pytester, server.root, "-k", "AUTH", "--conformance-report-dir", str(reports))
    result.assert_outcomes(passed=2)
    import json

    report = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    assert {c["id"] for c in report["checks"]} == {"AUTH-001", "AUTH-002"}
    assert report["coverage"]["requests"] < 40
    assert {p.name for p in reports.iterdir()} >= {"conformance.html", "junit.xml", "summary.md"}
    assert "sk-plugin-test" not in (reports / "conformance.json").read_text(encoding="utf-8")


def test_a_failing_check_item_carries_its_reproduction(pytester: pytest.Pytester) -> None:
    from assistants_conformance.lab.faults import FAULTS, FaultyApp
    from assistants_conformance.reference import create_app

    app = FaultyApp(create_app(api_key="sk-plugin-test"), FAULTS["get-answers-a-stale-copy"].make("sk-plugin-test"))
    with running_server(api_key="sk-plugin-test", app=app) as server:  # type: ignore[arg-type]
        result = _against(pytester, server.root, "--assistants-max-examples", "0", "-k", "ASST-CRUD-002")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*reproduce (the key is read from $ASSISTANTS_API_KEY):*", "*ANSWER=$(curl -sS -X POST*"]
    )
    assert "sk-plugin-test" not in result.stdout.str()

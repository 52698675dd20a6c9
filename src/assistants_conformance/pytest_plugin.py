"""The pytest front end: `pytest --assistants-base-url URL` runs the same catalogue through the
same runner, one pytest item per check, inside a team's own test suite.

Inactive unless the option (or $ASSISTANTS_BASE_URL) is given, so installing the package never
changes an unrelated test run. The option has our own prefix: `--base-url` belongs to pytest-base-url.
Pytest loads this module in every session of the environment, so it imports nothing of ours until
the option is given.

Items are grouped under one collector named for the target (`assistants-conformance[host/v1]::AUTH-001`);
each check's location is its entry in the catalogue, where its requirement is written.

The `assistants_conformance_proxy` fixture puts the live validating proxy in front of
`--assistants-upstream URL` for the session: a project's own SDK-based tests point their client's
base URL at it, and the session fails when what their traffic got back breaks the contract.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from assistants_conformance.checks import Check
    from assistants_conformance.results import RunResult
    from assistants_conformance.target import BaseURL  # noqa: F401 - named in a StashKey

_RESULT = pytest.StashKey["RunResult"]()
_ERROR = pytest.StashKey[str]()
_BASE_URL = pytest.StashKey["BaseURL"]()
_PROXY_RESULT = pytest.StashKey["RunResult"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("assistants-conformance", "Assistants API v2 conformance")
    group.addoption(
        "--assistants-base-url",
        default=os.environ.get("ASSISTANTS_BASE_URL"),
        help="run the conformance catalogue against this server (default: $ASSISTANTS_BASE_URL)",
    )
    group.addoption(
        "--assistants-api-key", default=None, help="the key (default: $ASSISTANTS_API_KEY, then $OPENAI_API_KEY)"
    )
    group.addoption("--assistants-max-examples", type=int, default=10, help="property phase examples per operation")
    group.addoption(
        "--assistants-upstream",
        default=os.environ.get("ASSISTANTS_UPSTREAM"),
        help="the server the assistants_conformance_proxy fixture forwards to (default: $ASSISTANTS_UPSTREAM)",
    )
    group.addoption(
        "--assistants-report-dir",
        "--conformance-report-dir",
        dest="assistants_report_dir",
        default=None,
        help="write the reports (JSON, HTML, JUnit, summary) here at the session's end, as `run` does "
        "(the proxy fixture's go in a proxy/ folder beside them when both ran)",
    )


@pytest.fixture(scope="session")
def assistants_conformance_proxy(request: pytest.FixtureRequest) -> Iterable[str]:
    """The base URL of a live validating proxy in front of --assistants-upstream: give it to the
    client under test. Every answer is judged as it passes; the session fails on a finding."""
    upstream = request.config.getoption("assistants_upstream")
    if not upstream:
        pytest.fail("assistants_conformance_proxy needs --assistants-upstream URL (or $ASSISTANTS_UPSTREAM)", False)
    from assistants_conformance.proxy import running_proxy
    from assistants_conformance.target import BaseURL

    try:
        base = BaseURL.parse(upstream)
    except ValueError as exc:
        pytest.fail(f"--assistants-upstream: {exc}".replace("--base-url", "the upstream"), False)
    with running_proxy(base) as proxy:
        yield proxy.url
        request.config.stash[_PROXY_RESULT] = proxy.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The proxy's verdict decides the session too: a clean test run whose traffic broke the
    contract fails."""
    directory = session.config.getoption("assistants_report_dir")
    ran = session.config.stash.get(_RESULT, None)
    if directory and ran is not None:
        from assistants_conformance.commands.run import write_json

        write_json(ran, Path(directory), secrets=[_key(session.config) or ""])
    result = session.config.stash.get(_PROXY_RESULT, None)
    if result is None:
        return
    from assistants_conformance.results import Verdict

    if directory:
        from assistants_conformance.commands.run import write_json

        write_json(result, Path(directory) / "proxy" if ran is not None else Path(directory), secrets=())
    if result.verdict is Verdict.NON_CONFORMANT and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    result = config.stash.get(_PROXY_RESULT, None)
    if result is None:
        return
    from assistants_conformance.results import Outcome

    terminalreporter.section("assistants-conformance proxy")
    failing = [c for c in result.checks if c.outcome in (Outcome.FAILED, Outcome.WARNED)]
    for check in failing:
        terminalreporter.write_line(f"{check.outcome.value.upper():8} {check.id}: {check.findings[0].message[:200]}")
    for check in (c for c in result.client if c.outcome in (Outcome.FAILED, Outcome.WARNED)):
        terminalreporter.write_line(f"client   {check.id}: {check.findings[0].message[:200]} (not the server's)")
    terminalreporter.write_line(f"{result.verdict.value.upper()}: {result.verdict_reason}")


def pytest_report_header(config: pytest.Config) -> str | None:
    url = config.getoption("assistants_base_url")
    return f"assistants-conformance target: {url}" if url else None


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection, so those options apply to checks too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    url = config.getoption("assistants_base_url")
    if not url:
        return
    from assistants_conformance.target import BaseURL

    try:
        config.stash[_BASE_URL] = BaseURL.parse(url)  # read once; the run uses what was read
    except ValueError as exc:  # one usage error for the session, not one failure per check
        raise pytest.UsageError(f"--assistants-base-url: {exc}") from None
    from assistants_conformance.checks import CATALOGUE

    parts = urlsplit(url)
    name = f"assistants-conformance[{parts.netloc}{parts.path.rstrip('/')}]"
    target = Target.from_parent(session, name=name, nodeid=name)
    made: list[pytest.Item] = [
        CheckItem.from_parent(target, name=check.id, check=check) for check in CATALOGUE.values()
    ]
    made.append(VerdictItem.from_parent(target, name="verdict"))
    items.extend(made)
    # Counted like collected items ("collected 69 items"), though they are made after collection.
    collected: list[pytest.Item | pytest.Collector] = list(made)
    config.hook.pytest_collectreport(report=pytest.CollectReport(target.nodeid, "passed", None, collected))


class Target(pytest.Collector):
    """The server under test: the parent of every check item (they are made at collection's end)."""

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        return []


@cache
def _catalogue_lines() -> tuple[Path, dict[str, int]]:
    """Where each check's ID is written in the catalogue's source (0-based lines, as pytest wants)."""
    from assistants_conformance.checks import catalogue

    source = Path(catalogue.__file__)
    lines: dict[str, int] = {}
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines()):
        text = line.strip().rstrip(",")
        if text.startswith('"') and text.endswith('"') and text.strip('"') not in lines:
            lines[text.strip('"')] = number
    return source, lines


class CheckFailed(Exception):
    pass


def _key(config: pytest.Config) -> str | None:
    key: str | None = (
        config.getoption("assistants_api_key")
        or os.environ.get("ASSISTANTS_API_KEY")
        or os.environ.get("OPENAI_API_KEY")
    )
    return key


def _catalogue() -> dict[str, Check]:
    from assistants_conformance.checks import CATALOGUE

    return CATALOGUE


_EXCHANGES = pytest.StashKey[list[dict[str, Any]]]()


class _RunItem(pytest.Item):
    """An item that reads the one conformance run of the session (run on first use)."""

    def _result(self) -> RunResult:
        stash = self.config.stash
        if _ERROR in stash:
            raise CheckFailed(f"the conformance run could not start: {stash[_ERROR]}")
        if _RESULT not in stash:
            from assistants_conformance.errors import ConformanceToolError
            from assistants_conformance.runner import Options, run

            # -k, -m and --deselect choose checks as they choose tests: the run judges only the
            # checks whose items are left (all of them: no restriction).
            chosen = {item.check.id for item in self.session.items if isinstance(item, CheckItem)}
            every = len(chosen) == len(_catalogue())
            try:
                stash[_RESULT] = run(
                    Options(
                        base_url=stash[_BASE_URL],
                        api_key=_key(self.config),
                        max_examples=self.config.getoption("assistants_max_examples"),
                        only=frozenset() if every or not chosen else frozenset(chosen),
                    )
                )
            except ConformanceToolError as exc:
                stash[_ERROR] = str(exc)
                raise CheckFailed(f"the conformance run could not start: {exc}") from None
        return stash[_RESULT]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class VerdictItem(_RunItem):
    """The run's verdict as an item: an incomplete run (budget used up, MUST checks never
    exercised) fails the session even when no check failed."""

    def runtest(self) -> None:
        from assistants_conformance.results import Verdict

        result = self._result()
        if result.verdict is not Verdict.CONFORMANT:
            raise CheckFailed(f"{result.verdict.value.upper()}: {result.verdict_reason}")

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, "verdict of the conformance run"


class CheckItem(_RunItem):
    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        from assistants_conformance.results import Outcome

        found = next((c for c in self._result().checks if c.id == self.check.id), None)
        if found is None:
            pytest.skip("not selected for this run (--assistants-max-examples 0 turns the property phase off)")
        if found.outcome is Outcome.SKIPPED:
            pytest.skip(found.reason)
        if found.outcome in (Outcome.FAILED, Outcome.ERRORED):
            lines = [f"{found.id} ({found.level}) {found.outcome.value}: {found.requirement}"]
            lines += [f"  - {f.message}" + (f" [{f.where}]" if f.where else "") for f in found.findings[:10]]
            if found.reason:
                lines.append(f"  reason: {found.reason}")
            first = found.findings[0].exchange if found.findings else None
            if first is not None:
                from assistants_conformance.reporting.render import reproduction

                stash = self.config.stash
                if _EXCHANGES not in stash:
                    stash[_EXCHANGES] = self._result().to_dict()["exchanges"]
                lines.append("  reproduce (the key is read from $ASSISTANTS_API_KEY):")
                lines += [f"    {line}" for line in reproduction(stash[_EXCHANGES], first).splitlines()]
            raise CheckFailed("\n".join(lines))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        source, lines = _catalogue_lines()
        return source, lines.get(self.check.id), f"{self.check.id}: {self.check.requirement}"

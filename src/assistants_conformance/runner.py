"""Plans and runs the scenarios against one target and returns the results model.

Kind to real targets: everything created is tagged with the run id in metadata and deleted
at the end in reverse order (also on failure and Ctrl-C), requests are bounded by a budget and
a time limit, and an exhausted budget makes the verdict incomplete, never a pass.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import secrets
import ssl
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from assistants_conformance import __version__
from assistants_conformance.checks import CATALOGUE, Level
from assistants_conformance.checks.catalogue import ANSWERS
from assistants_conformance.context import TAG, Context
from assistants_conformance.contract import spec_path
from assistants_conformance.errors import TargetUnreachable, TargetUnusable, UsageError
from assistants_conformance.profile import Profile
from assistants_conformance.progress import Progress
from assistants_conformance.results import CheckResult, Exchange, Finding, Outcome, RunResult, Verdict
from assistants_conformance.scenarios import SCENARIOS, Scenario
from assistants_conformance.stopping import Stop
from assistants_conformance.target import BudgetExhausted, Response, Target, normalise_base_url
from assistants_conformance.terminal import printable


@dataclass
class Options:
    base_url: str
    api_key: str | None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    auth_header: str | None = None
    sweep: bool = False
    sweep_age: float = 3600.0
    model: str = "gpt-4o-mini"
    only: set[str] = field(default_factory=set)
    skip: set[str] = field(default_factory=set)
    seed: int = 0
    timeout: float = 30.0
    budget_requests: int = 2000
    time_limit: float = 900.0
    poll_timeout: float = 60.0
    max_examples: int = 10
    workers: int = 1
    # The lab's levers (mutants): run only the named scenarios; end the run at its first failure.
    scenarios: frozenset[str] | None = None
    stop_at_first_failure: bool = False
    profile: Profile = field(default_factory=Profile)
    progress: Progress | None = None  # what the terminal shows while the run goes (progress.py)
    # How requests travel: one proxy or none (resolved at the edge, never read here from the
    # environment), the TLS check, and the lines that say so in the report.
    proxy: str | None = None
    verify: ssl.SSLContext | bool = True
    transport: list[str] = field(default_factory=list)
    # Signals: the command installs one around the run and its reports; without, the run does.
    stop: Stop | None = None


PROPERTY_PREFIX = "PROP-"


def selected(options: Options) -> list[str]:
    """The checks this run is asked to decide. `--max-examples 0` turns the property phase off,
    which deselects its checks: they are neither passed nor owed."""
    return [
        i
        for i in CATALOGUE
        if (not options.only or i in options.only)
        and i not in options.skip
        and not (options.max_examples <= 0 and i.startswith(PROPERTY_PREFIX))
    ]


def run(options: Options) -> RunResult:
    started = datetime.now(UTC)
    began = time.monotonic()
    # The tag carries the run's start time, so that a later --sweep can tell an abandoned run's
    # objects (old) from a live run's (new) on a server that several runs share.
    run_id = f"conf_{int(started.timestamp())}_{secrets.token_hex(4)}"
    try:
        normalise_base_url(options.base_url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target = Target(
        options.base_url,
        options.api_key,
        headers=options.headers,
        query=options.query,
        auth_header=options.auth_header,
        timeout=options.timeout,
        budget_requests=options.budget_requests,
        deadline_s=options.time_limit,
        proxy=options.proxy,
        verify=options.verify,
    )
    ctx = Context(
        target,
        run_id,
        options.profile.model or options.model,
        options.poll_timeout,
        seed=options.seed,
        max_examples=options.max_examples,
        capabilities=options.profile.capabilities,
        progress=options.progress,
        stop_at_first_failure=options.stop_at_first_failure,
    )
    ctx.notes.extend(options.transport)
    wanted = set(selected(options))
    incomplete: list[str] = []
    swept: list[str] = []
    stop = options.stop or Stop()
    with contextlib.ExitStack() as installed:
        if options.stop is None:
            installed.enter_context(stop)
        stop.attach(target)
        try:
            try:
                swept = _scenarios(ctx, options, wanted, incomplete)
            except KeyboardInterrupt:
                # A signal: stop sending (in-flight requests give up at once), skip the rest,
                # then clean up and report what was checked as an incomplete run.
                target.interrupted = True
                incomplete.append(f"interrupted ({_said(stop.name)})")
        finally:
            stop.cleaning = True
            if options.progress is not None:
                options.progress.update("clean-up", target.used, len(ctx.failing_checks()))
            resources = _clean_up(ctx)
            if stop.stopped_cleaning:
                resources["interrupted"] = f"clean-up stopped by a second signal ({_said(stop.received[-1])})"
            resources["swept"] = swept
            target.close()
    unserved = ctx.not_served()
    _report_unserved(ctx, unserved)
    found = _without_unserved(ctx.findings, unserved)  # built once: each check's grouped findings
    checks = tuple(
        _result(ctx, check_id, options.profile, found, unserved) for check_id in CATALOGUE if check_id in wanted
    )
    checks, exchanges = _evidence_only(checks, target.exchanges)
    verdict, reason = verdict_of(checks, incomplete)
    return RunResult(
        tool_version=__version__,
        spec_sha256=hashlib.sha256(spec_path().read_bytes()).hexdigest(),
        target=target.base_url,
        seed=options.seed,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        duration_s=round(time.monotonic() - began, 2),
        verdict=verdict,
        verdict_reason=reason,
        checks=checks,
        exchanges=exchanges,
        coverage={
            "operations": {op: dict(statuses) for op, statuses in ctx.coverage.items()},
            "events": dict(ctx.events),
            "notes": list(ctx.notes),
            "requests": target.used,
            "timings_ms": {op: round(sorted(t)[len(t) // 2] * 1000, 1) for op, t in ctx.timings.items()},
        },
        resources=resources,
        profile={
            **options.profile.to_dict(),
            "model": ctx.model,
            "run_id": run_id,
            "transport": list(options.transport),  # proxy and TLS as the user set them, said in every report
        },
    )


def _said(name: str) -> str:
    return {"SIGINT": "Ctrl-C", "": "Ctrl-C"}.get(name, name)


def _scenarios(ctx: Context, options: Options, wanted: set[str], incomplete: list[str]) -> list[str]:
    """Preflight, the control create, an optional sweep, then every chosen scenario; returns what
    the sweep deleted. `incomplete` collects why the run cannot be called complete."""
    target = ctx.target
    say = options.progress.line if options.progress is not None else None
    probe = preflight(target, say=say, notes=ctx.notes)
    control(ctx)
    swept = _sweep(ctx, options.sweep_age, say) if options.sweep else _left_before(ctx, options.sweep_age, say)
    if probe.status >= 500 and probe.status != 503:
        incomplete.append(f"the target answers {probe.status} to a plain list request")
    # The validators' checks judge every answer: selecting one runs every scenario.
    judges_all = any(CATALOGUE[check].judged_by == (ANSWERS,) for check in wanted)
    chosen = [
        sc
        for sc in SCENARIOS
        if (judges_all or wanted & set(sc.checks)) and (options.scenarios is None or sc.name in options.scenarios)
    ]
    pool = ThreadPoolExecutor(max_workers=max(1, options.workers))
    try:
        for outcome in pool.map(lambda sc: _run_scenario(ctx, sc, options, wanted), chosen):
            if outcome:
                incomplete.append(outcome)
    finally:
        target.interrupted = target.interrupted or sys.exc_info()[0] is not None
        pool.shutdown(wait=True, cancel_futures=True)
    return swept


def _run_scenario(ctx: Context, scenario: Scenario, options: Options, wanted: set[str]) -> str | None:
    """Run one scenario; returns why the run is incomplete, if it became so. A request that got
    no answer stops the scenario (RESP-WHOLE-001 said so); what it judged until then stands, and
    its checks that judged nothing are not exercised, with the reason."""
    target = ctx.target
    began, used = time.monotonic(), target.used
    note = "ok"
    if options.progress is not None:
        options.progress.update(scenario.name, target.used, len(ctx.failing_checks()))
    try:
        with ctx.scenario(scenario.name):
            scenario.run(ctx)
    except BudgetExhausted as exc:
        note = f"incomplete: {exc}"
        return str(exc)
    except TargetUnreachable as exc:
        note = f"stopped: {exc}"
        ctx.cannot(scenario.checks, f"the {scenario.name} scenario stopped when a request got no answer ({exc})")
    except Exception as exc:  # a tool bug must not hide the rest of the run
        note = f"errored: {exc.__class__.__name__}"
        for check in scenario.checks:
            ctx.errored.setdefault(
                check, f"scenario {scenario.name} stopped: {exc.__class__.__name__}: {target.scrub(str(exc))[:200]}"
            )
    finally:
        # Every selected check a finding was made for here, not only the scenario's own.
        failing = [check for check in ctx.failed_in(scenario.name) if check in wanted]
        if failing and note == "ok":
            note = f"failed: {listed(failing, 4)}"
        elif failing:
            note += f"; failed: {listed(failing, 4)}"
        if options.progress is not None:
            options.progress.line(
                f"  {scenario.name:<18} {printable(note[:90]):<12} {target.used - used:>5} requests "
                f"{time.monotonic() - began:6.1f} s"
            )
    return None


def listed(ids: list[str], most: int = 8) -> str:
    """`A, B, C and 4 more`: every one when they are few, the first ones and a count otherwise."""
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


def preflight(target: Target, *, say: Callable[[str], None] | None = None, notes: list[str] | None = None) -> Response:
    """Find the API and prove the key before any scenario, so that a wrong URL or key is said as
    such (exit 3) and never reported as the server's non-conformance.

    The URL is used as given; when its `/assistants` is a 404 and `URL/v1/assistants` is not, the
    API lives under `/v1` and that is used (and said). A 401/403 to a plain list with the key is
    the key's fault, not the server's."""
    given = target.base_url
    tried = [given]
    probe = target.request("GET", "/assistants", params={"limit": 1})
    if probe.status == 404 and not given.endswith("/v1"):
        target.base_url = given + "/v1"
        tried.append(target.base_url)
        below = target.request("GET", "/assistants", params={"limit": 1})
        if below.status != 404:
            probe = below
            line = printable(f"the API answers at {target.base_url} (not at {given}); checking that")
            if say is not None:
                say(line)
            if notes is not None:
                notes.append(line)
        else:
            target.base_url = given
    if probe.status == 404:
        raise TargetUnusable(
            f"no Assistants API found at {given}: GET /assistants answered 404 (tried {', '.join(tried)}); "
            "give the URL the API is mounted at, e.g. https://host/v1"
        )
    if probe.cut is not None:
        raise TargetUnusable(
            f"GET {target.base_url}/assistants answered {probe.status}, but the answer never came whole ({probe.cut}); "
            "no check can be judged on answers that cannot be read"
        )
    if probe.status in (401, 403):
        which = "no API key was given" if not target.api_key else "the target refused the API key"
        raise TargetUnusable(
            f"{which}: GET {target.base_url}/assistants answered {probe.status} "
            f"(the key is read from --api-key, $ASSISTANTS_API_KEY or $OPENAI_API_KEY"
            f"{'' if target.auth_header == 'Authorization' else f' and sent as {target.auth_header}'})"
        )
    return probe


def control(ctx: Context) -> None:
    """One ordinary createAssistant with the configured model, before any probe: a server that
    refuses the model ends the run here (exit 3), in one sentence naming the model, what the
    server said and --model, so that no limit or lifecycle check is built on that refusal. A
    refusal for another reason is noted; the checks that need a create then say so."""
    made = ctx.call("POST", "/assistants", json_body={"model": ctx.model, "metadata": ctx.tag})
    ctx.control = made
    if made.ok:
        ctx.track(made, "assistant")
        return
    refused = _model_refused(made, ctx.model)
    if refused is not None:
        raise TargetUnusable(refused)
    ctx.notes.append(
        printable(f"preflight: an ordinary createAssistant (model {ctx.model!r}) answered HTTP {made.status}")
    )


def _model_refused(response: Response, model: str) -> str | None:
    """The sentence for a create refused because of its model: a 4xx naming `model` as the param,
    or saying "model" at all (the request sent only a model and metadata), else None."""
    if not 400 <= response.status < 500 or response.status in (401, 403, 408, 429):
        return None
    body = response.object()
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    said = error.get("message") or body.get("detail") or body.get("message")
    text = said if isinstance(said, str) else response.content[:300].decode("utf-8", "replace")
    if error.get("param") != "model" and "model" not in text.lower():
        return None
    return printable(
        f"the server refused the model {model!r}: createAssistant answered HTTP {response.status}"
        + (f" saying {text.strip()[:300]!r}" if text.strip() else "")
        + "; name a model it serves with --model (or `model` under [run] in --profile)"
    )


_TAG_TIME = re.compile(r"^conf_(\d{9,11})_")


def _sweep(ctx: Context, max_age: float, say: Callable[[str], None] | None) -> list[str]:
    """--sweep: delete assistants this tool tagged in other runs that started over `max_age` seconds
    ago (abandoned by a killed run). Younger ones may belong to a live run and are left alone, as
    is anything whose tag carries no time. Only assistants can be listed, so only they are swept."""
    swept: list[str] = []
    now = time.time()
    after: str | None = None
    for _ in range(20):  # at most 2,000 assistants looked at
        page = ctx.target.request("GET", "/assistants", params={"limit": 100, **({"after": after} if after else {})})
        for item in page.items():
            metadata = item.get("metadata")
            tag = metadata.get(TAG) if isinstance(metadata, dict) else None
            found = _TAG_TIME.match(tag) if isinstance(tag, str) and tag != ctx.run_id else None
            if not found or now - int(found.group(1)) < max_age or not isinstance(item.get("id"), str):
                continue
            try:
                gone = ctx.target.request("DELETE", f"/assistants/{quote(item['id'], safe='')}")
                what = "deleted" if gone.ok or gone.status == 404 else f"DELETE answered {gone.status}"
            except TargetUnreachable as exc:
                what = f"not deleted ({exc})"
            swept.append(f"{item['id']} (tag {tag}): {what}")
            if say is not None:
                say(
                    printable(
                        f"  swept {item['id']} (tag {tag}, {int((now - int(found.group(1))) // 60)} min old): {what}"
                    )
                )
        ids = page.ids()
        if not page.object().get("has_more") or not ids or not isinstance(ids[-1], str):
            break
        after = ids[-1]
    return swept


def _left_before(ctx: Context, max_age: float, say: Callable[[str], None] | None) -> list[str]:
    """Say (cheaply: one page of assistants) how many assistants earlier runs of this tool left that
    are older than --sweep-age, and how to remove them; deletes nothing. Returns nothing swept."""
    try:
        page = ctx.target.request("GET", "/assistants", params={"limit": 100})
    except (TargetUnreachable, BudgetExhausted):
        return []
    now = time.time()
    old = []
    for item in page.items():
        metadata = item.get("metadata")
        tag = metadata.get(TAG) if isinstance(metadata, dict) else None
        found = _TAG_TIME.match(tag) if isinstance(tag, str) and tag != ctx.run_id else None
        if found and now - int(found.group(1)) >= max_age:
            old.append(tag)
    if old:
        more = " (in the newest hundred; there may be more)" if page.object().get("has_more") else ""
        line = (
            f"{len(old)} assistant(s) left by {len(set(old))} earlier run(s) of this tool, older than "
            f"{max_age:g} s, are still on the server{more}: `--sweep` deletes them"
        )
        ctx.notes.append(line)
        if say is not None:
            say(f"  {line}")
    return []


def _clean_up(ctx: Context) -> dict[str, Any]:
    """Delete what the run created, newest first, then read each back: "deleted" means a delete
    answered 2xx (or the object was gone already) and a read-back answered 404 on an operation
    that answers other reads; every object still there, or not provably gone, is listed with why.
    Then the assistants list is searched for this run's tag: creates that answered 5xx, or that
    the run could not name, may have stored one."""
    created = list(dict.fromkeys(path for _, path in ctx.created))
    left: list[str] = []
    unverified: list[str] = []
    deleted = 0
    target = ctx.target
    target.interrupted = False
    target.budget = target.used + 2 * len(created) + 80  # cleaning up is always allowed
    target.deadline = time.monotonic() + 120
    unserved = ctx.not_served()
    for path in reversed(created):
        remove, read = _operation(ctx, "DELETE", path), _operation(ctx, "GET", path)
        try:
            if not ctx.answers[read].served and path not in ctx.deleted:
                # A read-back 404 proves a delete only where reads answer objects: shown once per kind.
                before = target.request("GET", path)
                if before.ok:
                    ctx.answers[read].served += 1
            if path not in ctx.deleted:
                response = target.request("DELETE", path)
                gone_before = response.status == 404 and not ctx.is_live(path)
                if not (response.ok or gone_before):
                    served = remove not in unserved and response.status not in (405, 501)
                    left.append(
                        f"{path}: {remove} answered {response.status}"
                        + ("" if served else f": the server does not serve {remove}")
                    )
                    continue
            check = target.request("GET", path)
        except (TargetUnreachable, BudgetExhausted) as exc:
            left.append(f"{path}: {exc}")
            continue
        if check.ok:
            left.append(f"{path}: still answers {check.status} after {remove}")
        elif check.status in (404, 410) and ctx.answers[read].served:
            deleted += 1
            ctx.deleted.add(path)
        elif check.status in (404, 410):
            unverified.append(
                f"{path}: {remove} answered, but {read} never answered an object in this run, so its "
                f"{check.status} proves nothing"
            )
        elif read in unserved or check.status in (405, 501):
            unverified.append(
                f"{path}: {remove} was accepted, but the server does not serve {read} ({check.status}), so it "
                "cannot be read back"
            )
        else:  # the DELETE was accepted, but the read-back proves nothing either way
            unverified.append(f"{path}: {remove} was accepted, but reading it back answered {check.status}, not 404")
    found = _tagged_assistants(ctx, set(created))
    for path in found:
        try:
            response = target.request("DELETE", path)
        except (TargetUnreachable, BudgetExhausted) as exc:
            left.append(f"{path} (found by its tag): {exc}")
            continue
        if response.ok:
            deleted += 1
        else:
            left.append(f"{path} (found by its tag): deleteAssistant answered {response.status}")
    may_remain = [
        f"{operation} answered 5xx {count} time(s): the server may have stored "
        + (
            "an object (none carrying this run's tag was found)"
            if operation == "createAssistant"
            else "an object, which no list can show (only assistants can be listed)"
        )
        for operation, count in sorted(ctx.failed_creates.items())
    ]
    return {
        "created": len(created) + len(found),
        "deleted": deleted,
        "leaked": left,
        "unverified": unverified,
        "found_by_tag": found,
        "may_remain": may_remain,
        "tag": {TAG: ctx.run_id},
    }


def _operation(ctx: Context, method: str, path: str) -> str:
    found = ctx.router.match(method, ctx.target.base_url + path)
    return found.operation.operation_id if found else f"{method} {path}"


def _tagged_assistants(ctx: Context, known: set[str]) -> list[str]:
    """Assistants carrying this run's tag that the run does not know of (a create answered 5xx
    yet stored it, or answered an id no path can be built from): at most 10 pages are read."""
    if not ctx.answers["listAssistants"].served:
        return []
    found: list[str] = []
    after: str | None = None
    for _ in range(10):
        try:
            page = ctx.target.request(
                "GET", "/assistants", params={"limit": 100, **({"after": after} if after else {})}
            )
        except (TargetUnreachable, BudgetExhausted):
            break
        for item in page.items():
            metadata = item.get("metadata")
            if isinstance(metadata, dict) and metadata.get(TAG) == ctx.run_id and isinstance(item.get("id"), str):
                path = f"/assistants/{quote(item['id'], safe='')}"
                if path not in known and path not in found:
                    found.append(path)
        ids = page.ids()
        if not page.object().get("has_more") or not ids or not isinstance(ids[-1], str):
            break
        after = ids[-1]
    return found


def _report_unserved(ctx: Context, unserved: dict[str, Any]) -> None:
    """RESP-ROUTE-002: one finding per operation the server does not serve, with an example; its
    evidence is every operation that answered as served."""
    for operation, answers in ctx.answers.items():
        if answers.served:
            ctx.judged("RESP-ROUTE-002", operation)
    for operation, answers in unserved.items():
        statuses = ", ".join(
            f"{status} ({count} time{'s' if count > 1 else ''})" for status, count in sorted(answers.statuses.items())
        )
        ctx.add_finding(
            "RESP-ROUTE-002",
            f"the server does not serve {operation}: it answered {statuses}, and no answer showed it served",
            operation,
            "#/paths",
            exchange=answers.example,
            operation=operation,
        )


def _without_unserved(found: dict[str, list[Finding]], unserved: dict[str, Any]) -> dict[str, list[Finding]]:
    """A finding seen only in answers of operations the server does not serve is that one fact
    (RESP-ROUTE-002), not a failure of every check that met those answers."""
    if not unserved:
        return found
    return {
        check: [
            f
            for f in findings
            if check == "RESP-ROUTE-002" or not (f.operations and set(f.operations) <= set(unserved))
        ]
        for check, findings in found.items()
    }


NOT_EXERCISED = "not exercised: "
NOT_TRIGGERED = "not triggered: "


def _evidence_only(
    checks: tuple[CheckResult, ...], exchanges: list[Exchange]
) -> tuple[tuple[CheckResult, ...], tuple[Exchange, ...]]:
    """Keep the exchanges findings point at (renumbered in order); the rest are counted in
    coverage, not shipped: a 900-request run against a broken server stays a readable report."""
    pointed = {i for c in checks for f in c.findings for i in (f.exchange, *f.examples) if i is not None}
    used = sorted(i for i in pointed if i < len(exchanges))
    index = {old: new for new, old in enumerate(used)}

    def renumber(finding: Finding) -> Finding:
        return dataclasses.replace(
            finding,
            exchange=index.get(finding.exchange) if finding.exchange is not None else None,
            examples=tuple(index[i] for i in finding.examples if i in index),
        )

    kept = tuple(
        dataclasses.replace(c, findings=tuple(renumber(f) for f in c.findings)) if c.findings else c for c in checks
    )
    return kept, tuple(exchanges[i] for i in used)


def _result(
    ctx: Context, check_id: str, profile: Profile, found: dict[str, list[Finding]], unserved: dict[str, Any]
) -> CheckResult:
    """The outcome of one check, from what the run recorded. Findings decide first: a check that
    failed stays failed whatever else went wrong (a tool error is then its reason). Evidence from
    answers of operations the server does not serve counts for nothing, and a check that needs such
    an operation is not exercised, with that reason."""
    check = CATALOGUE[check_id]
    findings = tuple(found.get(check_id, ()))
    judged = ctx.evidence.get(check_id, {})
    evidence = dict(sorted((op, n) for op, n in judged.items() if check_id == "RESP-ROUTE-002" or op not in unserved))
    base = {
        "id": check.id,
        "level": check.level.value,
        "category": check.category,
        "requirement": check.requirement,
        "evidence": evidence,
    }
    if not profile.allows(check_id) and not findings:
        return CheckResult(**base, outcome=Outcome.SKIPPED, reason=profile.missing(check_id))
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        outcome = Outcome.FAILED if check.level is Level.MUST else Outcome.WARNED
        return CheckResult(**base, outcome=outcome, findings=findings, reason=ctx.errored.get(check_id, ""))
    if check_id in ctx.errored:
        return CheckResult(**base, outcome=Outcome.ERRORED, findings=findings, reason=ctx.errored[check_id])
    missing = [op for op in check.needs if op in unserved]
    if missing:
        return CheckResult(
            **base,
            outcome=Outcome.SKIPPED,
            reason=NOT_EXERCISED + f"the server does not serve {listed(missing, 3)}",
        )
    if findings:
        return CheckResult(**base, outcome=Outcome.WARNED, findings=findings)
    if evidence:
        return CheckResult(**base, outcome=Outcome.PASSED)
    if check.trigger:
        return CheckResult(**base, outcome=Outcome.SKIPPED, reason=NOT_TRIGGERED + check.trigger)
    why = ctx.unexercised.get(check_id, "no answer this run received gave it anything to judge")
    return CheckResult(**base, outcome=Outcome.SKIPPED, reason=NOT_EXERCISED + why)


def owed(check: CheckResult) -> bool:
    """A MUST check the run was asked to decide and never could: the run cannot be called conformant."""
    return (
        check.level == Level.MUST.value and check.outcome is Outcome.SKIPPED and check.reason.startswith(NOT_EXERCISED)
    )


def verdict_of(checks: tuple[CheckResult, ...], incomplete: list[str]) -> tuple[Verdict, str]:
    """The one verdict policy: every front end (terminal, reports, JUnit, pytest) reads what this decides."""
    failed = [c.id for c in checks if c.outcome is Outcome.FAILED]
    errored = [c.id for c in checks if c.outcome is Outcome.ERRORED]
    unexercised = [c.id for c in checks if owed(c)]
    if failed:
        extra = f"; the run was also incomplete ({'; '.join(incomplete)})" if incomplete else ""
        return Verdict.NON_CONFORMANT, f"{len(failed)} MUST check(s) failed: {listed(failed)}{extra}"
    if incomplete or errored or unexercised:
        why = list(incomplete)
        if errored:
            why.append(f"{len(errored)} check(s) could not run: {listed(errored)}")
        if unexercised:
            why.append(f"{len(unexercised)} MUST check(s) never exercised: {listed(unexercised)}")
        return Verdict.INCOMPLETE, "; ".join(why)
    return Verdict.CONFORMANT, "every selected MUST check passed on evidence"

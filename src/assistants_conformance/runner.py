"""Plans and runs the scenarios against one target and returns the results model.

Kind to real targets: everything created is tagged with the run id in metadata and deleted
at the end in reverse order (also on failure and Ctrl-C), requests are bounded by a budget and
a time limit, and an exhausted budget makes the verdict incomplete, never a pass.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assistants_conformance import __version__
from assistants_conformance.checks import CATALOGUE, Level
from assistants_conformance.context import TAG, Context
from assistants_conformance.contract import spec_path
from assistants_conformance.errors import TargetUnreachable
from assistants_conformance.profile import Profile
from assistants_conformance.results import CheckResult, Outcome, RunResult, Verdict
from assistants_conformance.scenarios import SCENARIOS, Scenario
from assistants_conformance.target import BudgetExhausted, Target


@dataclass
class Options:
    base_url: str
    api_key: str | None
    headers: dict[str, str] = field(default_factory=dict)
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
    profile: Profile = field(default_factory=Profile)
    progress: Callable[[str], None] | None = None


def selected(options: Options) -> list[str]:
    return [i for i in CATALOGUE if (not options.only or i in options.only) and i not in options.skip]


def run(options: Options) -> RunResult:
    started = datetime.now(UTC)
    began = time.monotonic()
    run_id = f"conf_{secrets.token_hex(6)}"
    target = Target(
        options.base_url,
        options.api_key,
        headers=options.headers,
        timeout=options.timeout,
        budget_requests=options.budget_requests,
        deadline_s=options.time_limit,
    )
    ctx = Context(
        target,
        run_id,
        options.profile.model or options.model,
        options.poll_timeout,
        seed=options.seed,
        max_examples=options.max_examples,
        capabilities=options.profile.capabilities,
    )
    wanted = set(selected(options))
    incomplete: list[str] = []
    swept: list[str] = []
    try:
        probe = target.request("GET", "/assistants", params={"limit": 100})
        swept = _sweep_leftovers(ctx, probe.json())
        if probe.status >= 500 and probe.status != 503:
            incomplete.append(f"the target answers {probe.status} to a plain list request")
        chosen = [sc for sc in SCENARIOS if wanted & set(sc.checks) or options.only & {"RESP", "STREAM", "SSE"}]
        pool = ThreadPoolExecutor(max_workers=max(1, options.workers))
        try:
            for outcome in pool.map(lambda sc: _run_scenario(ctx, sc, options), chosen):
                if outcome:
                    incomplete.append(outcome)
        except KeyboardInterrupt:
            # Ctrl-C: stop sending (in-flight scenarios end at their next request), skip the
            # rest, then clean up and report what was checked as an incomplete run.
            target.interrupted = True
            incomplete.append("interrupted (Ctrl-C)")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        resources = _clean_up(ctx)
        resources["swept_at_start"] = swept
        target.close()
    checks = tuple(_result(ctx, check_id, options.profile) for check_id in CATALOGUE if check_id in wanted)
    verdict, reason = _verdict(checks, incomplete)
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
        exchanges=tuple(target.exchanges),
        coverage={
            "operations": {op: dict(statuses) for op, statuses in ctx.coverage.items()},
            "events": dict(ctx.events),
            "notes": list(ctx.notes),
            "requests": target.used,
            "timings_ms": {op: round(sorted(t)[len(t) // 2] * 1000, 1) for op, t in ctx.timings.items()},
        },
        resources=resources,
        profile={**options.profile.to_dict(), "model": ctx.model, "run_id": run_id},
    )


def _run_scenario(ctx: Context, scenario: Scenario, options: Options) -> str | None:
    """Run one scenario; returns why the run is incomplete, if it became so."""
    target = ctx.target
    began, used = time.monotonic(), target.used
    note = "ok"
    try:
        scenario.run(ctx)
    except BudgetExhausted as exc:
        note = f"incomplete: {exc}"
        return str(exc)
    except TargetUnreachable as exc:
        note = f"errored: {exc}"
        for check in scenario.checks:
            ctx.errored.setdefault(check, f"scenario {scenario.name}: {exc}")
    except Exception as exc:  # a tool bug must not hide the rest of the run
        note = f"errored: {exc.__class__.__name__}"
        for check in scenario.checks:
            ctx.errored.setdefault(
                check, f"scenario {scenario.name} stopped: {exc.__class__.__name__}: {target.scrub(str(exc))[:200]}"
            )
    finally:
        if options.progress is not None:
            options.progress(
                f"  {scenario.name:<18} {note[:90]:<12} {target.used - used:>5} requests "
                f"{time.monotonic() - began:6.1f} s"
            )
    return None


def _sweep_leftovers(ctx: Context, listed: Any) -> list[str]:
    """Assistants an earlier, interrupted run left behind (tagged by this tool): delete and report them."""
    swept = []
    data = listed.get("data") if isinstance(listed, dict) else None
    for item in data if isinstance(data, list) else []:
        tag = (item.get("metadata") or {}).get(TAG) if isinstance(item, dict) else None
        if tag and tag != ctx.run_id and isinstance(item.get("id"), str):
            response = ctx.target.request("DELETE", f"/assistants/{item['id']}")
            swept.append(f"{item['id']} ({tag}): {'deleted' if response.status in (200, 404) else response.status}")
    return swept


def _clean_up(ctx: Context) -> dict[str, Any]:
    """Delete what the run created, newest first, and sweep tagged assistants it may have missed."""
    created = [path for _, path in ctx.created]
    left: list[str] = []
    deleted = 0
    target = ctx.target
    target.interrupted = False
    target.budget = target.used + len(created) + 50  # cleaning up is always allowed
    target.deadline = time.monotonic() + 120
    for path in reversed(created):
        if path in ctx.deleted:
            deleted += 1
            continue
        try:
            response = target.request("DELETE", path)
        except (TargetUnreachable, BudgetExhausted):
            left.append(path)
            continue
        if response.status in (200, 404):
            deleted += 1
            ctx.deleted.add(path)
        else:
            left.append(path)
    try:
        listed = target.request("GET", "/assistants", params={"limit": 100}).json() or {}
        for item in listed.get("data", []) if isinstance(listed, dict) else []:
            if isinstance(item, dict) and (item.get("metadata") or {}).get(TAG) == ctx.run_id:
                path = f"/assistants/{item['id']}"
                if path not in ctx.deleted and target.request("DELETE", path).status in (200, 404):
                    deleted += 1
    except (TargetUnreachable, BudgetExhausted, AttributeError, TypeError):
        pass
    return {"created": len(created), "deleted": deleted, "leaked": left, "tag": {TAG: ctx.run_id}}


def _result(ctx: Context, check_id: str, profile: Profile) -> CheckResult:
    check = CATALOGUE[check_id]
    findings = tuple(ctx.findings.get(check_id, ()))
    base = {"id": check.id, "level": check.level.value, "category": check.category, "requirement": check.requirement}
    if not profile.allows(check_id) and check_id not in ctx.findings:
        return CheckResult(**base, outcome=Outcome.SKIPPED, reason=profile.missing(check_id))
    if check_id in ctx.errored:
        return CheckResult(**base, outcome=Outcome.ERRORED, findings=findings, reason=ctx.errored[check_id])
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        outcome = Outcome.FAILED if check.level is Level.MUST else Outcome.WARNED
        return CheckResult(**base, outcome=outcome, findings=findings)
    if findings:
        return CheckResult(**base, outcome=Outcome.WARNED, findings=findings)
    if check_id in ctx.exercised:
        return CheckResult(**base, outcome=Outcome.PASSED)
    return CheckResult(**base, outcome=Outcome.SKIPPED, reason="not exercised by this run")


def _verdict(checks: tuple[CheckResult, ...], incomplete: list[str]) -> tuple[Verdict, str]:
    failed = [c.id for c in checks if c.outcome is Outcome.FAILED]
    errored = [c.id for c in checks if c.outcome is Outcome.ERRORED]
    if failed:
        extra = f"; the run was also incomplete ({'; '.join(incomplete)})" if incomplete else ""
        return Verdict.NON_CONFORMANT, f"{len(failed)} MUST check(s) failed: {', '.join(failed[:8])}{extra}"
    if incomplete or errored:
        why = incomplete + ([f"{len(errored)} check(s) could not run: {', '.join(errored[:8])}"] if errored else [])
        return Verdict.INCOMPLETE, "; ".join(why)
    return Verdict.CONFORMANT, "every selected MUST check passed"

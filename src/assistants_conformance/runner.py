"""Plans and runs the scenarios against one target and returns the results model.

Kind to real targets: everything created is tagged with the run id in metadata and deleted
at the end in reverse order (also on failure and Ctrl-C), requests are bounded by a budget and
a time limit, and an exhausted budget makes the verdict incomplete, never a pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from assistants_conformance import __version__
from assistants_conformance.checks import CATALOGUE
from assistants_conformance.checks.catalogue import ANSWERS
from assistants_conformance.cleanup import clean_up, left_before, sweep
from assistants_conformance.context import Context
from assistants_conformance.contract import spec_path
from assistants_conformance.errors import TargetUnreachable, TargetUnusable, UsageError
from assistants_conformance.outcomes import evidence_only, listed, outcomes, verdict_of
from assistants_conformance.profile import Profile
from assistants_conformance.progress import Progress
from assistants_conformance.results import RunResult
from assistants_conformance.scenarios import SCENARIOS, Scenario
from assistants_conformance.stopping import Stop
from assistants_conformance.target import BaseURL, BudgetExhausted, Response, Target
from assistants_conformance.terminal import clip, printable

DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class Options:
    """One run's configuration, whole and frozen: the command line, profile and environment are
    read once at the edge (commands/run.py, the pytest plugin, the lab) and nothing rewrites it.
    What a run finds out (where the API answers) is a value preflight returns, not an edit here."""

    # The API root as given (a string is read once, here); preflight may find the API below it.
    base_url: BaseURL
    api_key: str | None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    auth_header: str | None = None
    sweep: bool = False
    sweep_age: float = 3600.0
    # --model, else the profile's [run] model, else DEFAULT_MODEL.
    model: str | None = None
    only: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    seed: int = 0
    timeout: float = 30.0
    budget_requests: int = 2000
    time_limit: float = 900.0
    poll_timeout: float = 60.0
    max_examples: int = 10
    workers: int = 1
    # Seconds preflight waits for the target to answer at all (a server still starting, in CI).
    wait_for: float = 0.0
    # Only these scenarios (by name; None: every one that decides a selected check).
    scenarios: frozenset[str] | None = None
    # Told of every finding as it is made (check, severity); answering True ends the run there, as
    # an interrupt does: a tool watching a run (the lab's mutants stop at the first failure).
    watch: Callable[[str, str], bool] | None = None
    profile: Profile = field(default_factory=Profile)
    progress: Progress | None = None  # what the terminal shows while the run goes (progress.py)
    # How requests travel: one proxy or none (resolved at the edge, never read here from the
    # environment), the TLS check, and the lines that say so in the report.
    proxy: str | None = None
    verify: ssl.SSLContext | bool = True
    transport: tuple[str, ...] = ()
    # Signals: the command installs one around the run and its reports; without, the run does.
    stop: Stop | None = None

    def __post_init__(self) -> None:
        """Values given loosely (a URL string, sets, lists) are read into their one form here, so
        a library caller gets the same checks as the command line (a bad URL is a UsageError)."""
        if not isinstance(self.base_url, BaseURL):
            try:
                object.__setattr__(self, "base_url", BaseURL.parse(self.base_url))
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        object.__setattr__(self, "model", self.model or self.profile.model or DEFAULT_MODEL)
        for name in ("only", "skip"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        object.__setattr__(self, "transport", tuple(self.transport))
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        object.__setattr__(self, "query", MappingProxyType(dict(self.query)))


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
    wanted = set(selected(options))
    incomplete: list[str] = []
    swept: list[str] = []
    stop = options.stop or Stop()
    with contextlib.ExitStack() as installed:
        if options.stop is None:
            installed.enter_context(stop)
        say = options.progress.line if options.progress is not None else None
        try:
            found: Found | None = preflight(options, stop, say=say)
        except KeyboardInterrupt:  # before anything was created: nothing to clean, an incomplete run
            found = None
            incomplete.append(f"interrupted ({_said(stop.name)})")
        base_url, used, notes = (found.base_url, found.requests, found.notes) if found else (options.base_url, 0, ())
        target = connect(options, base_url, used=used, seconds=options.time_limit - (time.monotonic() - began))
        stop.attach(target)
        assert options.model is not None  # Options settles it
        ctx = Context(
            target,
            run_id,
            options.model,
            options.poll_timeout,
            seed=options.seed,
            max_examples=options.max_examples,
            capabilities=options.profile.capabilities,
            progress=options.progress,
            watch=options.watch,
        )
        ctx.notes.extend((*options.transport, *notes))
        try:
            try:
                if found is not None:
                    swept = _scenarios(ctx, options, found, wanted, incomplete)
            except KeyboardInterrupt:
                # A signal: stop sending (in-flight requests give up at once), skip the rest,
                # then clean up and report what was checked as an incomplete run.
                target.interrupt()
                incomplete.append(f"interrupted ({_said(stop.name)})")
        finally:
            stop.clean_up()
            if options.progress is not None:
                options.progress.update("clean-up", target.used, len(ctx.failing_checks()))
            resources = clean_up(ctx)
            if stop.stopped_cleaning:
                resources["interrupted"] = f"clean-up stopped by a second signal ({_said(stop.received[-1])})"
            resources["swept"] = swept
            target.close()
    checks, exchanges = evidence_only(outcomes(ctx, wanted, options.profile), ctx.exchange)
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
            "notes": [*ctx.notes, *ctx.overflow()],
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


def connect(options: Options, base_url: BaseURL, *, used: int = 0, seconds: float | None = None) -> Target:
    """The one place a run's settings become a Target: the run's own, and preflight's probe."""
    return Target(
        base_url,
        options.api_key,
        headers=dict(options.headers),
        query=dict(options.query),
        auth_header=options.auth_header,
        timeout=options.timeout,
        budget_requests=options.budget_requests,
        deadline_s=options.time_limit if seconds is None else max(0.0, seconds),
        proxy=options.proxy,
        verify=options.verify,
        used=used,
    )


def _said(name: str) -> str:
    return {"SIGINT": "Ctrl-C", "": "Ctrl-C"}.get(name, name)


def _scenarios(ctx: Context, options: Options, found: Found, wanted: set[str], incomplete: list[str]) -> list[str]:
    """The control create, an optional sweep, then every chosen scenario; returns what the sweep
    deleted. `incomplete` collects why the run cannot be called complete."""
    target = ctx.target
    say = options.progress.line if options.progress is not None else None
    control(ctx)
    swept = sweep(ctx, options.sweep_age, say) if options.sweep else left_before(ctx, options.sweep_age, say)
    if found.status >= 500 and found.status != 503:
        incomplete.append(f"the target answers {found.status} to a plain list request")
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
        if sys.exc_info()[0] is not None:
            target.interrupt()
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
        if note == "ok" and target.used == used:
            note = "sent nothing" + (" (--max-examples 0)" if scenario.name == "properties" else "")
        if failing and note == "ok":
            note = f"failed: {listed(failing, 4)}"
        elif failing:
            note += f"; failed: {listed(failing, 4)}"
        if options.progress is not None:
            options.progress.line(
                f"  {scenario.name:<18} {clip(printable(note), 90):<12} {target.used - used:>5} requests "
                f"{time.monotonic() - began:6.1f} s"
            )
    return None


@dataclass(frozen=True)
class Found:
    """What preflight resolved: where the API answers, how a plain list answered there, the
    requests that took, and what to say about it in the report."""

    base_url: BaseURL
    status: int
    requests: int
    notes: tuple[str, ...]


def _first_answer(probe: Target, wait_for: float, say: Callable[[str], None] | None) -> Response:
    """GET /assistants, asked again every half second while nothing answers, for up to `wait_for`
    seconds: any HTTP answer ends the wait (what it says is preflight's to judge)."""
    began = time.monotonic()
    told = False
    while True:
        try:
            return probe.request("GET", "/assistants", params={"limit": 1})
        except TargetUnreachable as exc:
            waited = time.monotonic() - began
            if wait_for <= 0:
                raise
            if waited >= wait_for:
                raise TargetUnreachable(
                    f"no answer after waiting {waited:.0f} s (--wait-for {wait_for:g}): {exc}"
                ) from None
            if say is not None and not told:
                say(f"waiting up to {wait_for:g} s for {probe.base_url} to answer …")
                told = True
            time.sleep(min(0.5, max(0.0, wait_for - waited)))


def preflight(options: Options, stop: Stop, *, say: Callable[[str], None] | None = None) -> Found:
    """Find the API and prove the key before any scenario, so that a wrong URL or key is said as
    such (exit 3) and never reported as the server's non-conformance.

    The URL is used as given; when its `/assistants` is a 404 and `URL/v1/assistants` is not, the
    API lives under `/v1` and that is used (and said). A 401/403 to a plain list with the key is
    the key's fault, not the server's. Asked with a probe of its own, closed here."""
    given = options.base_url
    probe = connect(options, given)
    stop.attach(probe)
    try:
        tried = [given]
        answer = _first_answer(probe, options.wait_for, say)
        if answer.status == 404 and not given.root.endswith("/v1"):
            tried.append(given.below("/v1"))
            below = probe.request("GET", "/assistants", params={"limit": 1}, url=tried[-1].root + "/assistants")
            if below.status != 404:
                answer = below
        resolved = tried[-1] if answer.status != 404 else given
        where = f"GET {resolved}/assistants answered {answer.status}"
        if answer.status == 404:
            raise TargetUnusable(
                f"no Assistants API found at {given}: GET /assistants answered 404 "
                f"(tried {', '.join(map(str, tried))}); give the URL the API is mounted at, e.g. https://host/v1"
            )
        if answer.cut is not None:
            raise TargetUnusable(
                f"{where}, but the answer never came whole ({answer.cut}); "
                "no check can be judged on answers that cannot be read"
            )
        if answer.status in (401, 403):
            which = "no API key was given" if not probe.api_key else "the target refused the API key"
            raise TargetUnusable(
                f"{which}: {where} "
                f"(the key is read from --api-key, $ASSISTANTS_API_KEY or $OPENAI_API_KEY"
                f"{'' if probe.auth_header == 'Authorization' else f' and sent as {probe.auth_header}'})"
            )
        notes: tuple[str, ...] = ()
        if resolved != given:
            notes = (printable(f"the API answers at {resolved} (not at {given}); checking that"),)
            if say is not None:
                say(notes[0])
        return Found(resolved, answer.status, probe.used, notes)
    finally:
        probe.close()


def control(ctx: Context) -> None:
    """One ordinary createAssistant with the configured model, before any probe: a server that
    refuses the model ends the run here (exit 3), in one sentence naming the model, what the
    server said and --model, so that no limit or lifecycle check is built on that refusal. A
    refusal for another reason is noted; the checks that need a create then say so."""
    made = ctx.call("POST", "/assistants", json_body={"model": ctx.model, "metadata": ctx.tag})
    ctx.controlled(made)
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
    found = body.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    said = error.get("message") or body.get("detail") or body.get("message")
    text = said if isinstance(said, str) else response.content[:300].decode("utf-8", "replace")
    if error.get("param") != "model" and "model" not in text.lower():
        return None
    return printable(
        f"the server refused the model {model!r}: createAssistant answered HTTP {response.status}"
        + (f" saying {text.strip()[:300]!r}" if text.strip() else "")
        + "; name a model it serves with --model (or `model` under [run] in --profile)"
    )

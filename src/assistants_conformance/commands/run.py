"""`assistants-conformance run`: check a server, write reports, exit 0/1/2/3."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import secrets
import ssl
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistants_conformance.baseline import Gate, apply, load_baseline, write_baseline
from assistants_conformance.checks import CATALOGUE
from assistants_conformance.checks.selection import resolve
from assistants_conformance.commands.report import DEFAULT_NAMES, write_views
from assistants_conformance.context import TAG
from assistants_conformance.errors import UsageError
from assistants_conformance.profile import Profile, load_profile
from assistants_conformance.progress import for_terminal
from assistants_conformance.results import Outcome, RunResult, Verdict, scrub, secrets_of
from assistants_conformance.stopping import Stop
from assistants_conformance.target import (
    FRAMING_HEADERS,
    BaseURL,
    check_proxy,
    environment_proxy,
    redact_userinfo,
)
from assistants_conformance.terminal import Paint, clip, colour_wanted, printable

if TYPE_CHECKING:
    from assistants_conformance.runner import Options

# Where --reference's server will be: replaced by its URL once it has started (_reference).
_REFERENCE = "http://reference.invalid"
EXIT = {Verdict.CONFORMANT: 0, Verdict.NON_CONFORMANT: 1, Verdict.INCOMPLETE: 3}


def _ids(text: str, flag: str) -> frozenset[str]:
    try:
        return resolve(text, flag)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _query(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        name, equals, content = value.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"--query must look like NAME=VALUE, got {value!r}")
        out[name.strip()] = content
    return out


def _unsendable(value: str) -> str | None:
    """Why a header value cannot be sent as it is, in words that never repeat the value (it may
    be a key): HTTP header values are visible ASCII here, as every client sends them."""
    if any(c in "\r\n" for c in value):
        return "has a line ending (read from a file with CRLF endings?)"
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
        return "has a control character"
    if not value.isascii():
        return "has a character outside ASCII, which HTTP headers do not carry (percent-encode or base64 it)"
    return None


def _key(args: argparse.Namespace) -> str | None:
    """The API key, from --api-key or the environment, refused at the door if it cannot be sent."""
    for source, value in (
        ("--api-key", args.api_key),
        ("$ASSISTANTS_API_KEY", os.environ.get("ASSISTANTS_API_KEY")),
        ("$OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY")),
    ):
        if value:
            problem = _unsendable(value)
            if problem:
                raise UsageError(f"the API key from {source} {problem}; it was not sent, and is not shown")
            return value
    return None


def _base_url(args: argparse.Namespace) -> BaseURL | None:
    """The --base-url, read once (None with --reference, whose URL is known when it starts)."""
    if args.reference:
        return None
    try:
        return BaseURL.parse(args.base_url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _transport(
    args: argparse.Namespace, base_url: BaseURL | None
) -> tuple[str | None, ssl.SSLContext | bool, list[str]]:
    """The proxy and TLS settings of the run, checked at the door, and the lines that say them."""
    said: list[str] = []
    proxy = None
    if base_url is not None and not args.no_proxy:
        found = environment_proxy(base_url.root)
        if found is not None:
            try:
                proxy = check_proxy(*found)
            except ValueError as exc:
                raise UsageError(f"{exc} (--no-proxy goes direct)") from None
            if proxy.startswith("socks"):
                try:
                    import socksio  # noqa: F401
                except ImportError:
                    raise UsageError(f"{found[1]} names a SOCKS proxy; that needs the socksio package") from None
            said.append(
                f"requests go through the proxy {redact_userinfo(proxy)} (from ${found[1]}; --no-proxy goes direct)"
            )
    if args.insecure and args.ca_cert:
        raise UsageError("--insecure and --ca-cert contradict each other: give one")
    verify: ssl.SSLContext | bool = True
    if args.insecure:
        verify = False
        said.append(
            "TLS certificates are NOT verified (--insecure): anyone between here and the target can read the key"
        )
    elif args.ca_cert:
        try:
            verify = ssl.create_default_context(cafile=str(args.ca_cert))
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--ca-cert {args.ca_cert}: not a readable PEM file of certificates ({exc})") from None
        said.append(f"TLS certificates are verified against {args.ca_cert}")
    return proxy, verify, said


def _auth_header(name: str | None) -> str | None:
    if name is not None and (not name.strip() or not all(c.isascii() and (c.isalnum() or c in "-_") for c in name)):
        raise UsageError(f"--auth-header must be a header name (letters, digits, - and _), got {name!r}")
    return name


def _headers(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        name, colon, content = value.partition(":")
        if not colon or not name.strip():
            raise UsageError(f"--header must look like 'Name: value', got {value!r}")
        name, content = name.strip(), content.strip()
        if not all(c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~") for c in name):
            raise UsageError(f"--header {name!r}: a header name is ASCII letters, digits and !#$%&'*+-.^_`|~")
        problem = _unsendable(content)
        if problem:  # the value is never shown: a header may carry a secret
            raise UsageError(f"--header {name}: the value {problem}")
        if name.lower() in FRAMING_HEADERS:
            raise UsageError(f"--header {name}: how a request is framed is the HTTP client's to set, not an option's")
        out[name] = content
    return out


def on_purpose(fault: str | None) -> str:
    """What the line naming the target adds when the bundled server is broken on purpose."""
    return f" (the bundled server, broken on purpose: --fault {fault})" if fault else ""


def _fault(args: argparse.Namespace) -> str | None:
    """--fault names a defect of the lab, served by --reference's server; checked at the door."""
    if args.fault is None:
        return None
    if not args.reference:
        raise UsageError("--fault needs --reference: it breaks the bundled server, not yours")
    from assistants_conformance.lab.faults import FAULTS  # the lab loads only when asked for

    if args.fault not in FAULTS:
        raise UsageError(f"unknown --fault {args.fault!r}; `assistants-conformance serve --list-faults` names them")
    return str(args.fault)


@contextlib.contextmanager
def _reference(options: Options, reference: bool, fault: str | None = None) -> Iterator[Options]:
    """The options themselves, or with --reference those options pointed at a reference server
    started for the run (on a free loopback port, with a key of its own), broken by `fault`."""
    if not reference:
        yield options
        return
    from assistants_conformance.reference import create_app, running_server

    key = f"sk-ref-{secrets.token_hex(8)}"
    app = None
    if fault is not None:
        from assistants_conformance.lab.faults import FAULTS, FaultyApp

        app = FaultyApp(create_app(api_key=key), FAULTS[fault].make(key))
    with running_server(api_key=key, app=app) as server:
        yield dataclasses.replace(options, base_url=BaseURL.parse(server.base_url), api_key=key)


def _last_failed(args: argparse.Namespace, only: frozenset[str]) -> tuple[frozenset[str], int]:
    """--last-failed: the checks that failed or errored in that report (within --only, if given),
    and the seed to draw with (--seed, else that run's: the same generated requests again)."""
    if args.last_failed is None:
        return only, args.seed or 0
    from assistants_conformance.reporting import load_report

    report = load_report(args.last_failed)
    failed = frozenset(
        c["id"] for c in report["checks"] if c["outcome"] in ("failed", "errored") and c["id"] in CATALOGUE
    )
    if not failed:
        raise UsageError(f"--last-failed {args.last_failed}: no check failed there, so there is nothing to re-check")
    chosen = failed & only if only else failed
    if not chosen:
        raise UsageError(f"--last-failed {args.last_failed}: none of the checks that failed there is in --only")
    return chosen, args.seed if args.seed is not None else int(report["seed"])


def _numbers(args: argparse.Namespace) -> None:
    """Every number checked at the door: finite and in range (nan and inf are not durations)."""
    if not 1 <= args.workers <= 16:
        raise UsageError("--workers must be between 1 and 16")
    if not (math.isfinite(args.sweep_age) and args.sweep_age >= 0):
        raise UsageError(f"--sweep-age must be a finite number of seconds, 0 or more, got {args.sweep_age}")
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= 3600):
        raise UsageError(f"--timeout must be a number of seconds above 0 and at most 3600, got {args.timeout}")
    if not 0 < args.budget_requests <= 1_000_000:
        raise UsageError(f"--budget-requests must be between 1 and 1000000, got {args.budget_requests}")
    if not (math.isfinite(args.wait_for) and 0 <= args.wait_for <= 3600):
        raise UsageError(f"--wait-for must be a number of seconds from 0 to 3600, got {args.wait_for}")
    if not 0 <= args.max_examples <= 10_000:
        raise UsageError(f"--max-examples must be between 0 and 10000, got {args.max_examples}")


def writable(directory: Path) -> None:
    """The report directory and its four files are proven writable before a single request, so a
    whole run is never spent to find its results cannot be kept."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--report-dir {directory} is a file, not a folder; name a folder for the reports")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--report-dir {directory}: cannot create it: {exc.strerror or exc}") from exc
    for name in ("conformance.json", *DEFAULT_NAMES.values()):
        path = directory / name
        if path.is_dir():
            raise UsageError(f"--report-dir {directory}: {name} there is a directory; the report cannot be written")
        existed = path.exists()
        try:
            with path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise UsageError(f"--report-dir {directory}: cannot write {name}: {exc.strerror or exc}") from exc
        if not existed:
            path.unlink()


def options_of(args: argparse.Namespace) -> Options:
    """The command line, the profile and the environment, read once into the run's one frozen
    configuration; everything wrong with them is a UsageError here, before a request is sent or the
    report directory is touched."""
    from assistants_conformance.runner import Options, selected

    _numbers(args)
    only, seed = _last_failed(args, _ids(args.only, "--only"))
    base_url = _base_url(args)
    proxy, verify, transport_lines = _transport(args, base_url)
    options = Options(
        base_url=base_url or BaseURL(_REFERENCE),
        api_key=None if base_url is None else _key(args),
        headers=_headers(args.header),
        query=_query(args.query),
        auth_header=_auth_header(args.auth_header),
        sweep=args.sweep,
        sweep_age=args.sweep_age,
        model=args.model,
        only=only,
        skip=_ids(args.skip, "--skip"),
        seed=seed,
        max_examples=args.max_examples,
        timeout=args.timeout,
        budget_requests=args.budget_requests,
        workers=args.workers,
        wait_for=args.wait_for,
        profile=load_profile(args.profile) if args.profile else Profile(),
        proxy=proxy,
        verify=verify,
        transport=tuple(transport_lines),
    )
    if not selected(options):
        raise UsageError(
            "no check is selected (--only/--skip leave nothing, or --max-examples 0 turned off the property "
            "phase that decides them); a run that decides nothing cannot be conformant"
        )
    return options


def run_command(args: argparse.Namespace, out: TextIO) -> int:
    from assistants_conformance.runner import run  # the run's imports, not --help's

    given = options_of(args)
    fault = _fault(args)
    writable(args.report_dir)
    entries = load_baseline(args.baseline) if args.baseline else None
    # Signals end the run alike, and never cut the reports short (stopping.py).
    with Stop() as stop, _reference(given, args.reference, fault) as options:
        if not args.quiet:
            print(f"checking {options.base_url}{on_purpose(fault)} …", file=out, flush=True)
            for line in options.transport:
                print(f"  {line}", file=out, flush=True)
        progress = for_terminal(out, quiet=args.quiet)
        try:
            result = run(dataclasses.replace(options, progress=progress, stop=stop))
        finally:
            if progress is not None:
                progress.close()
        gate = None
        if entries is not None:
            gate, result = apply(result, entries, str(args.baseline))
        hidden = secrets_of("", options.api_key, (*options.headers.values(), *options.base_url.secrets))
        written = write_json(result, args.report_dir, secrets=hidden)
    form = json.loads(written.read_text(encoding="utf-8"))  # the report as written, secrets scrubbed
    summarise(result, written, out, gate, quiet=args.quiet, form=form)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from assistants_conformance.reporting.annotations import workflow_commands

        for line in workflow_commands(form):
            print(line, file=out)
    if args.write_baseline:
        count = write_baseline(result, args.write_baseline)
        print(f"baseline: {count} finding(s) written to {args.write_baseline}", file=out)
    if gate is None or (result.verdict is Verdict.INCOMPLETE and not gate.new):
        return EXIT[result.verdict]
    return 0 if gate.passed else 1


def write_json(result: RunResult, directory: Path, *, secrets: Iterable[str]) -> Path:
    """conformance.json and its three views; every secret (the key, URL userinfo, --header values)
    is scrubbed from each file's text as a last line of defence behind the Target's redaction."""
    secrets = list(secrets)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--report-dir {directory} is a file, not a folder; name a folder for the reports")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    text = scrub(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), secrets)
    target = directory / "conformance.json"
    target.write_text(text, encoding="utf-8")
    views = {kind: directory / name for kind, name in DEFAULT_NAMES.items()}
    write_views(json.loads(text), views, secrets=secrets)
    return target


def _client_lines(result: RunResult, out: TextIO, paint: Paint) -> None:
    """Watched traffic: what the client's own requests broke, apart from the server's verdict."""
    broken = [c for c in result.client if c.outcome in (Outcome.FAILED, Outcome.WARNED)]
    judged = sum(1 for c in result.client if c.evidence)
    if not broken:
        print(f"  client: its requests broke no rule of the contract ({judged} rule(s) judged)", file=out)
        return
    print(f"  client (not counted against the server): {len(broken)} rule(s) broken", file=out)
    for check in broken:
        label = paint(f"{check.outcome.value.upper():8}", "red" if check.outcome is Outcome.FAILED else "yellow")
        print(f"    {label} {check.id}: {clip(printable(check.findings[0].message), MESSAGE_WIDTH)}", file=out)


MESSAGE_WIDTH = 150  # a finding's message on the terminal: the whole one is in the reports
_COLOURS = {"FAILED": "red", "ERRORED": "red", "WARNED": "yellow", "ACCEPTED": "dim"}


def _check_lines(result: RunResult, form: dict[str, Any], out: TextIO, paint: Paint) -> None:
    """One line per failing check; checks that share one cause under one FIX line naming them
    (read from the report's JSON form `form`, as every other view of the report is)."""
    from assistants_conformance.reporting.causes import shared_causes

    grouped: set[str] = set()
    for cause in shared_causes(form):
        fresh = [c for c in cause.checks if c not in grouped]
        if len(fresh) < 2:
            continue
        grouped.update(fresh)
        print(f"  {paint('FIX     ', 'red', 'bold')} {printable(cause.text)}", file=out)
        print(f"           fails {len(fresh)} checks: {', '.join(fresh)}", file=out)
    for check in result.checks:
        if check.outcome in (Outcome.FAILED, Outcome.ERRORED, Outcome.WARNED) and check.id not in grouped:
            errors = [f for f in check.findings if f.severity == "error"]
            pending = [f for f in errors if f.accepted is None]
            label = "ACCEPTED" if errors and not pending else check.outcome.value.upper()
            shown = (pending or check.findings)[0].message if check.findings else check.reason
            print(
                f"  {paint(f'{label:8}', _COLOURS[label])} {check.id}: {clip(printable(shown), MESSAGE_WIDTH)}",
                file=out,
            )


def _resource_lines(result: RunResult, out: TextIO) -> None:
    leaked = result.resources.get("leaked") or []
    print(
        f"  resources: {result.resources.get('created', 0)} created, {result.resources.get('deleted', 0)} "
        "deleted (read back)"
        + (
            f", {len(leaked)} LEFT BEHIND (tagged {TAG}={result.resources.get('tag', {}).get(TAG, '?')}):"
            if leaked
            else ""
        ),
        file=out,
    )
    for line in leaked[:10]:
        print(f"    {printable(line)}", file=out)
    unverified = result.resources.get("unverified") or []
    if unverified:
        print(f"  {len(unverified)} deletion(s) could not be verified by reading back:", file=out)
        for line in unverified[:10]:
            print(f"    {printable(line)}", file=out)
    swept = result.resources.get("swept") or []
    if swept:
        print(f"  --sweep deleted {len(swept)} assistant(s) earlier runs left:", file=out)
        for line in swept[:20]:
            print(f"    {printable(line)}", file=out)


def summarise(
    result: RunResult,
    report: Path,
    out: TextIO,
    gate: Gate | None = None,
    *,
    quiet: bool = False,
    form: dict[str, Any] | None = None,
) -> None:
    """The run in a few lines; with a baseline the gate's decision leads the closing lines, and a
    check failing only with accepted findings says ACCEPTED, not FAILED. `quiet`: the verdict line
    alone (and the gate's). `form`: the report's JSON form, when the caller has read it already."""
    paint = Paint(colour_wanted(out))
    counts = result.counts()
    if not quiet:
        print("", file=out)
        by_level = Counter((c.level, c.outcome.value) for c in result.checks)
        for level in ("MUST", "SHOULD", "MAY"):
            row = ", ".join(f"{n} {o}" for (lv, o), n in sorted(by_level.items()) if lv == level)
            if row:
                print(f"  {level:<6} {row}", file=out)
        failing = Counter(c.category for c in result.checks if c.outcome in (Outcome.FAILED, Outcome.ERRORED))
        if failing:
            print("  failing by category: " + ", ".join(f"{k} {v}" for k, v in failing.most_common()), file=out)
        _check_lines(result, form if form is not None else result.to_dict(), out, paint)
        slow = sorted(result.coverage.get("timings_ms", {}).items(), key=lambda kv: -kv[1])[:3]
        if slow:
            print("  slowest operations (median): " + ", ".join(f"{op} {ms:.0f} ms" for op, ms in slow), file=out)
        if result.scope == "observed":
            _client_lines(result, out, paint)
        else:
            _resource_lines(result, out)
        print("", file=out)
    if gate is not None:
        print(
            paint(f"GATE {'PASSED' if gate.passed else 'FAILED'}", "green" if gate.passed else "red", "bold")
            + f" ({gate.file}): {gate.summary()}",
            file=out,
        )
        if not quiet:
            for line in gate.new[:10]:
                print(f"  NEW    {clip(printable(line), 200)}", file=out)
            for line in gate.fixed[:10]:
                print(f"  FIXED  {clip(printable(line), 200)} (remove it from the baseline)", file=out)
            for line in gate.expired[:10]:
                print(f"  EXPIRED {clip(printable(line), 200)} (it excuses nothing now)", file=out)
    accepted = " (only where the baseline accepts it)" if gate is not None and gate.passed else ""
    colour = {Verdict.CONFORMANT: "green", Verdict.NON_CONFORMANT: "red", Verdict.INCOMPLETE: "yellow"}[result.verdict]
    print(
        paint(f"{result.verdict.value.upper()}{accepted}", colour, "bold") + f": {printable(result.verdict_reason)}",
        file=out,
    )
    if quiet:
        sys.stdout.flush()
        return
    print(
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['warned']} warned, {counts['skipped']} "
        f"skipped, {counts['errored']} errored; {result.coverage.get('requests', 0)} requests in "
        f"{result.duration_s:.1f} s",
        file=out,
    )
    print(f"reports: {report} (+ {', '.join(DEFAULT_NAMES.values())} beside it)", file=out)
    failed = [c.id for c in result.checks if c.outcome is Outcome.FAILED]
    if failed and result.scope != "observed":
        print(f"after a fix: assistants-conformance reproduce {report} {failed[0]}", file=out)
        if len(failed) > 1:
            print(f"  (all {len(failed)}: assistants-conformance run … --last-failed {report})", file=out)
    sys.stdout.flush()

"""`assistants-conformance reproduce REPORT CHECK-ID`: is this defect still there?

The run that found it deleted what it created, so the failing request cannot simply be sent
again. The check's own scenario is run once more, alone (with the report's seed): it creates
what the exchange needs afresh (the assistant, the thread, the run…), sends the same requests,
judges them with the same code, and cleans up. Exit 1 when the defect is still there, 0 when it
is gone, 3 when it could not be judged; the exchange is printed with a self-contained script
that repeats it by hand."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistants_conformance.errors import TargetUnreachable, UsageError
from assistants_conformance.terminal import clip, printable

if TYPE_CHECKING:
    from assistants_conformance.results import RunResult

EXCERPT = 600  # characters of the answer's body shown on the terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", type=Path, help="a conformance.json written by `run`")
    parser.add_argument("check", help="the ID of a check that failed there, e.g. STREAM-FOLD-001")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--base-url", help="the server to ask (default: the report's target)")
    where.add_argument("--reference", action="store_true", help="ask a bundled reference server started for it")
    parser.add_argument("--fault", metavar="NAME", help="with --reference: serve that named defect")
    parser.add_argument("--api-key", help="the key (default: $ASSISTANTS_API_KEY, then $OPENAI_API_KEY)")
    parser.add_argument("--header", action="append", default=[], metavar="'Name: value'", help="as for `run`")
    parser.add_argument("--auth-header", metavar="NAME", help="as for `run`")
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, in seconds (default: 30)")


def run_reproduce(args: argparse.Namespace, out: TextIO) -> int:
    from assistants_conformance.commands.run import _auth_header, _fault, _headers, _key, _reference, on_purpose
    from assistants_conformance.reporting import load_report
    from assistants_conformance.runner import Options, run
    from assistants_conformance.stopping import Stop
    from assistants_conformance.target import BaseURL

    path = args.report
    report = load_report(path)
    wanted = args.check.strip().upper()
    before = next((c for c in report["checks"] if c["id"] == wanted), None)
    if before is None:
        failed = [c["id"] for c in report["checks"] if c["outcome"] in ("failed", "errored")]
        raise UsageError(
            f"{path} judged no check {args.check!r}"
            + (f"; these failed there: {', '.join(failed)}" if failed else "; no check failed there")
        )
    fault = _fault(args)
    try:
        base_url = BaseURL.parse(args.base_url or report["target"])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 0 < args.timeout <= 3600:
        raise UsageError(f"--timeout must be a number of seconds above 0 and at most 3600, got {args.timeout}")
    options = Options(
        base_url=base_url,
        api_key=_key(args),
        headers=_headers(args.header),
        auth_header=_auth_header(args.auth_header),
        only=frozenset({wanted}),
        seed=int(report.get("seed", 0)),
        timeout=args.timeout,
    )
    print(f"{wanted} in {path}: {before['outcome']}" + _first(before), file=out)
    try:
        with Stop() as stop, _reference(options, args.reference, fault) as asked:
            print(f"judging it again against {asked.base_url}{on_purpose(fault)} …", file=out, flush=True)
            result = run(dataclasses.replace(asked, stop=stop))
    except TargetUnreachable as exc:
        if args.base_url or args.reference:
            raise
        raise type(exc)(f"{exc} (that is the report's target; --base-url asks another server)") from None
    return _said(result, wanted, out)


def _first(check: dict[str, Any]) -> str:
    findings = check.get("findings") or []
    return f": {clip(printable(findings[0]['message']), 200)}" if findings else ""


def _said(result: RunResult, wanted: str, out: TextIO) -> int:
    from assistants_conformance.reporting.render import reproduction
    from assistants_conformance.results import Outcome

    now = next((c for c in result.checks if c.id == wanted), None)
    left = result.resources.get("leaked") or []
    if left:
        print(f"  {len(left)} object(s) could not be deleted: {', '.join(left[:5])}", file=out)
    if now is None or now.outcome in (Outcome.SKIPPED, Outcome.ERRORED):
        reason = now.reason if now is not None else result.verdict_reason
        print(f"COULD NOT JUDGE {wanted}: {printable(reason)}", file=out)
        return 3
    if now.outcome is Outcome.PASSED:
        judged = ", ".join(f"{op} x{n}" for op, n in now.evidence.items())
        print(f"FIXED: {wanted} passes now (judged on {clip(judged, 160)})", file=out)
        return 0
    finding = now.findings[0]
    said = "STILL FAILS" if now.outcome is Outcome.FAILED else "STILL WARNS"
    print(f"{said}: {wanted}: {printable(finding.message)}", file=out)
    if finding.exchange is not None:
        exchanges = result.to_dict()["exchanges"]
        shown = exchanges[finding.exchange]
        status = shown["status"] if shown["status"] is not None else shown["error"]
        print(f"  {shown['method']} {printable(shown['url'])} → {status}", file=out)
        if shown["request_body"]:
            print(f"  sent: {clip(printable(shown['request_body']), EXCERPT)}", file=out)
        print(f"  answered: {clip(printable(shown['response_body']), EXCERPT)}", file=out)
        print("  by hand (the key is read from $ASSISTANTS_API_KEY):", file=out)
        for line in reproduction(exchanges, finding.exchange).splitlines():
            print(f"    {printable(line)}", file=out)
    return 1

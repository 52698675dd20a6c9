"""The options of `run`: kept apart from the run itself so that `--help` and argument errors cost
no more than argparse (the run's modules load Schemathesis, jsonschema and httpx)."""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """exit codes:
  0  conformant: every selected MUST check passed on evidence
  1  non-conformant: a MUST check failed (or, with --baseline, a new failure or a stale entry)
  2  usage error: a bad option or file, before any request
  3  target unreachable, no Assistants API at the URL, API key refused, or the run incomplete
  4  internal error of this tool (never a verdict on the server; details saved to a file)

examples:
  assistants-conformance run --reference
  assistants-conformance run --reference --fault deltas-do-not-add-up     # a failing report, in one command
  assistants-conformance run --base-url http://127.0.0.1:8080/v1 --wait-for 30 --only 'STREAM-*,pagination'
  assistants-conformance run --base-url http://127.0.0.1:8080/v1 --last-failed reports/conformance.json
  ASSISTANTS_API_KEY=sk-... assistants-conformance run --base-url https://gateway.example/v1
  assistants-conformance run --base-url http://127.0.0.1:8080/v1 --baseline accepted.yaml --report-dir reports
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Check an Assistants API v2 server: scenarios, then a property phase of generated requests; every "
        "answer and stream judged against the contract. Writes conformance.json, .html, junit.xml and summary.md."
    )
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--base-url", help="the server's API root as given, e.g. https://host/v1 (/v1 below a bare host is found)"
    )
    where.add_argument("--reference", action="store_true", help="start and check the bundled reference server")
    parser.add_argument("--api-key", help="the key (default: $ASSISTANTS_API_KEY, then $OPENAI_API_KEY)")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="sent with every request (repeatable); values are redacted in reports",
    )
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="query parameter added to every request of every phase, e.g. api-version=2024-05-01 (repeatable)",
    )
    parser.add_argument(
        "--auth-header",
        metavar="NAME",
        help="send the key as `NAME: <key>` instead of `Authorization: Bearer <key>` (e.g. api-key)",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also delete assistants this tool tagged in earlier runs older than --sweep-age (default: off)",
    )
    parser.add_argument(
        "--sweep-age", type=float, default=3600.0, metavar="SECONDS", help="age for --sweep (default: 3600)"
    )
    parser.add_argument(
        "--model",
        default=None,
        help="model the created assistants name (default: the --profile's [run] model, else gpt-4o-mini)",
    )
    parser.add_argument(
        "--fault",
        metavar="NAME",
        help="with --reference: serve that named defect (`serve --list-faults`), to see a failing report",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated check IDs, glob patterns ('STREAM-*') or categories (stream, pagination) to run "
        "(default: all)",
    )
    parser.add_argument("--skip", default="", help="the same kinds of words, for checks to leave out (default: none)")
    parser.add_argument(
        "--last-failed",
        type=Path,
        metavar="REPORT",
        help="judge only the checks that failed in that conformance.json (and what they need)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the property phase (default: 0; with --last-failed, that run's)"
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=10,
        help="generated requests per operation and mode (default: 10; 0 turns the property phase off)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="per request, in seconds, total not idle (default: 30)"
    )
    parser.add_argument(
        "--budget-requests", type=int, default=2000, help="most requests the run may send (default: 2000)"
    )
    parser.add_argument(
        "--report-dir", type=Path, default=Path("reports"), help="where the four reports go (default: reports)"
    )
    parser.add_argument("--profile", type=Path, help="TOML or YAML: the capabilities the target claims (default: all)")
    parser.add_argument("--workers", type=int, default=1, help="scenarios run in parallel, 1-16 (default: 1)")
    parser.add_argument(
        "--quiet", action="store_true", help="print the verdict line alone (and the gate's, with --baseline)"
    )
    parser.add_argument(
        "--wait-for",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to this long for the target to answer at all, e.g. a server still starting (default: 0)",
    )
    parser.add_argument(
        "--no-proxy",
        action="store_true",
        help="go to the target directly, not through HTTPS_PROXY/HTTP_PROXY/ALL_PROXY (default: as the environment "
        "says; the bundled server is never reached through a proxy)",
    )
    parser.add_argument(
        "--ca-cert", type=Path, metavar="FILE", help="PEM file of the CA that signed the target's certificate"
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the target's TLS certificate (marked in every report; default: verify)",
    )
    parser.add_argument("--baseline", type=Path, help="YAML of accepted findings: gate on regressions only")
    parser.add_argument("--write-baseline", type=Path, help="write the current failures as a baseline")

"""Command line: parse, dispatch to a command module, turn outcomes into exit codes.

Exit codes: 0 conformant / ok, 1 non-conformant, 2 usage or spec error, 3 target unreachable
or run incomplete, 4 internal error of the tool (never a verdict on the server). Tool errors
print one readable line, never a traceback; an internal error saves its traceback to a file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from assistants_conformance import __version__
from assistants_conformance.errors import ConformanceToolError


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our usage code (2) and a one-line hint."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


class _Version(argparse.Action):
    """The version names the contract too: two installs of one version with different contracts
    (an edited checkout) judge differently, and a report carries the same hash (`spec_sha256`)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        import hashlib

        from assistants_conformance.contract.document import spec_path

        path = spec_path()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"assistants-conformance {__version__}\ncontract {path.name} sha256:{digest}")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="assistants-conformance",
        description="Check a server against the OpenAI Assistants API v2 contract.",
        epilog="exit codes: 0 conformant/ok, 1 non-conformant, 2 usage error, 3 target unreachable, no API, key "
        "refused or run incomplete, 4 internal error of the tool (details saved to a file)",
    )
    parser.add_argument(
        "--version", action=_Version, nargs=0, help="print the version and the bundled contract's SHA-256, and exit"
    )
    parser.add_argument("--debug", action="store_true", help="print the traceback of an internal error too")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    spec = commands.add_parser("spec", help="print the path of the bundled contract")
    spec.add_argument("--check", action="store_true", help="also validate the document")
    spec.add_argument("--file", type=Path, help="check this document instead of the bundled one")

    from assistants_conformance.commands.run_arguments import add_arguments

    add_arguments(commands.add_parser("run", help="check a server against the contract and write reports"))
    from assistants_conformance.commands.reproduce import add_arguments as reproduce_arguments

    reproduce_arguments(
        commands.add_parser(
            "reproduce",
            help="judge one failed check of a report again: exit 1 if the defect is still there, 0 if gone",
        )
    )
    report = commands.add_parser("report", help="re-render a saved report, or print its JSON Schema")
    report.add_argument("file", nargs="?", type=Path, help="a conformance.json written by `run`")
    report.add_argument("--html", type=Path, help="write the HTML report here")
    report.add_argument("--junit", type=Path, help="write JUnit XML here")
    report.add_argument("--markdown", type=Path, help="write the Markdown summary here")
    report.add_argument("--schema", action="store_true", help="print the report's JSON Schema")

    compare = commands.add_parser("compare", help="several reports side by side (checks x implementations)")
    compare.add_argument("files", nargs="+", type=Path, help="conformance.json files; the first is the baseline run")
    compare.add_argument("--html", type=Path, help="write the side-by-side HTML here")
    compare.add_argument("--markdown", type=Path, help="write the Markdown table here (default: print it)")
    compare.add_argument(
        "--label",
        action="append",
        default=[],
        help="a column's name, once per file in order (default: each report's target URL)",
    )
    compare.add_argument(
        "--changed", action="store_true", help="only the checks whose outcome differs between the reports"
    )

    checks = commands.add_parser("checks", help="print the check catalogue")
    checks.add_argument("--format", choices=["markdown", "json"], default="markdown", help="default: markdown")

    stream = commands.add_parser("validate-stream", help="check a captured SSE transcript offline")
    stream.add_argument("file", help="the raw text/event-stream body, or - for standard input")
    stream.add_argument(
        "--operation",
        help="the operation that produced it (createRun, createThreadAndRun, submitToolOutputsToRun, also "
        "spelt as the vendor does: submitToolOuputsToRun); enables the rules that depend on it",
    )

    har = commands.add_parser("validate-har", help="check every Assistants exchange in a HAR file")
    har.add_argument("file", help="a HAR file exported from a browser, proxy or SDK log")
    har.add_argument(
        "--report-dir", type=Path, help="also write the reports (JSON, HTML, JUnit, summary) of what it judged here"
    )

    detection = commands.add_parser("detection", help="the faulty servers met by this suite and by plain Schemathesis")
    detection.add_argument("--faults", default="all", help="comma-separated fault names, or none (default: all)")
    detection.add_argument(
        "--vendor-spec", type=Path, help="the vendor's published OpenAPI document, for a plain-Schemathesis column"
    )
    detection.add_argument("--skip-schemathesis", action="store_true", help="only this suite's column")
    detection.add_argument(
        "--remeasure",
        action="store_true",
        help="run Schemathesis for every cell, even those an earlier run measured with the same servers, "
        "document, seed and budget (kept under ~/.cache/assistants-conformance/detection; default: reuse them)",
    )
    detection.add_argument("--seed", type=int, default=0, help="seed for every detector (default: 0)")
    detection.add_argument(
        "--max-examples", type=int, default=10, help="for our property phase and Schemathesis (default: 10)"
    )
    detection.add_argument(
        "--jobs",
        type=int,
        default=3,
        help="runs at once, each in a process of its own (default: 3; a run waits on its server about half the "
        "time, so one more than two cores keeps both busy)",
    )
    detection.add_argument(
        "--mutants",
        action="store_true",
        help="also run the mutants derived from the contract and report the mutation score (default: off)",
    )
    detection.add_argument(
        "--mutants-sample",
        type=int,
        metavar="N",
        help="run a stratified sample of N mutants per operator instead of all (default: all, about 3000)",
    )
    detection.add_argument(
        "--report-dir", type=Path, default=Path("reports"), help="where detection.json/.html go (default: reports)"
    )
    from assistants_conformance.commands.proxy_arguments import add_arguments as proxy_arguments

    proxy_arguments(
        commands.add_parser(
            "proxy", help="judge a real client's traffic live: forward it unchanged, check every answer"
        )
    )
    serve = commands.add_parser("serve", help="run the bundled reference server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    serve.add_argument("--db", type=Path, help="SQLite file; default: in memory")
    serve.add_argument(
        "--api-key", help="bearer key to require (default: $ASSISTANTS_API_KEY, else sk-reference-local)"
    )
    serve.add_argument("--fault", help="inject one named contract defect (see --list-faults)")
    serve.add_argument("--list-faults", action="store_true", help="list the named faults and exit")
    serve.add_argument("--stream-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    return parser


INTERNAL_ERROR = 4
BROKEN_PIPE = 141  # what a shell reports for a writer whose reader went away (128 + SIGPIPE)


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    # Hypothesis keeps its own files (character tables, constants) in ./.hypothesis unless told
    # otherwise: a run writes nothing into the current directory but --report-dir.
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(_cache_directory("hypothesis")))
    try:
        return _dispatch(args, out)
    except BrokenPipeError:
        # `checks | head`: the reader is gone; end quietly (and keep Python from complaining at exit).
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except Exception as exc:  # a bug of ours: its own exit code, never a verdict on the server
        saved = _save_traceback(exc, args)
        print(
            f"assistants-conformance: internal error: {exc.__class__.__name__}: {_secretless(str(exc), args)[:200]}"
            f"; details in {saved}",
            file=sys.stderr,
        )
        if getattr(args, "debug", False):
            print(_secretless(traceback.format_exc(), args), file=sys.stderr)
        return INTERNAL_ERROR


def _cache_directory(kind: str) -> Path:
    from assistants_conformance.cache import directory

    return directory(kind)


def _secretless(text: str, args: argparse.Namespace) -> str:
    """What a crash report may show: every secret the command line or environment gave is scrubbed."""
    from assistants_conformance.results import scrub, secrets_of

    headers = [str(h).partition(":")[2].strip() for h in getattr(args, "header", None) or []]
    keys = [getattr(args, "api_key", None), os.environ.get("ASSISTANTS_API_KEY"), os.environ.get("OPENAI_API_KEY")]
    secrets = secrets_of(str(getattr(args, "base_url", None) or ""), None, [k for k in keys if k] + headers)
    return scrub(text, secrets)


def _save_traceback(exc: BaseException, args: argparse.Namespace) -> str:
    """The whole traceback, secrets redacted, in a file a bug report can attach."""
    name = f"assistants-conformance-internal-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    path = os.path.join(tempfile.gettempdir(), name)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"assistants-conformance {__version__}, command {args.command!r}\n")
            handle.write(_secretless("".join(traceback.format_exception(exc)), args))
    except OSError as failed:
        return f"(could not be saved: {failed.strerror or failed})"
    return path


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    try:
        if args.command == "spec":
            from assistants_conformance.commands.spec import run_spec

            return run_spec(args.file, check=args.check, out=out)
        if args.command == "run":
            from assistants_conformance.commands.run import run_command

            return run_command(args, out)
        if args.command == "reproduce":
            from assistants_conformance.commands.reproduce import run_reproduce

            return run_reproduce(args, out)
        if args.command == "report":
            from assistants_conformance.commands.report import run_report

            return run_report(
                args.file, html=args.html, junit=args.junit, markdown=args.markdown, show_schema=args.schema, out=out
            )
        if args.command == "compare":
            from assistants_conformance.commands.report import run_compare

            return run_compare(
                args.files, html=args.html, markdown=args.markdown, labels=args.label, changed=args.changed, out=out
            )
        if args.command == "checks":
            from assistants_conformance.commands.checks import run_checks

            return run_checks(args.format, out)
        if args.command == "validate-stream":
            from assistants_conformance.commands.validate import run_validate_stream

            return run_validate_stream(args.file, args.operation, out)
        if args.command == "proxy":
            from assistants_conformance.commands.proxy import run_proxy

            return run_proxy(args, out)
        if args.command == "validate-har":
            from assistants_conformance.commands.validate import run_validate_har

            return run_validate_har(args.file, out, args.report_dir)
        if args.command == "detection":
            from assistants_conformance.commands.detection import run_detection

            return run_detection(args, out=out)
        if args.command == "serve":
            from assistants_conformance.reference.serve import run_serve

            return run_serve(args, out=out)
    except ConformanceToolError as exc:
        print(f"assistants-conformance: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("assistants-conformance: interrupted", file=sys.stderr)
        return 130
    raise AssertionError(f"unhandled command {args.command!r}")  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

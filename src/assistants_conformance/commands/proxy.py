"""`assistants-conformance proxy`: stand between a real client and an Assistants server, pass
every exchange on unchanged, judge it beside the traffic, and write the usual reports on Ctrl-C,
SIGTERM, and every --report-every seconds. Exit 0/1/3 as a run's verdict, as far as observed."""

from __future__ import annotations

import argparse
import ipaddress
import math
import signal
import ssl
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from assistants_conformance.commands.run import EXIT, summarise, writable, write_json
from assistants_conformance.errors import UsageError
from assistants_conformance.target import BaseURL, redact_userinfo
from assistants_conformance.terminal import printable

if TYPE_CHECKING:
    from assistants_conformance.proxy import Proxy

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _checked(args: argparse.Namespace) -> tuple[BaseURL, ssl.SSLContext | bool]:
    try:
        upstream = BaseURL.parse(args.upstream)
    except ValueError as exc:
        raise UsageError(str(exc).replace("--base-url", "--upstream")) from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    if args.report_every is not None and not (math.isfinite(args.report_every) and args.report_every >= 1):
        raise UsageError(f"--report-every must be a number of seconds, 1 or more, got {args.report_every}")
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= 3600):
        raise UsageError(f"--timeout must be a number of seconds above 0 and at most 3600, got {args.timeout}")
    if args.insecure and args.ca_cert:
        raise UsageError("--insecure and --ca-cert contradict each other: give one")
    verify: ssl.SSLContext | bool = not args.insecure
    if args.ca_cert:
        try:
            verify = ssl.create_default_context(cafile=str(args.ca_cert))
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--ca-cert {args.ca_cert}: not a readable PEM file of certificates ({exc})") from None
    if args.har is not None:
        if args.har.is_dir():
            raise UsageError(f"--har {args.har} is a folder; name a file")
        try:
            args.har.parent.mkdir(parents=True, exist_ok=True)
            args.har.open("a").close()
        except OSError as exc:
            raise UsageError(f"--har {args.har}: cannot write it: {exc.strerror or exc}") from None
    writable(args.report_dir)
    return upstream, verify


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run_proxy(args: argparse.Namespace, out: TextIO) -> int:
    from assistants_conformance.proxy import Proxy, write_log  # the proxy's imports, not --help's

    upstream, verify = _checked(args)
    log = write_log(sys.stderr)
    try:
        proxy = Proxy.make(
            upstream, host=args.host, port=args.port, har=args.har, timeout=args.timeout, verify=verify, log=log
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    received: list[str] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        # uvicorn puts its own handlers in place while serving and raises the signal again once it
        # has stopped: then this one runs, and finds nothing more to stop.
        received.append(signal.Signals(signum).name)
        proxy.server.should_exit = True

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)
    print(f"proxy: {proxy.url} → {redact_userinfo(args.upstream)}", file=out)
    print(f"  point the client's base URL at {proxy.url} (its key passes through; no report shows it)", file=out)
    if not _loopback(args.host):
        print(
            f"  WARNING: listening on {args.host}, not loopback: anyone who can reach this port sends through it",
            file=out,
        )
    every = f" and every {args.report_every:g} s" if args.report_every else ""
    print(f"  reports: {args.report_dir}/ on Ctrl-C or SIGTERM{every}", file=out)
    if args.har:
        print(f"  recording the session to {args.har}", file=out)
    out.flush()
    ticker = _Ticker(proxy, args.report_dir, args.report_every) if args.report_every else None
    try:
        proxy.serve()
    finally:
        if ticker is not None:
            ticker.stop()
    result = proxy.finish()
    hidden = proxy.traffic.secrets()
    written = write_json(result, args.report_dir, secrets=hidden)
    print(f"proxy: stopped ({received[0] if received else 'the server stopped'})", file=out)
    summarise(result, written, out)
    if args.har:
        print(f"session recorded: {args.har} ({proxy.judge.har.entries if proxy.judge.har else 0} exchanges)", file=out)
    return EXIT[result.verdict]


class _Ticker:
    """Writes the reports every `seconds` while the proxy serves; each report is made in the
    judging thread, between exchanges, so it is the state after whole exchanges."""

    def __init__(self, proxy: Proxy, directory: Path, seconds: float) -> None:
        self.proxy = proxy
        self.directory = directory
        self.seconds = seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="proxy-reports", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.wait(self.seconds):
            try:
                result = self.proxy.report()
                write_json(result, self.directory, secrets=self.proxy.traffic.secrets())
            except Exception as exc:  # a report that could not be written now is tried again next time
                self.proxy.judge.log(printable(f"the reports could not be written: {exc}"[:300]))

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

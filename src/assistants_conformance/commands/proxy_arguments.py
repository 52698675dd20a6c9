"""`proxy`'s options, apart from the command, so that `--help` loads argparse and nothing heavy."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--upstream", required=True, help="the Assistants server to forward to, e.g. https://host/v1")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, loopback)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument(
        "--report-dir", type=Path, default=Path("reports"), help="where the reports go (default: reports)"
    )
    parser.add_argument(
        "--report-every", type=float, metavar="SECONDS", help="also write the reports every SECONDS while it runs"
    )
    parser.add_argument("--har", type=Path, metavar="FILE", help="record the session (redacted) as a HAR file")
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds the upstream may stay silent within one answer before it counts as cut (default: 120)",
    )
    parser.add_argument("--ca-cert", type=Path, help="verify the upstream's TLS certificate against this PEM bundle")
    parser.add_argument("--insecure", action="store_true", help="do not verify the upstream's TLS certificate")

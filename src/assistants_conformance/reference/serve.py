"""`assistants-conformance serve`: the reference server in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
from typing import TextIO

import uvicorn

from assistants_conformance.errors import UsageError
from assistants_conformance.reference.app import PREFIX, create_app
from assistants_conformance.reference.testing import DEFAULT_KEY, bind, server_config


def run_serve(args: argparse.Namespace, *, out: TextIO) -> int:
    if args.list_faults:
        from assistants_conformance.faults import FAULTS  # the lab loads only when asked for

        for spec in FAULTS.values():
            caught = ", ".join(sorted(spec.expects | spec.warns))
            print(f"{spec.name:<36} {spec.summary}  [{caught}]", file=out)
        return 0
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    if args.api_key:
        key, source = args.api_key, "--api-key"
    elif os.environ.get("ASSISTANTS_API_KEY"):
        key, source = os.environ["ASSISTANTS_API_KEY"], "$ASSISTANTS_API_KEY"
    else:
        key, source = DEFAULT_KEY, "the built-in default"
    if args.db is not None and args.db.exists() and not args.db.is_file():
        raise UsageError(f"--db {args.db} exists and is not a file")
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    try:
        app = create_app(api_key=key, db=args.db, pace=args.stream_delay)
    except sqlite3.Error as exc:
        sock.close()
        raise UsageError(f"--db {args.db}: cannot be used as the server's SQLite database ({exc})") from exc
    if args.fault:
        from assistants_conformance.faults import FAULTS, FaultyApp

        if args.fault not in FAULTS:
            raise UsageError(f"unknown --fault {args.fault!r}; `serve --list-faults` names them")
        app = FaultyApp(app, FAULTS[args.fault].make(key))
    print(f"Assistants v2 reference server listening on http://{shown}:{port}{PREFIX}", file=out)
    print(f"API key: from {source}" + (f" ({DEFAULT_KEY})" if source == "the built-in default" else ""), file=out)
    print(f"Storage: {args.db if args.db else 'in memory (lost on exit)'}", file=out)
    if args.fault:
        print(f"Fault: {args.fault} ({FAULTS[args.fault].summary}) -- this server is broken on purpose", file=out)
    out.flush()
    server = uvicorn.Server(server_config(app))
    try:
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0

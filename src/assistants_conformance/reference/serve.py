"""`assistants-conformance serve`: the reference server in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import ipaddress
import os
import signal
import sqlite3
from pathlib import Path
from typing import TextIO

import uvicorn

from assistants_conformance.errors import UsageError
from assistants_conformance.listening import bind
from assistants_conformance.reference.app import PREFIX, create_app
from assistants_conformance.reference.testing import DEFAULT_KEY, server_config


def run_serve(args: argparse.Namespace, *, out: TextIO) -> int:
    if args.list_faults:
        from assistants_conformance.lab.faults import FAULTS  # the lab loads only when asked for

        for spec in FAULTS.values():
            caught = ", ".join(sorted(spec.expects | spec.warns))
            print(f"{spec.name:<36} {spec.summary}  [{caught}]", file=out)
        return 0
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    key, source = _key(args)
    if source == "the built-in default" and not _loopback(args.host):
        raise UsageError(
            f"--host {args.host} listens beyond this machine, and the built-in key {DEFAULT_KEY} is public: "
            "give a key of your own with --api-key (or $ASSISTANTS_API_KEY)"
        )
    if args.db is not None and args.db.exists() and not args.db.is_file():
        raise UsageError(f"--db {args.db} exists and is not a file")
    held = _lock(args.db) if args.db is not None else None
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
        from assistants_conformance.lab.faults import FAULTS, FaultyApp

        if args.fault not in FAULTS:
            raise UsageError(f"unknown --fault {args.fault!r}; `serve --list-faults` names them")
        app = FaultyApp(app, FAULTS[args.fault].make(key))  # type: ignore[assignment]  # an ASGI app either way
    server = uvicorn.Server(server_config(app))
    # SIGINT, SIGTERM and SIGHUP all stop it gracefully, exit 0, whenever they come: installed
    # before it says it listens (uvicorn puts its own in place while serving, and sends the signal
    # it caught again once it has stopped: then this one finds nothing more to stop).
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda signum, frame: _stop(server))
    print(f"Assistants v2 reference server listening on http://{shown}:{port}{PREFIX}", file=out)
    print(f"API key: from {source}" + (f" ({DEFAULT_KEY})" if source == "the built-in default" else ""), file=out)
    print(f"Storage: {args.db if args.db else 'in memory (lost on exit)'}", file=out)
    if args.fault:
        print(f"Fault: {args.fault} ({FAULTS[args.fault].summary}) -- this server is broken on purpose", file=out)
    out.flush()
    try:
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        if held is not None:
            held.close()
    return 0


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _stop(server: uvicorn.Server) -> None:
    """Stop serving: uvicorn looks at this between requests, and before it starts serving."""
    server.should_exit = True


def _key(args: argparse.Namespace) -> tuple[str, str]:
    """The key and where it came from; an empty one, or one no client could send, is refused."""
    if args.api_key is not None:
        key, source = args.api_key, "--api-key"
    elif os.environ.get("ASSISTANTS_API_KEY"):
        key, source = os.environ["ASSISTANTS_API_KEY"], "$ASSISTANTS_API_KEY"
    else:
        return DEFAULT_KEY, "the built-in default"
    if not key:
        raise UsageError(f"{source} is empty: give a key, or leave it out for the built-in {DEFAULT_KEY}")
    if key != key.strip() or not key.isascii() or not key.isprintable() or " " in key:
        raise UsageError(
            f"the key from {source} has spaces, control or non-ASCII characters: HTTP headers could not carry "
            "it as it is, so no client could authenticate (the key is not shown)"
        )
    return key, source


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _lock(db: Path) -> TextIO:
    """One server per --db file: a second would expire the first one's live runs at its start.
    The lock is held (an open file) until the server stops; the second says which process holds it."""
    path = db.with_name(db.name + ".lock")
    try:
        held = path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"--db {db}: cannot be used as the server's SQLite database (its lock file {path}: {exc.strerror or exc})"
        ) from exc
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        held.seek(0)
        owner = held.read().strip() or "another process"
        held.close()
        raise UsageError(
            f"--db {db} is in use by another reference server (process {owner}); one server per file"
        ) from None
    held.seek(0)
    held.truncate()
    held.write(str(os.getpid()))
    held.flush()
    return held

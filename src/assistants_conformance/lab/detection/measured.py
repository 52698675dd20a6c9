"""Schemathesis cells measured before, kept by everything that decides them.

A plain-Schemathesis cell depends on the faulty server (the reference server, the fault catalogue
and the contract the server validates by), the document Schemathesis reads, its version, the
seed and the example budget, and on nothing of this suite's checks or scenarios. Keyed by all of
those, a cell measured once is the same measurement next time: a re-run after a change to the
checks measures only our column, and the report says which cells were taken from here.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from assistants_conformance import cache

PACKAGE = Path(__file__).resolve().parents[2]  # the assistants_conformance package
# What the faulty servers are made of (their code, the contract they validate requests by, and the
# compiled validators that judge request bodies first, which live in the contract).
SERVER_SOURCES = ("reference", "lab/faults", "contract")


def directory() -> Path:
    return cache.directory("detection")


@functools.cache
def _servers_digest() -> str:
    digest = hashlib.sha256()
    for part in SERVER_SOURCES:
        root = PACKAGE / part
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yaml", ".json"):
                digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key(document: Path, fault: str | None, *, seed: int, max_examples: int) -> str:
    parts = {
        "fault": fault or "(clean)",
        "servers": _servers_digest(),
        "document": hashlib.sha256(document.read_bytes()).hexdigest(),
        "schemathesis": metadata.version("schemathesis"),
        "hypothesis": metadata.version("hypothesis"),
        "python": sys.version.split()[0],
        "seed": seed,
        "max_examples": max_examples,
    }
    return cache.key(parts)


def load(cell_key: str) -> dict[str, Any] | None:
    data = cache.load("detection", cell_key)  # absent or unreadable: measure it again
    return data if isinstance(data, dict) and isinstance(data.get("fired"), list) else None


def store(cell_key: str, cell: dict[str, Any]) -> None:
    """A cache that cannot be written only costs the next run its time."""
    cache.store("detection", cell_key, cell)
